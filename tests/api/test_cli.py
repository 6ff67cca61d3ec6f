"""The job CLI run as a user runs it: a child process against a real uvicorn serving a real site."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from accord.status import JobStatus
from tests.api.helpers import accord, wait_for_component, write_json
from tests.scheduling.harness import RunningSite
from tests.scheduling.jobs import chain_dsl, conf
from tests.support import free_port

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def test_submit_wait_follows_a_job_to_success(server: str, tmp_path: Path) -> None:
    dsl = write_json(tmp_path / "dsl.json", chain_dsl(["TestSleep"] * 3))
    # c1 sleeps across a few polls, so its running state is seen for sure.
    runtime = write_json(tmp_path / "conf.json", conf(common={"c1": {"seconds": 1.5}}))
    run = await accord("job", "submit", "-d", dsl, "-c", runtime, "--wait", server=server, home=tmp_path)
    assert run.returncode == 0, run.stderr
    envelope = run.envelope
    assert envelope["retcode"] == 0 and envelope["data"]["status"] == "success"
    job_id = envelope["jobId"]
    lines = run.stderr.splitlines()
    assert lines[0].startswith(f"job {job_id} submitted; board: http")
    assert lines.index("c1 running") < lines.index("c1 success")
    assert {"c0 success", "c2 success", f"job {job_id} success"} <= set(lines)
    assert lines.count("c1 success") == 1


async def test_submit_wait_exits_1_when_a_component_fails(server: str, tmp_path: Path) -> None:
    dsl = write_json(tmp_path / "dsl.json", chain_dsl(["TestSleep", "TestFail", "TestSleep"]))
    runtime = write_json(tmp_path / "conf.json", conf())
    run = await accord("job", "submit", "-d", dsl, "-c", runtime, "--wait", server=server, home=tmp_path)
    assert run.returncode == 1, run.stderr
    assert run.envelope["data"]["status"] == "failed"
    lines = run.stderr.splitlines()
    assert "c0 success" in lines
    assert any(line.startswith("c1 failed") for line in lines)
    assert not any(line.startswith("c2 ") for line in lines)
    assert lines[-1].startswith(f"job {run.envelope['jobId']} failed: ")


async def test_job_commands(site: RunningSite, server: str, tmp_path: Path) -> None:
    dsl = write_json(tmp_path / "dsl.json", chain_dsl(["TestSleep", "TestFail"]))
    runtime = write_json(tmp_path / "conf.json", conf(common={"c1": {"times": 1}}))
    submitted = await accord("job", "submit", "-d", dsl, "-c", runtime, server=server, home=tmp_path)
    assert submitted.returncode == 0, submitted.stderr
    job_id = submitted.envelope["jobId"]
    assert set(submitted.envelope["data"]) >= {"model_info", "board_url", "logs_directory"}
    assert (await site.site.jobs.wait(job_id)).status == JobStatus.FAILED

    queried = await accord(
        "job", "query", "-j", job_id, "-r", "host", "-p", "10000", server=server, home=tmp_path
    )
    assert [(r["f_role"], r["f_status"]) for r in queried.envelope["data"]] == [("host", "failed")]
    listed = await accord("job", "list", "--limit", "5", "--status", "failed", server=server, home=tmp_path)
    assert {j["f_job_id"] for j in listed.envelope["data"]["jobs"]} == {job_id}
    tasks = await accord("task", "query", "-j", job_id, "-cpn", "c1", server=server, home=tmp_path)
    assert {t["f_status"] for t in tasks.envelope["data"]} == {"failed"}

    rerun = await accord("job", "rerun", "-j", job_id, server=server, home=tmp_path)
    assert rerun.returncode == 0 and rerun.envelope["jobId"] == job_id
    assert (await site.site.jobs.wait(job_id)).status == JobStatus.SUCCESS
    ended = await accord("job", "stop", "-j", job_id, server=server, home=tmp_path)
    # 10304 is an operating error: exit 1, the server's envelope on stdout.
    assert ended.returncode == 1 and ended.envelope["retcode"] == 10304

    logs = await accord(
        "job", "log", "-j", job_id, "-o", str(tmp_path / "logs"), server=server, home=tmp_path
    )
    directory = Path(logs.envelope["data"]["directory"])
    assert directory == (tmp_path / "logs" / job_id).resolve()
    schedule = (directory / "guest_9999" / "schedule.log").read_text()
    assert "submitted" in schedule and "rerun" in schedule
    assert (directory / "host_10000" / "schedule.log").is_file()

    missing = await accord("job", "query", "-j", "nope", server=server, home=tmp_path)
    assert (missing.returncode, missing.envelope["retcode"]) == (3, 40401)
    assert missing.stderr == ""


async def test_stop_a_running_job(site: RunningSite, server: str, tmp_path: Path) -> None:
    dsl = write_json(tmp_path / "dsl.json", chain_dsl(["TestSleep"]))
    runtime = write_json(tmp_path / "conf.json", conf(common={"c0": {"seconds": 30}}))
    run = await accord(
        "job", "submit", "-d", dsl, "-c", runtime, "--timeout", "1", server=server, home=tmp_path
    )
    assert run.returncode == 1
    assert "gave up waiting after 1 s" in run.stderr
    job_id = run.envelope["jobId"]
    async with httpx.AsyncClient(base_url=server) as client:
        await wait_for_component(client, job_id, "c0", "running")
    stopped = await accord("job", "stop", "-j", job_id, server=server, home=tmp_path)
    assert stopped.returncode == 0, stopped.stdout
    result = await site.site.jobs.wait(job_id)
    assert result.status == JobStatus.CANCELED


async def test_bad_dsl_exits_2_with_the_compilers_code(server: str, tmp_path: Path) -> None:
    dsl = write_json(tmp_path / "dsl.json", {"components": {"c0": {"module": "NoSuchModule"}}})
    runtime = write_json(tmp_path / "conf.json", conf())
    run = await accord("job", "submit", "-d", dsl, "-c", runtime, "--wait", server=server, home=tmp_path)
    assert (run.returncode, run.envelope["retcode"]) == (2, 10104)
    assert "NoSuchModule" in run.envelope["retmsg"]


async def test_unreachable_server_is_a_coded_connection_failure(tmp_path: Path) -> None:
    address = f"http://127.0.0.1:{free_port()}"
    run = await accord("job", "list", server=address, home=tmp_path)
    assert run.returncode == 5
    envelope = run.envelope
    assert envelope["retcode"] == 105
    assert address in envelope["retmsg"] and "accord up" in envelope["retmsg"]
    assert "accord init" in envelope["retmsg"]
    assert "Traceback" not in run.stdout + run.stderr


async def test_init_saves_the_address_and_server_option_wins(server: str, tmp_path: Path) -> None:
    host, port = server.removeprefix("http://").rsplit(":", 1)
    saved = await accord("init", "--ip", host, "--port", port, server=None, home=tmp_path)
    assert saved.returncode == 0
    assert json.loads((tmp_path / "cli.json").read_text()) == {"server": server}
    listed = await accord("job", "list", server=None, home=tmp_path)
    assert listed.returncode == 0, listed.stdout
    # --server beats both the environment and the saved file.
    elsewhere = f"http://127.0.0.1:{free_port()}"
    wrong = await accord("job", "list", "--server", elsewhere, server=server, home=tmp_path)
    assert wrong.returncode == 5 and elsewhere in wrong.envelope["retmsg"]
    bad = await accord("job", "list", "--server", "localhost:9380", server=None, home=tmp_path)
    assert (bad.returncode, bad.envelope["retcode"]) == (2, 101)
