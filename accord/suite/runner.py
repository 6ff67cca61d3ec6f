"""Runs a testsuite against sites' HTTP APIs as FATE-Test does: upload, submit, follow, collect metrics.

A task whose modules or options the site does not implement is refused at submit with code 10123 or
10127; the runner reports it as "not supported" rather than failed. A predict task (``deps``) runs with
a deployed version of the model its dependency trained: the components of its predict DSL are deployed
first, as FATE-Test does before a predict job.
"""

from __future__ import annotations

import concurrent.futures
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any, Protocol

from accord.errors import AccordError, ComponentFeatureUnsupported, ComponentNotImplemented
from accord.status import JobStatus
from accord.suite.testsuite import SuiteTask, Testsuite, Upload

POLL_S = 0.5
_ENDED = {JobStatus.SUCCESS.value, JobStatus.FAILED.value, JobStatus.CANCELED.value, JobStatus.TIMEOUT.value}
_UNSUPPORTED_CODES = {ComponentNotImplemented.code, ComponentFeatureUnsupported.code}
# What only the data shows (e.g. multi-class labels) is refused by the task, and its failure names the
# error's class, with or without its code: "HeteroLR failed: ComponentFeatureUnsupported (10127): ...".
_UNSUPPORTED_NAMES = tuple(
    f"{cls.__name__}{tail}"
    for cls in (ComponentNotImplemented, ComponentFeatureUnsupported)
    for tail in (":", f" ({cls.code}):")
)
# What the table shows of each component's metrics, by module.
KEY_METRICS = {
    "Evaluation": ("auc", "ks", "accuracy", "precision", "rmse", "r2_score"),
    "Intersection": ("intersect_count", "intersect_rate"),
}


class Outcome(StrEnum):
    SUCCESS = "success"
    FAILED = "failed"
    TIMEOUT = "timeout"
    NOT_SUPPORTED = "not supported"
    SKIPPED = "skipped"

    @property
    def is_failure(self) -> bool:
        return self in (Outcome.FAILED, Outcome.TIMEOUT)


class SiteApi(Protocol):
    """What the runner needs of a site: POST a body, get the success envelope or a coded AccordError;
    stream a local file into the table an upload conf names."""

    def call(self, path: str, body: dict[str, Any]) -> dict[str, Any]: ...

    def upload(self, conf: dict[str, Any], source: Path) -> dict[str, Any]: ...


@dataclass
class TaskResult:
    task: str
    outcome: Outcome
    job_id: str | None = None
    elapsed_s: float | None = None
    metrics: dict[str, float] = field(default_factory=dict)
    message: str = ""
    model: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "task": self.task,
            "status": self.outcome.value,
            "job_id": self.job_id,
            "elapsed_s": None if self.elapsed_s is None else round(self.elapsed_s, 3),
            "metrics": self.metrics,
            "message": self.message,
        }


@dataclass
class UploadResult:
    role: str
    namespace: str
    table_name: str
    count: int | None


class SuiteRunner:
    """``site(role)`` gives the API of the site hosting e.g. ``guest_0``; the initiator's runs the jobs."""

    def __init__(
        self,
        site: Callable[[str], SiteApi],
        *,
        timeout_s: float = 3600.0,
        parallel: int = 1,
        progress: Callable[[str], None] = lambda line: None,
    ) -> None:
        self._site = site
        self._timeout_s = timeout_s
        self._parallel = max(1, parallel)
        self._progress = progress
        self._tasks: dict[str, SuiteTask] = {}

    def upload(self, suite: Testsuite) -> list[UploadResult]:
        """Each table once per site, even when several roles of one site list it."""
        done: dict[tuple[int, str, str], UploadResult] = {}
        for upload in suite.uploads:
            api = self._site(upload.role)
            key = (id(api), *upload.table)
            if key in done:
                continue
            self._progress(f"uploading {upload.conf['file']} as {'.'.join(upload.table)} ({upload.role})")
            # The testsuite's files are on this machine: their bytes go to the site, never their path.
            reply = api.upload(upload.conf, Path(upload.conf["file"]))
            count = reply.get("data", {}).get("count") if isinstance(reply.get("data"), dict) else None
            done[key] = UploadResult(upload.role, *upload.table, count)
            self._grant(api, upload, suite)
        return list(done.values())

    def _grant(self, api: SiteApi, upload: Upload, suite: Testsuite) -> None:
        """Let the initiators of the suite's jobs read a table uploaded to another site.

        In cluster mode a site lends a table only to the parties it grants it to; whoever runs the
        suite on both sites consents for both. A standalone site needs no grant, and one on the
        initiator's own site neither.
        """
        namespace, name = upload.table
        initiators = {
            int(party)
            for task in suite.tasks
            if self._initiator(task) is not api
            and (party := (task.conf.get("initiator") or {}).get("party_id")) is not None
        }
        for party in sorted(initiators):
            self._progress(f"granting {namespace}.{name} ({upload.role}) to the initiator, party {party}")
            api.call("/v1/table/grant", {"namespace": namespace, "table_name": name, "party": str(party)})

    def run(self, suite: Testsuite) -> list[TaskResult]:
        self._tasks = {task.name: task for task in suite.tasks}
        results: dict[str, TaskResult] = {}
        finished: dict[str, threading.Event] = {task.name: threading.Event() for task in suite.tasks}

        def one(task: SuiteTask) -> None:
            try:
                if task.deps is not None:
                    finished[task.deps].wait()
                results[task.name] = self._task(task, results.get(task.deps) if task.deps else None)
            finally:
                finished[task.name].set()

        with concurrent.futures.ThreadPoolExecutor(self._parallel) as pool:
            # Dependency order: a task waits only on one placed before it, so no worker waits for ever.
            for future in [pool.submit(one, task) for task in suite.tasks]:
                future.result()
        order = {task.name: index for index, task in enumerate(suite.tasks)}
        return sorted(results.values(), key=lambda result: order[result.task])

    def _task(self, task: SuiteTask, dependency: TaskResult | None) -> TaskResult:
        if dependency is not None and dependency.outcome != Outcome.SUCCESS:
            return TaskResult(
                task.name,
                Outcome.SKIPPED,
                message=f"depends on {dependency.task}, which ended {dependency.outcome.value}",
            )
        api = self._initiator(task)
        started = time.monotonic()
        try:
            conf = self._with_model(api, task, dependency) if dependency is not None else task.conf
            submitted = api.call("/v1/job/submit", {"job_dsl": task.dsl, "job_runtime_conf": conf})
        except AccordError as error:
            return self._refused(task, error)
        job_id = str(submitted["jobId"])
        model = {key: str(value) for key, value in submitted["data"].get("model_info", {}).items()}
        self._progress(f"{task.name}: job {job_id} submitted")
        status, reason = self._follow(api, job_id)
        elapsed = time.monotonic() - started
        if status == JobStatus.SUCCESS.value:
            metrics = self._metrics(api, task, job_id)
            self._progress(f"{task.name}: success in {elapsed:.1f} s")
            return TaskResult(task.name, Outcome.SUCCESS, job_id, elapsed, metrics, model=model)
        outcome = (
            Outcome.TIMEOUT if status not in _ENDED or status == JobStatus.TIMEOUT.value else Outcome.FAILED
        )
        if outcome == Outcome.FAILED and any(name in reason for name in _UNSUPPORTED_NAMES):
            outcome = Outcome.NOT_SUPPORTED
        message = reason or f"the job ended {status}"
        if status not in _ENDED:
            message = f"still {status} after {self._timeout_s:g} s; stopped"
            # A task given up on must not hold the site's cores while the suite goes on.
            try:
                api.call("/v1/job/stop", {"job_id": job_id})
            except AccordError as error:
                message = f"still {status} after {self._timeout_s:g} s; stopping it failed: {error.retmsg}"
        self._progress(f"{task.name}: {outcome.value}: {message}")
        return TaskResult(task.name, outcome, job_id, elapsed, message=message, model=model)

    def _initiator(self, task: SuiteTask) -> SiteApi:
        initiator = task.conf.get("initiator") or {}
        role = str(initiator.get("role", "guest"))
        party_id = initiator.get("party_id")
        parties = (task.conf.get("role") or {}).get(role) or []
        index = parties.index(party_id) if party_id in parties else 0
        return self._site(f"{role}_{index}")

    def _with_model(self, api: SiteApi, task: SuiteTask, dependency: TaskResult) -> dict[str, Any]:
        """The predict conf naming a deployed version of what ``dependency`` trained."""
        trained = dependency.model
        training = self._tasks.get(task.deps or "")
        components = list((task.dsl.get("components") or {}).keys())
        if training is not None:
            components = _deployed_components(task.dsl, training.dsl)
        deployed = api.call(
            "/v1/model/deploy",
            {
                "model_id": trained["model_id"],
                "model_version": trained["model_version"],
                "cpn_list": ",".join(components),
            },
        )["data"]
        conf = {**task.conf}
        if training is not None:
            conf = _on_training_parties(task.conf, training.conf)
        job_parameters = {**(conf.get("job_parameters") or {})}
        common = {**(job_parameters.get("common") or {})}
        common.update(model_id=deployed["model_id"], model_version=deployed["model_version"])
        job_parameters["common"] = common
        conf["job_parameters"] = job_parameters
        return conf

    def _refused(self, task: SuiteTask, error: AccordError) -> TaskResult:
        outcome = Outcome.NOT_SUPPORTED if error.code in _UNSUPPORTED_CODES else Outcome.FAILED
        self._progress(f"{task.name}: {outcome.value}: {error.retmsg}")
        return TaskResult(task.name, outcome, message=f"{error.code}: {error.retmsg}")

    def _follow(self, api: SiteApi, job_id: str) -> tuple[str, str]:
        deadline = time.monotonic() + self._timeout_s
        while True:
            rows = api.call("/v1/job/query", {"job_id": job_id})["data"]
            row = next((r for r in rows if r.get("f_is_initiator")), rows[0] if rows else None)
            if row is not None and str(row["f_status"]) in _ENDED:
                return str(row["f_status"]), str(row.get("f_status_reason") or "")
            if time.monotonic() >= deadline:
                return (str(row["f_status"]) if row else JobStatus.WAITING.value), ""
            time.sleep(POLL_S)

    def _metrics(self, api: SiteApi, task: SuiteTask, job_id: str) -> dict[str, float]:
        initiator = task.conf.get("initiator") or {}
        found: dict[str, float] = {}
        for name, component in (task.dsl.get("components") or {}).items():
            wanted = KEY_METRICS.get(str(component.get("module")))
            if not wanted:
                continue
            body = {
                "job_id": job_id,
                "role": initiator.get("role", "guest"),
                "party_id": initiator.get("party_id"),
                "component_name": name,
            }
            try:
                metrics = api.call("/v1/tracking/component/metric/all", body)["data"]
            except AccordError:
                continue
            found.update(_key_metrics(metrics, wanted, found))
        return found


def _key_metrics(
    metrics: Mapping[str, Mapping[str, Any]], wanted: tuple[str, ...], already: Mapping[str, float]
) -> dict[str, float]:
    """``auc`` for the first evaluated model; ``<namespace>.<model>.auc`` for the others."""
    picked: dict[str, float] = {}
    for namespace, by_name in metrics.items():
        for name, metric in by_name.items():
            points = {str(point[0]): point[1] for point in metric.get("data", []) if len(point) == 2}
            for key in wanted:
                value = points.get(key)
                if not isinstance(value, int | float):
                    continue
                plain = key not in already and key not in picked
                picked[key if plain else f"{namespace}.{name}.{key}"] = float(value)
    return picked


def _is_reader(component: Mapping[str, Any]) -> bool:
    return str(component.get("module", "")) == "Reader"


def _deployed_components(predict_dsl: Mapping[str, Any], training_dsl: Mapping[str, Any]) -> list[str]:
    """What to deploy for a predict DSL: its trained components, and the training Readers feeding them.

    FATE-Test deploys the predict DSL itself; a predict DSL may read with another Reader than training
    did (homo_secureboost's reads with reader_1 where training fed data_transform_0 from reader_0).
    """
    trained = training_dsl.get("components") or {}
    wanted = [
        name
        for name, component in (predict_dsl.get("components") or {}).items()
        if not _is_reader(component) and name in trained
    ]
    readers = {
        ref.split(".")[0]
        for name in wanted
        for refs in ((trained[name].get("input") or {}).get("data") or {}).values()
        for ref in refs
        if _is_reader(trained.get(ref.split(".")[0], {}))
    }
    return sorted(readers) + wanted


def _on_training_parties(conf: Mapping[str, Any], training_conf: Mapping[str, Any]) -> dict[str, Any]:
    """The predict conf on the training conf's parties.

    FATE-Test maps every conf's parties onto its configured ones by position, so a predict conf whose
    party ids differ from the training conf's (homo_secureboost's host 10000 against 9998) runs on the
    training parties. (Tables the predict conf leaves out come from the training conf at submit, as
    FATE merges the training conf's parameters into a predict job's.)
    """
    result = {**conf}
    trained_parties = training_conf.get("role") or {}
    # A role the model was not trained with runs none of its components (the SSHE examples' predict
    # confs name an arbiter their training had not): it is left out, as FATE-Flow ignores it.
    predict_parties = {
        role: parties for role, parties in (conf.get("role") or {}).items() if role in trained_parties
    }
    counts = {role: len(parties) for role, parties in trained_parties.items()}
    if not trained_parties or counts != {role: len(parties) for role, parties in predict_parties.items()}:
        return result
    result["role"] = trained_parties
    initiator = dict(conf.get("initiator") or {})
    ids = predict_parties.get(str(initiator.get("role")), [])
    if initiator.get("party_id") in ids:
        initiator["party_id"] = trained_parties[str(initiator["role"])][ids.index(initiator["party_id"])]
        result["initiator"] = initiator
    return result
