"""Reuse of finished components on a party: fingerprints, output digests, candidates and adoption.

A task's fingerprint hashes what decides its outputs: its module and the version of the package
implementing it, its own name and its inputs' names, the job's parties and computing engine, this
party's parameters for it and the content digests of its inputs (each upstream output as recorded
when that task succeeded on this party; a Reader's table by its stored bytes, not its name). An input
without a digest leaves the task without a fingerprint, and such a task is never reused. When a task
succeeds the worker records its fingerprint with a digest of each output; a later task with the same
fingerprint on the same party may take those outputs instead of running (every party of the job must
offer the same earlier job: the initiator decides).

Adopted outputs are hard links to the earlier run's files where the file system allows (copies where
not), so deleting the earlier job leaves them intact; models and metrics are copied.
"""

from __future__ import annotations

import functools
import json
import logging
import shutil
from collections.abc import Mapping
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

from accord import __version__
from accord.components.sdk import layout
from accord.dsl_compiler.plan import ComponentPlan, InputRef, JobPlan
from accord.errors import RecordNotFound, ReuseUnavailable
from accord.identity import Party, ReuseCandidate, task_id
from accord.model_store import ModelKey, ModelStore
from accord.persistence import (
    JobRepository,
    MetricKey,
    MetricRepository,
    TaskKey,
    TaskOutputRepository,
    TaskOutputs,
    TaskRepository,
)
from accord.site.digests import TableDigests, digest, link_file, link_tree, sha256_of, signature
from accord.status import TaskStatus
from accord.storage import TableStore
from accord.storage.model import DATA_FILE

log = logging.getLogger(__name__)

FINGERPRINT_VERSION = 2
MAX_CANDIDATES = 20
# Modules whose run does more than make its outputs (writes outside the job, reads a live source):
# taking an earlier run's outputs would skip that. None of them is installed today; a plugin may be.
NEVER_REUSED = frozenset({"Upload", "Download", "Writer", "ApiReader", "CacheLoader", "ModelLoader"})
# Modules that draw at random by design: their outputs are reused only when the draw is seeded.
# (Evaluation is reused like any other module: it is deterministic, and reusing it keeps rules simple.)
SEEDED_BY = {
    "FederatedSample": "random_state",
    "HeteroDataSplit": "random_state",
    "HomoDataSplit": "random_state",
}
MODEL = "model"
SUMMARY = "summary.json"
CHECKPOINTS = "checkpoints"


@functools.cache
def _providers() -> dict[str, str]:
    found: dict[str, str] = {}
    for point in entry_points(group="accord.components"):
        if point.dist is not None:
            found[point.name] = f"{point.dist.name}@{point.dist.version}"
    return found


def implementation_version(module: str) -> str:
    """The package and version implementing ``module`` (as ``accord provider list`` shows them)."""
    return _providers().get(module, f"accord@{__version__}")


def reusable(module: str, parameters: Mapping[str, Any]) -> bool:
    if module in NEVER_REUSED:
        return False
    seed = SEEDED_BY.get(module)
    return seed is None or parameters.get(seed) is not None


def _table_ref(parameters: Mapping[str, Any]) -> tuple[str, str] | None:
    table = parameters.get("table")
    if isinstance(table, Mapping):
        namespace, name = table.get("namespace"), table.get("name")
        if isinstance(namespace, str) and isinstance(name, str):
            return namespace, name
    return None


def _output_name(ref: InputRef) -> str:
    return MODEL if ref.kind in ("model", "isometric_model") else f"{ref.kind}:{ref.output}"


class ReuseService:
    """One site's reuse records; the worker records and adopts, the server answers probes."""

    def __init__(
        self,
        home: Path,
        *,
        jobs: JobRepository,
        tasks: TaskRepository,
        outputs: TaskOutputRepository,
        metrics: MetricRepository,
        models: ModelStore,
        tables: TableStore,
        max_candidates: int = MAX_CANDIDATES,
    ) -> None:
        self._home = home
        self._jobs = jobs
        self._tasks = tasks
        self._outputs = outputs
        self._metrics = metrics
        self._models = models
        self._tables = tables
        self._table_digests = TableDigests()
        self._max_candidates = max_candidates

    # ---- fingerprints -----------------------------------------------------------------------------

    def fingerprint(self, plan: JobPlan, key: TaskKey) -> str | None:
        """The task's fingerprint on its party, or None when it cannot be reused."""
        component = plan.component(key.component_name)
        party = plan.party(key.role, key.party_id)
        parameters = dict(party.component_parameters.get(key.component_name, {}))
        if not reusable(component.module, parameters):
            return None
        table = _table_ref(parameters)
        if table is not None:
            # The table's content stands for its name: the same data under another name is the same input.
            content = self._table_digest(*table)
            if content is None:
                return None
            parameters["table"] = {"content": content}
        inputs = []
        for ref in component.inputs:
            if not (ref.external or ref.component in party.components):
                continue  # as the SDK does: an upstream not run on this party gives no input here
            found = self._input_digest(plan, key, ref)
            if found is None:
                return None
            # Names too: outputs may carry them (Evaluation's summary is keyed by its upstream's name).
            inputs.append([ref.kind, ref.slot, ref.component, ref.output, found])
        body = {
            "version": FINGERPRINT_VERSION,
            "module": component.module,
            "component": key.component_name,
            "implementation": implementation_version(component.module),
            "mode": component.mode.value,
            "job_type": plan.job_type,
            # Never across engines: a job sent to Spark runs there (and its outputs are Spark's).
            "engine": party.job_parameters.computing_engine,
            "roles": {role: list(ids) for role, ids in plan.roles.items()},
            "party": [key.role, key.party_id],
            "parameters": parameters,
            "inputs": inputs,
            "outputs": [component.data_outputs, component.model_outputs, component.cache_outputs],
        }
        try:
            return sha256_of(body)
        except (TypeError, ValueError):
            return None

    def _table_digest(self, namespace: str, name: str) -> str | None:
        info = self._tables.find(namespace, name)
        if info is None:
            return None
        description = {"schema": info.schema, "delimiter": info.id_delimiter, "extend_sid": info.extend_sid}
        return self._table_digests.of(Path(info.address) / DATA_FILE, description)

    def _input_digest(self, plan: JobPlan, key: TaskKey, ref: InputRef) -> str | None:
        if ref.external:
            params = plan.party(key.role, key.party_id).job_parameters
            if not params.model_id or not params.model_version:
                return None
            try:
                record = self._models.records.get(
                    params.model_id, params.model_version, key.role, key.party_id, ref.component
                )
            except RecordNotFound:
                return None
            return record.checksum
        upstream = self._outputs.newest_success(key.job_id, ref.component, key.role, key.party_id)
        entry = None if upstream is None else upstream.outputs.get(_output_name(ref))
        return None if entry is None else str(entry["digest"])

    # ---- recording --------------------------------------------------------------------------------

    def record_success(self, plan: JobPlan, key: TaskKey, fingerprint: str | None) -> None:
        """Keep the task's fingerprint (taken before it ran) and a digest of each output it made."""
        component = plan.component(key.component_name)
        outputs: dict[str, Any] = {}
        for name, path in self._files(component, key.job_id, key).items():
            if path.exists():
                outputs[name] = {"digest": digest(path), "stat": signature(path)}
        # A predict job applies the deployed models and saves none of its own.
        if component.model_outputs and plan.job_type == "train":
            model = self._model_key(plan, key)
            checksum = self._model_checksum(model)
            if checksum is not None:
                outputs[MODEL] = {
                    "digest": checksum,
                    "model_id": model.model_id,
                    "model_version": model.model_version,
                }
        self._outputs.record(key, module=component.module, fingerprint=fingerprint, outputs=outputs)

    def _party_dir(self, job_id: str, key: TaskKey) -> Path:
        return layout.party_dir(self._home, job_id, key.role, key.party_id)

    def _files(self, component: ComponentPlan, job_id: str, key: TaskKey) -> dict[str, Path]:
        """The task's data and cache outputs by output name (``data:NAME``, ``cache:NAME``)."""
        party = self._party_dir(job_id, key)
        files = {f"data:{o}": layout.data_path(party, key.component_name, o) for o in component.data_outputs}
        for output in component.cache_outputs:
            files[f"cache:{output}"] = layout.cache_dir(party, key.component_name, output)
        return files

    @staticmethod
    def _model_key(plan: JobPlan, key: TaskKey) -> ModelKey:
        # As the SDK names a component's own model (ComponentContext.model_key).
        version = plan.model_version or key.job_id
        return ModelKey(plan.model_id, version, key.role, key.party_id, key.component_name)

    # ---- candidates -------------------------------------------------------------------------------

    def candidates(self, job_id: str, party: Party, component: str) -> list[ReuseCandidate]:
        """Earlier successful runs on ``party`` whose outputs ``component`` of ``job_id`` may take."""
        record = self._jobs.get(job_id, party.role, party.party_id)
        if record.plan is None:
            return []
        plan = JobPlan.model_validate(record.plan)
        if component not in plan.party(party.role, party.party_id).components:
            return []  # not a component of the job, or not one this party runs
        key = TaskKey(job_id, component, 0, party.role, party.party_id)
        fingerprint = self.fingerprint(plan, key)
        if fingerprint is None:
            return []
        found = self._outputs.matching(
            fingerprint, party.role, party.party_id, exclude_job_id=job_id, limit=self._max_candidates
        )
        return [_candidate(row) for row in found if self._intact(row)]

    def _intact(self, row: TaskOutputs) -> bool:
        """Whether every output the run made is still there as digested (cheaply: signatures, rows)."""
        party = self._party_dir(row.key.job_id, row.key)
        for name, entry in row.outputs.items():
            if name == MODEL:
                if self._model_checksum(_stored_model(row.key, entry)) != entry["digest"]:
                    return False
                continue
            kind, _, output = name.partition(":")
            path = (
                layout.data_path(party, row.key.component_name, output)
                if kind == "data"
                else layout.cache_dir(party, row.key.component_name, output)
            )
            if signature(path) != entry.get("stat"):
                return False
        return True

    def _model_checksum(self, model: ModelKey) -> str | None:
        try:
            return self._models.record(model).checksum
        except RecordNotFound:
            return None

    # ---- adoption ---------------------------------------------------------------------------------

    def adopt(self, plan: JobPlan, key: TaskKey, source: ReuseCandidate) -> None:
        """Make ``source``'s outputs this task's, checked against their digests; ReuseUnavailable if not."""
        source_key = TaskKey(source.job_id, source.component, source.task_version, key.role, key.party_id)
        recorded = self._outputs.get(source_key)
        what = f"{key.component_name} of job {key.job_id} on {key.role} {key.party_id} cannot reuse {source}"
        if recorded is None or not self._succeeded(source_key):
            raise ReuseUnavailable(
                f"{what}: no successful run of it is recorded there", hint="the job runs the task instead"
            )
        fingerprint = self.fingerprint(plan, key)
        if fingerprint is None or fingerprint != recorded.fingerprint:
            raise ReuseUnavailable(
                f"{what}: its module, parameters or inputs differ from that run's",
                hint="the job runs the task instead",
            )
        component = plan.component(key.component_name)
        source_files = self._files(component, source.job_id, source_key)
        target_files = self._files(component, key.job_id, key)
        outputs: dict[str, Any] = {}
        for name, entry in recorded.outputs.items():
            if name == MODEL:
                outputs[MODEL] = self._adopt_model(plan, key, source_key, entry, what)
                continue
            source_path, target = source_files.get(name), target_files.get(name)
            if source_path is None or target is None or not source_path.exists():
                raise ReuseUnavailable(
                    f"{what}: its output {name} is gone", hint="the job runs the task instead"
                )
            if source_path.is_dir():
                link_tree(source_path, target)
            else:
                link_file(source_path, target)
            # What was linked is what is checked: a source replaced meanwhile cannot slip through.
            if digest(target) != entry["digest"]:
                shutil.rmtree(target) if target.is_dir() else target.unlink(missing_ok=True)
                raise ReuseUnavailable(
                    f"{what}: its output {name} changed since it was recorded",
                    hint="the job runs the task instead",
                )
            outputs[name] = {"digest": entry["digest"], "stat": signature(target)}
        self._copy_records(key, source_key)
        self._outputs.record(key, module=component.module, fingerprint=fingerprint, outputs=outputs)
        self._tasks.set_reused_from(key, str(source))

    def _succeeded(self, key: TaskKey) -> bool:
        try:
            return self._tasks.get(key).party_status == TaskStatus.SUCCESS
        except RecordNotFound:
            return False

    def _adopt_model(
        self, plan: JobPlan, key: TaskKey, source: TaskKey, entry: Mapping[str, Any], what: str
    ) -> dict[str, Any]:
        try:
            record = self._models.record(_stored_model(source, entry))
            if record.checksum != entry["digest"]:
                raise ReuseUnavailable(f"{what}: its model changed since it was recorded")
            body = self._models.read_record(record)  # checked against its checksum
        except (RecordNotFound, ReuseUnavailable) as error:
            raise ReuseUnavailable(
                f"{what}: its model is gone or changed ({error})", hint="the job runs the task instead"
            ) from None
        target = self._model_key(plan, key)
        checksum = self._models.save(target, json.loads(body))
        return {"digest": checksum, "model_id": target.model_id, "model_version": target.model_version}

    def _copy_records(self, key: TaskKey, source: TaskKey) -> None:
        """The run's summary, checkpoints and metrics, so the new task answers as if it had run."""
        source_dir = layout.output_dir(self._party_dir(source.job_id, source), source.component_name)
        target_dir = layout.output_dir(self._party_dir(key.job_id, key), key.component_name)
        if (source_dir / SUMMARY).is_file():
            # Copied, not linked: a summary is rewritten in place by its task's reruns.
            target_dir.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source_dir / SUMMARY, target_dir / SUMMARY)
        checkpoints = (
            layout.task_dir(
                self._party_dir(source.job_id, source), source.component_name, source.task_version
            )
            / CHECKPOINTS
        )
        if checkpoints.is_dir():
            task_dir = layout.task_dir(self._party_dir(key.job_id, key), key.component_name, key.task_version)
            link_tree(checkpoints, task_dir / CHECKPOINTS)
        new_task_id = task_id(key.job_id, key.component_name)
        # Copied by an earlier attempt of this task: appending again would double their points.
        copied = {
            (m.key.metric_namespace, m.key.metric_name)
            for m in self._metrics.query(
                key.job_id, key.component_name, key.role, key.party_id, task_version=key.task_version
            )
        }
        for metric in self._metrics.query(
            source.job_id,
            source.component_name,
            source.role,
            source.party_id,
            task_version=source.task_version,
        ):
            target = MetricKey(
                key.job_id,
                key.component_name,
                key.role,
                key.party_id,
                key.task_version,
                metric.key.metric_namespace,
                metric.key.metric_name,
            )
            if (target.metric_namespace, target.metric_name) in copied:
                continue
            self._metrics.log(target, metric.data, metric_type=metric.metric_type, task_id=new_task_id)
            self._metrics.set_meta(target, metric.meta, metric_type=metric.metric_type, task_id=new_task_id)


def _stored_model(key: TaskKey, entry: Mapping[str, Any]) -> ModelKey:
    """The model a recorded task saved, by the model id and version recorded with its digest."""
    return ModelKey(entry["model_id"], entry["model_version"], key.role, key.party_id, key.component_name)


def _candidate(row: TaskOutputs) -> ReuseCandidate:
    return ReuseCandidate(
        job_id=row.key.job_id, component=row.key.component_name, task_version=row.key.task_version
    )
