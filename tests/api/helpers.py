"""Running the CLI as a user does, and small waits on a real site."""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from accord.cli import main
from accord.status import JobStatus

# Until accord/cli/__init__.py registers the job commands, register them in the child the same way.
_SHIM = (
    "from accord.cli import main\n"
    "from accord.cli.job import JOB_COMMANDS\n"
    "for command in JOB_COMMANDS:\n"
    "    main.add_command(command)\n"
    "main(prog_name='accord')\n"
)
ACCORD = [sys.executable, "-m", "accord"] if "job" in main.commands else [sys.executable, "-c", _SHIM]


@dataclass
class Run:
    returncode: int
    stdout: str
    stderr: str

    @property
    def envelope(self) -> dict[str, Any]:
        body: dict[str, Any] = json.loads(self.stdout)
        return body


async def accord(*args: str, server: str | None, home: Path, timeout_s: float = 60.0) -> Run:
    """``accord ARGS`` in a child process; the test's event loop keeps serving meanwhile."""
    env = {k: v for k, v in os.environ.items() if k not in ("ACCORD_SERVER", "ACCORD_DEBUG")}
    # Never the developer's own ~/.accord/cli.json.
    env["ACCORD_CLI_CONF"] = str(home / "cli.json")
    if server is not None:
        env["ACCORD_SERVER"] = server
    child = await asyncio.create_subprocess_exec(
        *ACCORD, *args, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    try:
        out, err = await asyncio.wait_for(child.communicate(), timeout_s)
    except TimeoutError:
        child.kill()
        raise
    assert child.returncode is not None
    return Run(child.returncode, out.decode(), err.decode())


def write_json(path: Path, body: dict[str, Any]) -> str:
    path.write_text(json.dumps(body), encoding="utf-8")
    return str(path)


async def post(client: httpx.AsyncClient, path: str, body: dict[str, Any]) -> dict[str, Any]:
    """The envelope of a request that must succeed."""
    response = await client.post(path, json=body)
    envelope: dict[str, Any] = response.json()
    assert response.status_code == 200 and envelope["retcode"] == 0, envelope
    return envelope


async def wait_for_component(
    client: httpx.AsyncClient, job_id: str, component: str, status: str, timeout_s: float = 20.0
) -> None:
    """Until the scheduler's live view shows ``component`` in ``status``."""
    async with asyncio.timeout(timeout_s):
        while True:
            rows = (await post(client, "/v1/job/query", {"job_id": job_id}))["data"]
            live = rows[0]["f_live"] or {}
            if live.get("components", {}).get(component, {}).get("status") == status:
                return
            assert rows[0]["f_status"] not in {s.value for s in JobStatus if s.is_end}, rows[0]
            await asyncio.sleep(0.1)


async def stream_upload(
    client: httpx.AsyncClient, source: Path, conf: dict[str, Any], *, accept: str | None = None
) -> httpx.Response:
    """POST ``source``'s bytes to ``/v1/data/upload`` as the CLI does: conf in the query, hash in a header."""
    content = source.read_bytes()
    headers = {
        "Content-Type": "application/octet-stream",
        "X-Content-SHA256": hashlib.sha256(content).hexdigest(),
    }
    if accept is not None:
        headers["Accept"] = accept
    params = {"conf": json.dumps({"file": source.name, **conf})}
    return await client.post("/v1/data/upload", params=params, content=content, headers=headers)
