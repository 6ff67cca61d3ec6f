"""``accord init``, ``accord job …`` and ``accord task …``: FATE-Flow's job commands over the HTTP API."""

from __future__ import annotations

import functools
import io
import sys
import tarfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from accord.cli.root import coded_errors, emit
from accord.dsl_compiler import read_json_file
from accord.errors import ArgumentError, ConnectionFailure, DataError, exit_code
from accord.status import JobStatus, TaskStatus

if TYPE_CHECKING:
    from accord.cli.http import Api

F = TypeVar("F", bound=Callable[..., Any])

POLL_S = 0.5
# Polls that may fail in a row (a restarting server, a network blip) before --wait gives up.
POLL_FAILURES = 6
_ENDED = {s.value for s in JobStatus if s.is_end}
# When a component's parties disagree, the worst status is the component's, as FATE-Flow reports it.
_WORST_FIRST = ["failed", "timeout", "canceled", "running", "ready", "waiting", "pass", "success"]


def _api(server: str | None) -> Api:
    # httpx is imported only by commands that talk to a server, keeping `accord dsl` quick to start.
    from accord.cli.http import Api, resolve_server

    return Api(resolve_server(server))


def remote(command: F) -> F:
    """:func:`coded_errors`, and a server's error envelope printed unchanged with its code's exit status."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from accord.cli.http import RemoteError

        try:
            return command(*args, **kwargs)
        except RemoteError as failure:
            emit(failure.envelope)
            sys.exit(exit_code(failure.error))

    return coded_errors(wrapper)  # type: ignore[return-value]


server_option = click.option(
    "--server", metavar="URL", help="the site's HTTP API (default: $ACCORD_SERVER, then `accord init`'s)"
)
job_id_option = click.option("-j", "--job-id", required=True, help="the job id submit printed")
role_option = click.option("-r", "--role", type=click.Choice(["guest", "host", "arbiter", "local"]))
party_option = click.option("-p", "--party-id", type=int)


def _given(**values: Any) -> dict[str, Any]:
    return {k: v for k, v in values.items() if v is not None}


@click.command("init")
@click.option("--ip", help="the server's host (with --port)")
@click.option("--port", type=click.IntRange(1, 65535), help="the server's HTTP port (with --ip)")
@click.option("--server", metavar="URL", help="the server's address as a URL, instead of --ip and --port")
@click.option("--app-key", help="sign requests with this app key (a cluster site's); needs --app-secret")
@click.option("--app-secret", help="the app key's secret")
@coded_errors
def init(
    ip: str | None, port: int | None, server: str | None, app_key: str | None, app_secret: str | None
) -> None:
    """Save the server address that later commands use (in ~/.accord/cli.json or $ACCORD_CLI_CONF).

    A cluster site takes only signed requests: give the app key and secret its operator issued. They
    are saved with the address in a file only you can read, replacing what an earlier init saved;
    $ACCORD_APP_KEY and $ACCORD_APP_SECRET override them.
    """
    from accord.cli.http import AppCredentials, check_url, save_server

    if server is not None and ip is None and port is None:
        url = check_url(server)
    elif server is None and ip is not None and port is not None:
        host = f"[{ip}]" if ":" in ip and not ip.startswith("[") else ip
        url = f"http://{host}:{port}"
    else:
        raise ArgumentError(
            "give the server as --ip and --port, or as --server URL", hint="e.g. --ip 127.0.0.1 --port 9380"
        )
    if bool(app_key) != bool(app_secret):
        given, absent = ("--app-key", "--app-secret") if app_key else ("--app-secret", "--app-key")
        raise ArgumentError(f"{given} needs {absent}", hint="give both, or neither for a standalone site")
    credentials = AppCredentials(app_key, app_secret) if app_key and app_secret else None
    path = save_server(url, credentials)
    data = {"server": url, "conf_path": str(path)}
    if credentials is not None:
        # The key, never the secret: this output lands in terminals and logs.
        data["app_key"] = credentials.app_key
    emit({"retcode": 0, "retmsg": "success", "data": data})


@click.group()
def job() -> None:
    """Submit, follow, stop and rerun jobs on a site."""


@click.group()
def task() -> None:
    """Query a job's tasks."""


@job.command("submit")
@click.option("-d", "--dsl", "dsl_path", required=True, type=click.Path(path_type=Path), help="DSL v2")
@click.option(
    "-c", "--conf", "conf_path", required=True, type=click.Path(path_type=Path), help="runtime conf"
)
@click.option("--wait", is_flag=True, help="follow the job on stderr until it ends; exit 0 only on success")
@click.option(
    "--timeout", metavar="S", type=click.FloatRange(min=0, min_open=True), help="stop waiting after S seconds"
)
@server_option
@remote
def submit(dsl_path: Path, conf_path: Path, wait: bool, timeout: float | None, server: str | None) -> None:
    """Submit a job. With --wait (or --timeout), wait for it and exit 1 unless it succeeds."""
    body = {"job_dsl": read_json_file(dsl_path, "dsl"), "job_runtime_conf": read_json_file(conf_path, "conf")}
    with _api(server) as api:
        envelope = api.call("/v1/job/submit", body)
        if not (wait or timeout is not None):
            emit(envelope)
            return
        job_id = str(envelope["jobId"])
        _err(f"job {job_id} submitted; board: {envelope['data'].get('board_url')}")
        try:
            status, reason = follow(api, job_id, timeout)
        except KeyboardInterrupt:
            _err(f"stopped waiting; job {job_id} goes on (stop it with `accord job stop -j {job_id}`)")
            sys.exit(130)
    emit({**envelope, "data": {**envelope["data"], "status": status, "status_reason": reason}})
    if status not in _ENDED:
        _err(
            f"gave up waiting after {timeout:g} s: job {job_id} is still {status}; it goes on (stop it "
            f"with `accord job stop -j {job_id}`)"
        )
        sys.exit(1)
    _err(f"job {job_id} {status}" + (f": {reason}" if reason else ""))
    if status != JobStatus.SUCCESS.value:
        sys.exit(1)


class Progress:
    """One stderr line per change of the job's status or reason, and of each component's status."""

    def __init__(self) -> None:
        self._job: tuple[str, str] | None = None
        self._components: dict[str, str] = {}

    def job(self, status: str, reason: str) -> None:
        if (status, reason) != self._job:
            self._job = (status, reason)
            _err(f"job {status}" + (f": {reason}" if reason else ""))

    def component(self, name: str, status: str, error: str = "") -> None:
        # Every component starts waiting; saying so for each would only be noise.
        if self._components.get(name, TaskStatus.WAITING.value) != status:
            self._components[name] = status
            _err(f"{name} {status}" + (f": {error}" if error else ""))


def follow(api: Api, job_id: str, timeout: float | None) -> tuple[str, str]:
    """Poll the job until it ends or ``timeout`` passes; its last (status, reason)."""
    progress = Progress()
    deadline = None if timeout is None else time.monotonic() + timeout
    last, failures = (JobStatus.WAITING.value, ""), 0
    while True:
        try:
            rows = api.call("/v1/job/query", {"job_id": job_id})["data"]
            failures = 0
        except ConnectionFailure:
            failures += 1
            if failures >= POLL_FAILURES:
                raise
            rows = []
        if rows:
            row = next((r for r in rows if r.get("f_is_initiator")), rows[0])
            last = (str(row["f_status"]), str(row.get("f_status_reason") or ""))
            if last[0] in _ENDED:
                _final_components(api, job_id, progress)
                return last
            live = row.get("f_live") or {}
            progress.job(str(live.get("status") or last[0]), str(live.get("reason") or last[1]))
            for name, view in (live.get("components") or {}).items():
                progress.component(name, str(view.get("status")), str(view.get("error") or ""))
        pause = POLL_S
        if deadline is not None:
            pause = min(pause, deadline - time.monotonic())
            if pause <= 0:
                return last
        time.sleep(pause)


def _final_components(api: Api, job_id: str, progress: Progress) -> None:
    """Each component's end status from its newest tasks: the live view is gone once the job ends."""
    newest: dict[str, tuple[int, list[str]]] = {}
    for row in api.call("/v1/job/task/query", {"job_id": job_id})["data"]:
        name, version = str(row["f_component_name"]), int(row["f_task_version"])
        seen = newest.get(name)
        if seen is None or version > seen[0]:
            newest[name] = (version, [])
        if newest[name][0] == version:
            newest[name][1].append(str(row["f_status"]))
    for name, (_, statuses) in newest.items():
        progress.component(
            name, min(statuses, key=lambda s: _WORST_FIRST.index(s) if s in _WORST_FIRST else 0)
        )


def _err(line: str) -> None:
    click.echo(line, err=True)


@job.command("query")
@job_id_option
@role_option
@party_option
@click.option("-s", "--status", type=click.Choice([s.value for s in JobStatus]))
@server_option
@remote
def query(
    job_id: str, role: str | None, party_id: int | None, status: str | None, server: str | None
) -> None:
    """Print every party's row of a job."""
    with _api(server) as api:
        emit(api.call("/v1/job/query", _given(job_id=job_id, role=role, party_id=party_id, status=status)))


@job.command("list")
@click.option("-l", "--limit", type=click.IntRange(1, 1000), default=20, show_default=True)
@click.option("-s", "--status", type=click.Choice([s.value for s in JobStatus]))
@server_option
@remote
def list_jobs(limit: int, status: str | None, server: str | None) -> None:
    """Print the newest jobs' party rows."""
    with _api(server) as api:
        emit(api.call("/v1/job/list/job", _given(limit=limit, status=status)))


@job.command("stop")
@job_id_option
@server_option
@remote
def stop(job_id: str, server: str | None) -> None:
    """Stop a waiting or running job; it ends as canceled."""
    with _api(server) as api:
        emit(api.call("/v1/job/stop", {"job_id": job_id}))


@job.command("rerun")
@job_id_option
@click.option("-cpn", "--component-name", help="rerun from this component (and what depends on it)")
@click.option("--force", is_flag=True, help="rerun components that already succeeded too")
@server_option
@remote
def rerun(job_id: str, component_name: str | None, force: bool, server: str | None) -> None:
    """Run an ended job again from its failed components."""
    with _api(server) as api:
        emit(api.call("/v1/job/rerun", _given(job_id=job_id, component_name=component_name, force=force)))


@job.command("log")
@job_id_option
@click.option(
    "-o", "--output-path", "output", required=True, type=click.Path(path_type=Path, file_okay=False)
)
@server_option
@remote
def log(job_id: str, output: Path, server: str | None) -> None:
    """Download a job's logs and unpack them into OUTPUT-PATH/<job id>."""
    with _api(server) as api:
        archive = api.download("/v1/job/log/download", {"job_id": job_id})
    directory = _unpack(archive, output) / job_id
    emit({"retcode": 0, "retmsg": "success", "data": {"directory": str(directory)}, "jobId": job_id})


def _unpack(archive: bytes, output: Path) -> Path:
    try:
        output.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise ArgumentError(
            f"cannot create {str(output)!r}: {error.strerror}", hint="choose another -o"
        ) from None
    try:
        with tarfile.open(fileobj=io.BytesIO(archive), mode="r:gz") as tar:
            # The "data" filter refuses absolute paths, links out of the folder and device files.
            tar.extractall(output, filter="data")
    except (tarfile.TarError, EOFError, OSError) as error:
        raise DataError(f"cannot unpack the job's log archive into {str(output)!r}: {error}") from None
    return output.resolve()


@task.command("query")
@job_id_option
@click.option("-cpn", "--component-name", help="only this component's tasks")
@role_option
@party_option
@click.option("-s", "--status", type=click.Choice([s.value for s in TaskStatus]))
@server_option
@remote
def task_query(
    job_id: str,
    component_name: str | None,
    role: str | None,
    party_id: int | None,
    status: str | None,
    server: str | None,
) -> None:
    """Print every version of every task of a job."""
    body = _given(job_id=job_id, component_name=component_name, role=role, party_id=party_id, status=status)
    with _api(server) as api:
        emit(api.call("/v1/job/task/query", body))


JOB_COMMANDS = [init, job, task]
