"""The v1 job endpoints on a real site: submit, query, list, tasks, logs, stop and rerun."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path
from typing import Any

import httpx
import pytest
from temporalio.client import WorkflowQueryFailedError

from accord.status import JobStatus
from tests.api.helpers import post, wait_for_component
from tests.scheduling.harness import RunningSite
from tests.scheduling.jobs import chain_dsl, conf

pytestmark = pytest.mark.asyncio(loop_scope="session")

PARTIES = {("guest", 9999), ("host", 10000), ("arbiter", 10000)}


async def test_submit_query_list_tasks_and_log(site: RunningSite, api: httpx.AsyncClient) -> None:
    body = {"job_dsl": chain_dsl(["TestSleep"] * 3), "job_runtime_conf": conf(arbiter=10000)}
    submitted = await post(api, "/v1/job/submit", body)
    job_id = submitted["jobId"]
    data = submitted["data"]
    assert data["job_id"] == job_id
    assert data["model_info"]["model_id"] == "arbiter-10000#guest-9999#host-10000#model"
    assert data["board_url"].endswith(f"/board/#/job/{job_id}")
    assert data["workflow_url"].endswith(f"/workflows/{job_id}")
    assert Path(data["logs_directory"]).name == job_id
    result = await site.site.jobs.wait(job_id)
    assert result.status == JobStatus.SUCCESS, result.reason

    rows = (await post(api, "/v1/job/query", {"job_id": job_id}))["data"]
    assert {(r["f_role"], r["f_party_id"]) for r in rows} == PARTIES
    assert all(r["f_status"] == "success" and r["f_live"] is None for r in rows)
    assert [r["f_role"] for r in rows if r["f_is_initiator"]] == ["guest"]
    # FATE clients send party ids as strings.
    guest = await post(api, "/v1/job/query", {"job_id": job_id, "role": "guest", "party_id": "9999"})
    assert [(r["f_role"], r["f_party_id"]) for r in guest["data"]] == [("guest", 9999)]

    listed = (await post(api, "/v1/job/list/job", {"limit": 10}))["data"]
    assert {(j["f_job_id"], j["f_role"]) for j in listed["jobs"]} >= {(job_id, r) for r, _ in PARTIES}
    assert listed["count"] == len(listed["jobs"])
    failed = (await post(api, "/v1/job/list/job", {"status": "failed"}))["data"]
    assert failed == {"jobs": [], "count": 0}

    tasks = (await post(api, "/v1/job/task/query", {"job_id": job_id}))["data"]
    assert {(t["f_component_name"], t["f_role"]) for t in tasks} == {
        (c, r) for c in ("c0", "c1", "c2") for r, _ in PARTIES
    }
    assert all(t["f_status"] == "success" for t in tasks)
    c1 = (await post(api, "/v1/job/task/query", {"job_id": job_id, "component_name": "c1"}))["data"]
    assert {t["f_role"] for t in c1} == {"guest", "host", "arbiter"}
    hosts = (await post(api, "/v1/job/task/query", {"job_id": job_id, "role": "host"}))["data"]
    assert sorted(t["f_component_name"] for t in hosts) == ["c0", "c1", "c2"]

    response = await api.post("/v1/job/log/download", json={"job_id": job_id})
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/gzip"
    assert f"job_{job_id}_log.tar.gz" in response.headers["content-disposition"]
    with tarfile.open(fileobj=io.BytesIO(response.content), mode="r:gz") as tar:
        logs = {m.name: tar.extractfile(m).read().decode() for m in tar.getmembers() if m.isfile()}  # type: ignore[union-attr]
    assert set(logs) >= {f"{job_id}/{role}_{party}/schedule.log" for role, party in PARTIES}
    assert "submitted" in logs[f"{job_id}/guest_9999/schedule.log"]


async def test_stop_a_running_job(site: RunningSite, api: httpx.AsyncClient) -> None:
    body = {"job_dsl": chain_dsl(["TestSleep"]), "job_runtime_conf": conf(common={"c0": {"seconds": 30}})}
    job_id = (await post(api, "/v1/job/submit", body))["jobId"]
    await wait_for_component(api, job_id, "c0", "running")
    stopped = await post(api, "/v1/job/stop", {"job_id": job_id})
    assert stopped["jobId"] == job_id
    result = await site.site.jobs.wait(job_id)
    assert result.status == JobStatus.CANCELED
    rows = (await post(api, "/v1/job/query", {"job_id": job_id}))["data"]
    assert {r["f_status"] for r in rows} == {"canceled"}
    tasks = (await post(api, "/v1/job/task/query", {"job_id": job_id}))["data"]
    assert {t["f_status"] for t in tasks} == {"canceled"}
    again = await api.post("/v1/job/stop", json={"job_id": job_id})
    assert again.status_code == 409
    assert again.json()["retcode"] == 10304


async def test_rerun_a_failed_job(site: RunningSite, api: httpx.AsyncClient) -> None:
    # c1 fails on its first run only, so the rerun succeeds.
    dsl = chain_dsl(["TestSleep", "TestFail", "TestSleep"])
    body = {"job_dsl": dsl, "job_runtime_conf": conf(common={"c1": {"times": 1}})}
    job_id = (await post(api, "/v1/job/submit", body))["jobId"]
    first = await site.site.jobs.wait(job_id)
    assert first.status == JobStatus.FAILED
    assert "c1" in first.reason

    unknown = await api.post("/v1/job/rerun", json={"job_id": job_id, "component_name": "nope"})
    assert unknown.status_code == 404 and unknown.json()["retcode"] == 40401
    await post(api, "/v1/job/rerun", {"job_id": job_id})
    second = await site.site.jobs.wait(job_id)
    assert second.status == JobStatus.SUCCESS, second.reason
    tasks = (await post(api, "/v1/job/task/query", {"job_id": job_id, "role": "guest"}))["data"]
    versions = {(t["f_component_name"], t["f_task_version"], t["f_status"]) for t in tasks}
    # The successful c0 keeps its one run; c1 and what follows run again.
    assert ("c0", 0, "success") in versions and ("c0", 1, "success") not in versions
    assert {("c1", 0, "failed"), ("c1", 1, "success"), ("c2", 1, "success")} <= versions


async def test_parameter_update_then_rerun(site: RunningSite, api: httpx.AsyncClient) -> None:
    # c1 fails on every party until an update tells it to fail on no role.
    body = {"job_dsl": chain_dsl(["TestSleep", "TestFail"]), "job_runtime_conf": conf()}
    job_id = (await post(api, "/v1/job/submit", body))["jobId"]
    assert (await site.site.jobs.wait(job_id)).status == JobStatus.FAILED

    bad = await api.post(
        "/v1/job/parameter/update",
        json={"job_id": job_id, "component_parameters": {"common": {"c1": {"times": "many"}}}},
    )
    # Checked as at submit: refused with the field named, and the stored conf is unchanged.
    assert bad.status_code == 400 and "times" in bad.json()["retmsg"], bad.json()
    empty = await api.post("/v1/job/parameter/update", json={"job_id": job_id})
    assert empty.status_code == 400

    update = {"component_parameters": {"common": {"c1": {"fail_roles": []}}}}
    updated = await post(api, "/v1/job/parameter/update", {"job_id": job_id, **update})
    assert updated["data"]["component_parameters"]["common"]["c1"] == {"fail_roles": []}
    rows = (await post(api, "/v1/job/query", {"job_id": job_id}))["data"]
    assert all(
        r["f_runtime_conf"]["component_parameters"]["common"]["c1"] == {"fail_roles": []} for r in rows
    )

    await post(api, "/v1/job/rerun", {"job_id": job_id})
    second = await site.site.jobs.wait(job_id)
    assert second.status == JobStatus.SUCCESS, second.reason


async def test_parameter_update_of_a_running_job_is_refused(
    site: RunningSite, api: httpx.AsyncClient
) -> None:
    body = {"job_dsl": chain_dsl(["TestSleep"]), "job_runtime_conf": conf(common={"c0": {"seconds": 30}})}
    job_id = (await post(api, "/v1/job/submit", body))["jobId"]
    await wait_for_component(api, job_id, "c0", "running")
    update = {"job_id": job_id, "component_parameters": {"common": {"c0": {"seconds": 1}}}}
    refused = await api.post("/v1/job/parameter/update", json=update)
    assert refused.status_code == 409 and refused.json()["retcode"] == 10304
    await post(api, "/v1/job/stop", {"job_id": job_id})
    assert (await site.site.jobs.wait(job_id)).status == JobStatus.CANCELED


async def test_a_query_the_workflow_cannot_answer_leaves_the_job_running(
    site: RunningSite, api: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Under heavy load a workflow may not replay within the SDK's deadlock timeout and its query
    # fails; the job still runs (stop must still work) and the query endpoint still answers.
    body = {"job_dsl": chain_dsl(["TestSleep"]), "job_runtime_conf": conf(common={"c0": {"seconds": 30}})}
    job_id = (await post(api, "/v1/job/submit", body))["jobId"]
    await wait_for_component(api, job_id, "c0", "running")
    jobs = site.site.jobs
    real = jobs._handle

    class Busy:
        def __init__(self, handle: Any) -> None:
            self._handle = handle

        async def describe(self) -> Any:
            return await self._handle.describe()

        async def query(self, *_: Any) -> Any:
            raise WorkflowQueryFailedError("[TMPRL1101] Potential deadlock detected")

        def __getattr__(self, name: str) -> Any:
            return getattr(self._handle, name)

    monkeypatch.setattr(jobs, "_handle", lambda job: Busy(real(job)))
    rows = (await post(api, "/v1/job/query", {"job_id": job_id}))["data"]
    assert {r["f_status"] for r in rows} >= {"running"}
    await post(api, "/v1/job/stop", {"job_id": job_id})
    monkeypatch.setattr(jobs, "_handle", real)
    assert (await site.site.jobs.wait(job_id)).status == JobStatus.CANCELED
