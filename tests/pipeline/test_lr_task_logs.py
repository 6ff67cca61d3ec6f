"""HeteroLR and HomoLR on a whole standalone site write their iterations to each task's own log and
report them as the task's progress (issue 18). FATE's examples, unchanged; real Temporal, gRPC, Paillier.
"""

from __future__ import annotations

import pytest

from accord.dsl_compiler import read_json_file
from accord.site.joblog import JobLog
from accord.status import JobStatus, TaskStatus
from tests.pipeline.test_hetero_lr_examples import run_example
from tests.pipeline.test_homo_lr_examples import EXAMPLES, upload_breast_homo
from tests.scheduling.harness import RunningSite

pytestmark = pytest.mark.asyncio(loop_scope="session")


def _task_log(site: RunningSite, job_id: str, role: str, party_id: int, component: str) -> str:
    return (JobLog(site.settings.home).task_dir(job_id, role, party_id, component) / "INFO.log").read_text()


async def test_hetero_lr_logs_and_reports_each_iteration(site: RunningSite) -> None:
    job_id = await run_example(site, "hetero_lr_normal")
    arbiter = _task_log(site, job_id, "arbiter", 10000, "hetero_lr_0")
    assert "iteration 1/30: loss " in arbiter and "succeeded" in arbiter, arbiter
    for role, party in (("guest", 9999), ("host", 10000)):
        assert "iteration 1/30: " in _task_log(site, job_id, role, party, "hetero_lr_0")
    tasks = site.tasks.list_tasks(job_id, component_name="hetero_lr_0")
    assert {t.key.role for t in tasks} == {"guest", "host", "arbiter"}
    for task in tasks:
        assert task.status == TaskStatus.SUCCESS and task.progress_total == 30
        assert 1 <= task.progress_done <= 30
    note = next(t.progress_note for t in tasks if t.key.role == "arbiter")
    assert note.startswith("loss 0."), note


async def test_homo_lr_logs_and_reports_each_epoch(site: RunningSite) -> None:
    upload_breast_homo(site)
    dsl = read_json_file(EXAMPLES / "homo_lr_train_dsl.json", "dsl")
    conf = read_json_file(EXAMPLES / "homo_lr_train_conf.json", "conf")
    job_id = await site.submit(dsl, conf)
    assert (await site.site.jobs.wait(job_id)).status == JobStatus.SUCCESS
    assert "epoch 1/" in _task_log(site, job_id, "guest", 9999, "homo_lr_0")
    assert "aggregated loss" in _task_log(site, job_id, "arbiter", 10000, "homo_lr_0")
    for task in site.tasks.list_tasks(job_id, component_name="homo_lr_0"):
        assert task.progress_total > 0 and task.progress_done >= 1 and task.progress_note.startswith("loss ")
