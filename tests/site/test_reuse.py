"""Reuse of finished components on one party (issue 20): fingerprints, candidates and adoption.

Real SQLite, a real table store and model store under a temporary home. A "run" here is what a task
leaves behind: its row moved to success and its output files; the worker's hook records it the same way.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from accord.components.sdk import layout
from accord.dsl_compiler import CompileOptions, JobPlan, compile_job
from accord.errors import ReuseUnavailable
from accord.identity import Party, ReuseCandidate
from accord.model_store import ModelKey
from accord.persistence import Database, MetricKey, NewJob, NewTask, TaskKey
from accord.site.reuse import ReuseService, reusable
from accord.status import TaskStatus
from accord.storage.conf import UploadConf
from accord.wiring import SiteStores
from tests.support import loopback_settings

GUEST = Party(role="guest", party_id=9999)
HOST = Party(role="host", party_id=10000)
ROWS = "id,y,x0,x1\n1,0,0.5,1.5\n2,1,0.25,2.5\n3,0,0.75,3.5\n"


def _plan(
    job_id: str,
    *,
    table: str = "breast",
    dt_params: dict[str, Any] | None = None,
    job: dict[str, Any] | None = None,
) -> JobPlan:
    dsl = {
        "components": {
            "reader_0": {"module": "Reader", "output": {"data": ["data"]}},
            "data_transform_0": {
                "module": "DataTransform",
                "input": {"data": {"data": ["reader_0.data"]}},
                "output": {"data": ["data"], "model": ["model"]},
            },
        }
    }
    reader = {"reader_0": {"table": {"name": table, "namespace": "experiment"}}}
    guest = {**reader, "data_transform_0": {"with_label": True, **(dt_params or {})}}
    conf = {
        "dsl_version": 2,
        "initiator": {"role": "guest", "party_id": 9999},
        "role": {"guest": [9999], "host": [10000]},
        "job_parameters": {"common": job or {}},
        "component_parameters": {"role": {"guest": {"0": guest}, "host": {"0": reader}}},
    }
    return compile_job(dsl, conf, CompileOptions(job_id=job_id))


@dataclass
class Site:
    stores: SiteStores
    home: Path

    @property
    def reuse(self) -> ReuseService:
        return self.stores.reuse

    def upload(self, name: str, text: str = ROWS) -> None:
        source = self.home / f"{name}.csv"
        source.write_text(text)
        conf = UploadConf(file=str(source), table_name=name, namespace="experiment", head=1, drop=1)
        self.stores.tables.upload_file(conf, source)

    def create(self, plan: JobPlan, job_id: str) -> None:
        for party in (GUEST, HOST):
            self.stores.jobs.create(
                NewJob(
                    job_id=job_id,
                    role=party.role,
                    party_id=party.party_id,
                    initiator_role="guest",
                    initiator_party_id=9999,
                    dsl={},
                    runtime_conf={},
                    plan=plan.model_dump(mode="json"),
                    model_id=plan.model_id,
                    model_version=plan.model_version,
                )
            )

    def output(self, job_id: str, party: Party, component: str) -> Path:
        return layout.data_path(
            layout.party_dir(self.home, job_id, party.role, party.party_id), component, "data"
        )

    def run(
        self, plan: JobPlan, job_id: str, party: Party, component: str, data: bytes, version: int = 0
    ) -> str | None:
        """As the worker runs a task: fingerprint first, outputs written, recorded, success."""
        key = TaskKey(job_id, component, version, party.role, party.party_id)
        self.stores.tasks.create(NewTask(key=key))
        fingerprint = self.reuse.fingerprint(plan, key)
        self.stores.tasks.update_status(key, TaskStatus.RUNNING, with_party_status=True)
        path = self.output(job_id, party, component)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        if component.startswith("data_transform") and party == GUEST:
            model = ModelKey(plan.model_id, job_id, party.role, party.party_id, component)
            self.stores.models.save(model, {"module": "DataTransform", "header": ["x0", "x1"]})
            metric = MetricKey(job_id, component, party.role, party.party_id, version, "train", "rows")
            self.stores.metrics.log(metric, [[0, 3]], metric_type="COUNT", task_id=f"{job_id}_{component}")
        self.reuse.record_success(plan, key, fingerprint)
        self.stores.tasks.update_status(key, TaskStatus.SUCCESS, with_party_status=True)
        return fingerprint

    def pipeline(self, job_id: str, **options: Any) -> JobPlan:
        """Both components on both parties, each making the same bytes from the same inputs."""
        plan = _plan(job_id, **options)
        self.create(plan, job_id)
        for party in (GUEST, HOST):
            self.run(plan, job_id, party, "reader_0", b"raw rows of " + party.role.encode())
            self.run(plan, job_id, party, "data_transform_0", b"parsed rows of " + party.role.encode())
        return plan

    def fingerprint(self, plan: JobPlan, job_id: str, party: Party, component: str) -> str | None:
        return self.reuse.fingerprint(plan, TaskKey(job_id, component, 0, party.role, party.party_id))


@pytest.fixture
def site(tmp_path: Path) -> Site:
    settings = loopback_settings(tmp_path / "home")
    database = Database.from_settings(settings)
    database.migrate()
    found = Site(SiteStores.open(settings, database), settings.home)
    found.upload("breast")
    return found


J1, J2, J3 = "20260101000000000001", "20260101000000000002", "20260101000000000003"


def test_the_same_parameters_and_inputs_give_the_same_fingerprint(site: Site) -> None:
    first = site.pipeline(J1)
    second = _plan(J2)
    site.create(second, J2)
    for component in ("reader_0", "data_transform_0"):
        assert site.fingerprint(first, J1, GUEST, component) is not None
    assert site.fingerprint(second, J2, GUEST, "reader_0") == site.fingerprint(first, J1, GUEST, "reader_0")
    # Downstream of a reader that has not run in the new job there is no input digest yet: no fingerprint.
    assert site.fingerprint(second, J2, GUEST, "data_transform_0") is None
    site.run(second, J2, GUEST, "reader_0", b"raw rows of guest")
    assert site.fingerprint(second, J2, GUEST, "data_transform_0") == site.fingerprint(
        first, J1, GUEST, "data_transform_0"
    )


def test_a_changed_parameter_input_or_party_changes_the_fingerprint(site: Site) -> None:
    first = site.pipeline(J1)
    reader = site.fingerprint(first, J1, GUEST, "reader_0")
    # Another party reading the same table with the same parameters.
    assert site.fingerprint(first, J1, HOST, "reader_0") != reader
    # A parameter of this party.
    changed = _plan(J2, dt_params={"with_label": False})
    site.create(changed, J2)
    site.run(changed, J2, GUEST, "reader_0", b"raw rows of guest")
    assert site.fingerprint(changed, J2, GUEST, "data_transform_0") != site.fingerprint(
        first, J1, GUEST, "data_transform_0"
    )
    # The same input name with other bytes in it.
    plan3 = _plan(J3)
    site.create(plan3, J3)
    site.run(plan3, J3, GUEST, "reader_0", b"other raw rows")
    assert site.fingerprint(plan3, J3, GUEST, "data_transform_0") != site.fingerprint(
        first, J1, GUEST, "data_transform_0"
    )
    # The same job sent to Spark: never reused across computing engines.
    on_spark = _plan(J3, job={"backend": 1, "work_mode": 1})
    site.create(on_spark, "spark-job")
    assert site.fingerprint(on_spark, "spark-job", GUEST, "reader_0") != reader
    # The table's content changed under the same name.
    site.upload("breast", ROWS.replace("0.5", "0.6"))
    assert site.fingerprint(first, J1, GUEST, "reader_0") != reader


def test_a_renamed_table_with_the_same_content_gives_the_same_fingerprint(site: Site) -> None:
    first = site.pipeline(J1)
    site.upload("breast_copy")
    renamed = _plan(J2, table="breast_copy")
    site.create(renamed, J2)
    assert site.fingerprint(renamed, J2, GUEST, "reader_0") == site.fingerprint(first, J1, GUEST, "reader_0")
    assert site.reuse.candidates(J2, GUEST, "reader_0") == [
        ReuseCandidate(job_id=J1, component="reader_0", task_version=0)
    ]
    # A table that is gone leaves its reader without a fingerprint, and so without candidates.
    site.stores.tables.delete("experiment", "breast_copy")
    assert site.fingerprint(renamed, J2, GUEST, "reader_0") is None
    assert site.reuse.candidates(J2, GUEST, "reader_0") == []


def test_candidates_are_earlier_successful_runs_whose_outputs_are_intact(site: Site) -> None:
    site.pipeline(J1)
    site.pipeline(J2)
    plan3 = _plan(J3)
    site.create(plan3, J3)
    found = site.reuse.candidates(J3, GUEST, "reader_0")
    assert [c.job_id for c in found] == [J2, J1]  # newest first, never the job itself
    assert site.reuse.candidates(J3, GUEST, "no_such_component") == []
    # A deleted output drops its run; a model deleted drops the run that made it.
    site.output(J2, GUEST, "reader_0").unlink()
    assert [c.job_id for c in site.reuse.candidates(J3, GUEST, "reader_0")] == [J1]
    site.run(plan3, J3, GUEST, "reader_0", b"raw rows of guest")
    assert [c.job_id for c in site.reuse.candidates(J3, GUEST, "data_transform_0")] == [J2, J1]
    site.stores.models.remove(ModelKey(plan3.model_id, J1, "guest", 9999, "data_transform_0").version)
    assert [c.job_id for c in site.reuse.candidates(J3, GUEST, "data_transform_0")] == [J2]
    # An output replaced by a later (here: failed) rerun of the component is not the one recorded.
    site.output(J2, GUEST, "data_transform_0").write_bytes(b"half written by a rerun")
    assert site.reuse.candidates(J3, GUEST, "data_transform_0") == []


def test_a_failed_run_is_never_a_candidate(site: Site) -> None:
    plan = _plan(J1)
    site.create(plan, J1)
    key = TaskKey(J1, "reader_0", 0, "guest", 9999)
    site.stores.tasks.create(NewTask(key=key))
    fingerprint = site.reuse.fingerprint(plan, key)
    site.output(J1, GUEST, "reader_0").parent.mkdir(parents=True)
    site.output(J1, GUEST, "reader_0").write_bytes(b"rows")
    site.reuse.record_success(plan, key, fingerprint)
    site.stores.tasks.update_status(key, TaskStatus.FAILED, with_party_status=True)
    site.create(_plan(J2), J2)
    assert site.reuse.candidates(J2, GUEST, "reader_0") == []


def test_adoption_takes_the_outputs_and_downstream_resolves_them(site: Site) -> None:
    first = site.pipeline(J1)
    second = _plan(J2)
    site.create(second, J2)
    for component in ("reader_0", "data_transform_0"):
        (source,) = site.reuse.candidates(J2, GUEST, component)
        key = TaskKey(J2, component, 0, "guest", 9999)
        site.stores.tasks.create(NewTask(key=key))
        site.stores.tasks.update_status(key, TaskStatus.RUNNING, with_party_status=True)
        site.reuse.adopt(second, key, source)
        site.stores.tasks.update_status(key, TaskStatus.SUCCESS, with_party_status=True)
        assert (
            site.output(J2, GUEST, component).read_bytes() == site.output(J1, GUEST, component).read_bytes()
        )
        assert site.stores.tasks.get(key).reused_from == f"job {J1}, component {component}, version 0"
    # The model and metrics answer for the new job as for a run.
    model = site.stores.models.load(ModelKey(second.model_id, J2, "guest", 9999, "data_transform_0"))
    assert model == {"module": "DataTransform", "header": ["x0", "x1"]}
    (metric,) = site.stores.metrics.query(J2, "data_transform_0", "guest", 9999, task_version=0)
    assert metric.data == ((0, 3),)
    # The adopted task is itself a candidate for later jobs, with the same digests.
    site.create(_plan(J3), J3)
    assert [c.job_id for c in site.reuse.candidates(J3, GUEST, "reader_0")] == [J2, J1]
    # Deleting the earlier job's files keeps the adopted outputs (hard links, not references).
    shutil.rmtree(site.home / "jobs" / J1)
    assert site.output(J2, GUEST, "data_transform_0").read_bytes() == b"parsed rows of guest"
    assert [c.job_id for c in site.reuse.candidates(J3, GUEST, "reader_0")] == [J2]
    assert first.model_id == second.model_id


def test_adoption_refuses_outputs_that_are_gone_or_changed(site: Site) -> None:
    site.pipeline(J1)
    second = _plan(J2)
    site.create(second, J2)
    source = ReuseCandidate(job_id=J1, component="reader_0", task_version=0)
    key = TaskKey(J2, "reader_0", 0, "guest", 9999)
    site.stores.tasks.create(NewTask(key=key))
    site.output(J1, GUEST, "reader_0").write_bytes(b"changed after it was recorded")
    with pytest.raises(ReuseUnavailable, match="changed since it was recorded"):
        site.reuse.adopt(second, key, source)
    assert not site.output(J2, GUEST, "reader_0").exists()
    site.output(J1, GUEST, "reader_0").unlink()
    with pytest.raises(ReuseUnavailable, match="gone"):
        site.reuse.adopt(second, key, source)
    # A run that does not match this task (another component's) is refused, whatever its outputs.
    with pytest.raises(ReuseUnavailable, match="differ"):
        site.reuse.adopt(second, key, ReuseCandidate(job_id=J1, component="data_transform_0", task_version=0))
    with pytest.raises(ReuseUnavailable, match="no successful run"):
        site.reuse.adopt(second, key, ReuseCandidate(job_id=J1, component="reader_0", task_version=7))
    assert ReuseUnavailable.code == 10307


def test_modules_with_side_effects_or_unseeded_draws_are_never_reused() -> None:
    assert reusable("HeteroLR", {})
    assert reusable("Evaluation", {"eval_type": "binary"})
    assert not reusable("Writer", {})
    assert not reusable("FederatedSample", {"fractions": 0.5})
    assert reusable("FederatedSample", {"fractions": 0.5, "random_state": 7})
