"""Logs and progress on a real site (issue 18): each task's own log, progress that moves, ``job wait``.

The site is the shared real one (Temporal dev server, gRPC, SQLite); the CLI runs as a child process
against a real uvicorn, as a user runs it.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import httpx
import pytest

from accord.activities.tasks import MAX_ERROR_BYTES
from accord.board.queries import BoardQueries, JobFilter
from accord.board.views import BoardViews
from accord.errors import JobNotSuccessful
from accord.site.joblog import JobLog
from accord.status import JobStatus, TaskStatus
from tests.api.helpers import accord, write_json
from tests.scheduling.harness import RunningSite
from tests.scheduling.jobs import chain_dsl, conf

pytestmark = pytest.mark.asyncio(loop_scope="session")


def _board(site: RunningSite) -> BoardViews:
    queries = BoardQueries(site.site.database)
    return BoardViews(site.settings, site.site.temporal, site.jobs, site.tasks, queries)


async def _progress_while_running(server: str, job_id: str, board: BoardViews) -> list[tuple[int, int, int]]:
    """At each poll until the job ends: the initiator's f_progress, and the board's (job page, list)."""
    seen: list[tuple[int, int, int]] = []
    async with httpx.AsyncClient(base_url=server, timeout=10) as client:
        for _ in range(600):
            reply = (await client.post("/v1/job/query", json={"job_id": job_id})).json()
            row = next(r for r in reply["data"] if r["f_is_initiator"])
            page = await asyncio.to_thread(board.job_page, JobFilter(search=job_id), 1, 20)
            listed = next(j for j in page["jobs"] if j["job_id"] == job_id and j["role"] == "guest")
            shown = (await board.status(job_id))["progress"]
            seen.append((row["f_progress"], shown, listed["progress"]))
            if JobStatus(row["f_status"]).is_end:
                return seen
            await asyncio.sleep(0.2)
    raise AssertionError(f"job {job_id} did not end; progress seen {seen}")


async def test_progress_moves_the_wait_line_shows_iterations_and_the_task_log_has_them(
    site: RunningSite, server: str, tmp_path: Path
) -> None:
    dsl = chain_dsl(["TestIterate", "TestSleep"])
    runtime = conf(common={"c0": {"max_iter": 4, "seconds": 1.2}})
    job_id = await site.submit(dsl, runtime)

    waited, polls = await asyncio.gather(
        accord("job", "wait", "-j", job_id, server=server, home=tmp_path, timeout_s=120),
        _progress_while_running(server, job_id, _board(site)),
    )
    assert waited.returncode == 0, waited.stderr
    assert waited.envelope["retcode"] == 0 and waited.envelope["data"]["status"] == "success"
    # Progress counts the running component's iterations: it moves between 0 and 50 % while c0 runs,
    # and the board (job page and list) shows it too.
    for seen in zip(*polls, strict=True):
        assert any(0 < p < 50 for p in seen), polls
        assert list(seen) == sorted(seen) and seen[-1] == 100, polls
    # Not a terminal: one plain live line per change, with the iteration and the loss.
    live = [line for line in waited.stderr.splitlines() if line.startswith("[")]
    assert any("c0: iteration" in line and "loss 0." in line for line in live), waited.stderr
    assert waited.stderr.splitlines()[-1] == f"job {job_id} success"

    tasks = await accord("task", "query", "-j", job_id, "-cpn", "c0", server=server, home=tmp_path)
    for row in tasks.envelope["data"]:
        assert (row["f_progress_done"], row["f_progress_total"]) == (4, 4)
        assert row["f_progress_note"] == "loss 0.2000" and row["f_error"] == ""

    logs = await accord(
        "job", "log", "-j", job_id, "-o", str(tmp_path / "logs"), server=server, home=tmp_path
    )
    directory = Path(logs.envelope["data"]["directory"])
    for role, party in (("guest", 9999), ("host", 10000)):
        text = (directory / role / str(party) / "c0" / "INFO.log").read_text()
        assert [f"iteration {i}/4: loss" in text for i in range(1, 5)] == [True] * 4, text
        assert f"task c0 (TestIterate) v0 of job {job_id} on {role} {party} succeeded" in text
        assert not (directory / role / str(party) / "c0" / "ERROR.log").exists()
    assert "schedule.log" in {p.name for p in (directory / "guest_9999").iterdir()}


async def test_a_failed_task_logs_its_traceback_keeps_a_capped_error_and_wait_says_failed(
    site: RunningSite, server: str, tmp_path: Path
) -> None:
    # A message far past the cap: the report, the task row and the workflow carry 4 KiB of it.
    huge = 200_000
    dsl = write_json(tmp_path / "dsl.json", chain_dsl(["TestIterate", "TestSleep"]))
    runtime = write_json(
        tmp_path / "conf.json", conf(common={"c0": {"max_iter": 3, "fail_at": 2, "message_bytes": huge}})
    )
    run = await accord(
        "job", "submit", "-d", dsl, "-c", runtime, "--wait", server=server, home=tmp_path, timeout_s=120
    )
    job_id = run.envelope["jobId"]
    assert run.returncode != 0, run.stderr
    assert run.envelope["retcode"] == JobNotSuccessful.code
    assert run.envelope["retmsg"].startswith(f"job {job_id} failed: ")
    assert run.envelope["data"]["status"] == "failed"
    assert run.stderr.splitlines()[-1].startswith(f"job {job_id} failed: ")

    tasks = (await accord("task", "query", "-j", job_id, "-cpn", "c0", server=server, home=tmp_path)).envelope
    for row in tasks["data"]:
        error = row["f_error"]
        assert error.startswith("TestIterate failed: RuntimeError: asked to fail in iteration 2xxx"), error[
            :200
        ]
        assert len(error.encode()) <= MAX_ERROR_BYTES and "cut: " in error
        assert row["f_progress_done"] == 1

    logs = await accord(
        "job", "log", "-j", job_id, "-o", str(tmp_path / "logs"), server=server, home=tmp_path
    )
    folder = Path(logs.envelope["data"]["directory"]) / "guest" / "9999" / "c0"
    errors = (folder / "ERROR.log").read_text()
    assert "Traceback (most recent call last)" in errors and "x" * huge in errors
    info = (folder / "INFO.log").read_text()
    assert "iteration 1/3: loss" in info and "Traceback" in info


async def test_job_view_config_and_list_shapes(site: RunningSite, server: str, tmp_path: Path) -> None:
    runtime = conf(common={"c0": {"max_iter": 2}})
    job_id = await site.submit(chain_dsl(["TestIterate", "TestSleep"]), runtime)
    assert (await site.site.jobs.wait(job_id)).status == JobStatus.SUCCESS

    viewed = await accord("job", "view", "-j", job_id, server=server, home=tmp_path)
    view = viewed.envelope["data"]
    assert (view["job_id"], view["status"], view["progress"]) == (job_id, "success", 100)
    assert [(c["component"], c["module"], c["status"]) for c in view["components"]] == [
        ("c0", "TestIterate", "success"),
        ("c1", "TestSleep", "success"),
    ]
    assert {
        (p["role"], p["progress_done"], p["progress_total"]) for p in view["components"][0]["parties"]
    } == {
        ("guest", 2, 2),
        ("host", 2, 2),
    }

    out = tmp_path / "config"
    configured = await accord(
        "job",
        "config",
        "-j",
        job_id,
        "-r",
        "host",
        "-p",
        "10000",
        "-o",
        str(out),
        server=server,
        home=tmp_path,
    )
    directory = out.resolve() / f"job_{job_id}_config"
    assert configured.envelope["directory"] == str(directory)
    assert json.loads((directory / "dsl.json").read_text())["components"]["c0"]["module"] == "TestIterate"
    assert json.loads((directory / "runtime_conf.json").read_text())["role"] == runtime["role"]
    assert set(json.loads((directory / "model_info.json").read_text())) == {"model_id", "model_version"}

    # Stdout is a pipe here: JSON, as scripts expect, with or without --json.
    for extra in ((), ("--json",)):
        listed = await accord("job", "list", "-l", "3", *extra, server=server, home=tmp_path)
        assert listed.envelope["retcode"] == 0
        row = next(j for j in listed.envelope["data"]["jobs"] if j["f_job_id"] == job_id)
        assert row["f_progress"] == 100


async def test_the_schedule_log_says_what_a_stop_did(site: RunningSite) -> None:
    job_id = await site.submit(
        chain_dsl(["TestIterate"]), conf(common={"c0": {"max_iter": 1, "seconds": 60}})
    )
    for _ in range(300):
        if any(t.status == TaskStatus.RUNNING for t in site.tasks.list_tasks(job_id)):
            break
        await asyncio.sleep(0.1)
    await site.site.jobs.stop(job_id)
    assert (await site.site.jobs.wait(job_id)).status == JobStatus.CANCELED
    schedule = (JobLog(site.settings.home).directory(job_id) / "host_10000" / "schedule.log").read_text()
    assert "stopping task c0 v0 (the job was stopped); it ends as canceled" in schedule, schedule
    assert ": canceled" not in schedule
