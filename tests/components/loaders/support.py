"""Running FATE's loader examples on a real standalone site: submit, wait, read what a task said."""

from __future__ import annotations

from typing import Any

from accord.dsl_compiler import read_json_file
from accord.model_store import ModelKey, ModelStore
from accord.persistence import ModelRepository
from accord.status import JobStatus, TaskStatus
from tests.corpus import DSL_V2
from tests.scheduling.harness import RunningSite

GUEST, HOST = 9999, 10000


def example(folder: str, dsl: str, conf: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """FATE's example DSL and conf, as a user passes them."""
    return (
        read_json_file(DSL_V2 / folder / f"{dsl}.json", "dsl"),
        read_json_file(DSL_V2 / folder / f"{conf}.json", "conf"),
    )


async def succeeded(site: RunningSite, dsl: dict[str, Any], conf: dict[str, Any]) -> str:
    job_id = await site.submit(dsl, conf)
    result = await site.site.jobs.wait(job_id)
    assert result.status == JobStatus.SUCCESS, result
    return job_id


async def task_error(
    site: RunningSite, dsl: dict[str, Any], conf: dict[str, Any], component: str, role: str, party_id: int
) -> str:
    """The job fails; the error its ``component`` task recorded on that party."""
    job_id = await site.submit(dsl, conf)
    result = await site.site.jobs.wait(job_id)
    assert result.status == JobStatus.FAILED, result
    tasks = site.tasks.list_tasks(job_id, component_name=component, role=role, party_id=party_id)
    failed = [task for task in tasks if task.status == TaskStatus.FAILED]
    assert failed, (result, tasks)
    return failed[-1].error


def store(site: RunningSite) -> ModelStore:
    return ModelStore(site.settings.home / "models", ModelRepository(site.site.database))


def model_of(site: RunningSite, job_id: str, role: str, party_id: int, component: str) -> dict[str, Any]:
    record = site.jobs.get(job_id, role, party_id)
    assert record.model_id is not None
    return store(site).load(ModelKey(record.model_id, job_id, role, party_id, component))
