"""``accord init``, ``accord job …`` and ``accord task …``: FATE-Flow's job commands over the HTTP API."""

from __future__ import annotations

import functools
import io
import json
import sys
import tarfile
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from accord.cli.follow import follow, wait_and_report
from accord.cli.jobviews import job_view, print_jobs, print_query, print_view, wants_json
from accord.cli.root import coded_errors, emit
from accord.dsl_compiler import read_json_file
from accord.errors import ArgumentError, DataError, RecordNotFound, exit_code
from accord.status import JobStatus, TaskStatus

if TYPE_CHECKING:
    from accord.cli.http import Api

F = TypeVar("F", bound=Callable[..., Any])

# `follow` is imported by other commands (accord demo) from here.
__all__ = ["JOB_COMMANDS", "follow"]


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
json_option = click.option(
    "--json",
    "as_json",
    is_flag=True,
    help="print the JSON envelope (the default when stdout is not a terminal)",
)
wait_option = click.option(
    "--wait", is_flag=True, help="follow the job on stderr until it ends; exit 0 only on success"
)
timeout_option = click.option(
    "--timeout", metavar="S", type=click.FloatRange(min=0, min_open=True), help="stop waiting after S seconds"
)


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
@click.option(
    "-d", "--dsl", "--dsl-path", "dsl_path", required=True, type=click.Path(path_type=Path), help="DSL v2"
)
@click.option(
    "-c",
    "--conf",
    "--conf-path",
    "conf_path",
    required=True,
    type=click.Path(path_type=Path),
    help="runtime conf",
)
@wait_option
@timeout_option
@server_option
@remote
def submit(dsl_path: Path, conf_path: Path, wait: bool, timeout: float | None, server: str | None) -> None:
    """Submit a job. With --wait (or --timeout), follow it and exit non-zero unless it succeeds.

    While it runs, stderr shows each status change and a live line with the running component, its
    iteration and last loss; a job that fails ends with `job <id> failed: <reason>` and a non-zero
    retcode.
    """
    body = {"job_dsl": read_json_file(dsl_path, "dsl"), "job_runtime_conf": read_json_file(conf_path, "conf")}
    with _api(server) as api:
        envelope = api.call("/v1/job/submit", body)
        if not (wait or timeout is not None):
            emit(envelope)
            return
        job_id = str(envelope["jobId"])
        _err(f"job {job_id} submitted; board: {envelope['data'].get('board_url')}")
        wait_and_report(api, envelope, job_id, timeout)


@job.command("wait")
@job_id_option
@timeout_option
@server_option
@remote
def wait_job(job_id: str, timeout: float | None, server: str | None) -> None:
    """Follow a job until it ends, as submit --wait does; exit 0 only if it succeeds."""
    with _api(server) as api:
        rows = api.call("/v1/job/query", {"job_id": job_id})["data"]
        row = next((r for r in rows if r.get("f_is_initiator")), rows[0] if rows else {})
        data: dict[str, Any] = {"job_id": job_id}
        if row.get("f_model_id"):
            data["model_info"] = {"model_id": row["f_model_id"], "model_version": row.get("f_model_version")}
        envelope = {"retcode": 0, "retmsg": "success", "data": data, "jobId": job_id}
        wait_and_report(api, envelope, job_id, timeout)


def _err(line: str) -> None:
    click.echo(line, err=True)


@job.command("query")
@job_id_option
@role_option
@party_option
@click.option("-s", "--status", type=click.Choice([s.value for s in JobStatus]))
@json_option
@server_option
@remote
def query(
    job_id: str, role: str | None, party_id: int | None, status: str | None, as_json: bool, server: str | None
) -> None:
    """Print every party's row of a job (a table on a terminal, else the JSON envelope)."""
    with _api(server) as api:
        envelope = api.call(
            "/v1/job/query", _given(job_id=job_id, role=role, party_id=party_id, status=status)
        )
    if wants_json(as_json):
        emit(envelope)
    else:
        print_query(envelope)


@job.command("list")
@click.option("-l", "--limit", type=click.IntRange(1, 1000), default=20, show_default=True)
@click.option("-s", "--status", type=click.Choice([s.value for s in JobStatus]))
@json_option
@server_option
@remote
def list_jobs(limit: int, status: str | None, as_json: bool, server: str | None) -> None:
    """Print the newest jobs' party rows (a table on a terminal, else the JSON envelope)."""
    with _api(server) as api:
        envelope = api.call("/v1/job/list/job", _given(limit=limit, status=status))
    if wants_json(as_json):
        emit(envelope)
    else:
        print_jobs(envelope, (envelope.get("data") or {}).get("jobs") or [])


@job.command("stop")
@job_id_option
@server_option
@remote
def stop(job_id: str, server: str | None) -> None:
    """Stop a waiting or running job; it ends as canceled."""
    with _api(server) as api:
        emit(api.call("/v1/job/stop", {"job_id": job_id}))


@job.command("pause")
@job_id_option
@server_option
@remote
def pause(job_id: str, server: str | None) -> None:
    """Pause a job: running tasks finish, no new one starts, its cores and queue slot are returned."""
    with _api(server) as api:
        emit(api.call("/v1/job/pause", {"job_id": job_id}))


@job.command("resume")
@job_id_option
@server_option
@remote
def resume(job_id: str, server: str | None) -> None:
    """Resume a paused job: it queues again and carries on where it stopped."""
    with _api(server) as api:
        emit(api.call("/v1/job/resume", {"job_id": job_id}))


@job.command("rerun")
@job_id_option
@click.option("-cpn", "--component-name", help="rerun from this component (and what depends on it)")
@click.option("--force", is_flag=True, help="rerun components that already succeeded too")
@wait_option
@timeout_option
@server_option
@remote
def rerun(
    job_id: str,
    component_name: str | None,
    force: bool,
    wait: bool,
    timeout: float | None,
    server: str | None,
) -> None:
    """Run an ended job again from its failed components; --wait follows it as submit --wait does."""
    with _api(server) as api:
        envelope = api.call(
            "/v1/job/rerun", _given(job_id=job_id, component_name=component_name, force=force)
        )
        if not (wait or timeout is not None):
            emit(envelope)
            return
        _err(f"job {job_id} rerunning")
        wait_and_report(api, envelope, job_id, timeout)


@job.command("parameter-update")
@job_id_option
@click.option(
    "-c",
    "--conf-path",
    "conf_path",
    required=True,
    type=click.Path(path_type=Path, dir_okay=False),
    help='JSON with "job_parameters" and/or "component_parameters", shaped as in the runtime conf',
)
@server_option
@remote
def parameter_update(job_id: str, conf_path: Path, server: str | None) -> None:
    """Merge new parameters into an ended job's conf (FATE's `flow job parameter-update`); then rerun it."""
    update = read_json_file(conf_path, "parameter update")
    if not isinstance(update, dict):
        raise ArgumentError(
            f"parameter update {conf_path.name} is not a JSON object",
            hint='give {"component_parameters": {"common": {"hetero_lr_0": {"max_iter": 5}}}}',
        )
    unknown = sorted(set(update) - {"job_parameters", "component_parameters"})
    if unknown:
        raise ArgumentError(
            f"parameter update {conf_path.name} has {', '.join(unknown)}, which an update cannot change",
            hint="give only job_parameters and component_parameters; roles and the DSL stay the job's",
        )
    with _api(server) as api:
        emit(api.call("/v1/job/parameter/update", {"job_id": job_id, **update}))


@job.command("view")
@job_id_option
@json_option
@server_option
@remote
def view(job_id: str, as_json: bool, server: str | None) -> None:
    """A job at a glance: its status and progress, and each component's newest tasks on each party."""
    with _api(server) as api:
        rows = api.call("/v1/job/query", {"job_id": job_id})["data"]
        tasks = api.call("/v1/job/task/query", {"job_id": job_id})["data"]
    row = next((r for r in rows if r.get("f_is_initiator")), rows[0])
    summary = job_view(row, tasks)
    if wants_json(as_json):
        emit({"retcode": 0, "retmsg": "success", "data": summary, "jobId": job_id})
    else:
        print_view(summary)


@job.command("config")
@job_id_option
@click.option("-r", "--role", required=True, type=click.Choice(["guest", "host", "arbiter", "local"]))
@click.option("-p", "--party-id", required=True, type=int)
@click.option(
    "-o", "--output-path", "output", required=True, type=click.Path(path_type=Path, file_okay=False)
)
@server_option
@remote
def config(job_id: str, role: str, party_id: int, output: Path, server: str | None) -> None:
    """Write the job's DSL, runtime conf and model info into OUTPUT-PATH/job_<id>_config, as FATE does."""
    with _api(server) as api:
        rows = api.call("/v1/job/query", {"job_id": job_id, "role": role, "party_id": party_id})["data"]
    if not rows:
        raise RecordNotFound(f"job {job_id} has no party {role} {party_id} on this site")
    row = rows[0]
    model_info = {"model_id": row.get("f_model_id"), "model_version": row.get("f_model_version")}
    directory = output.resolve() / f"job_{job_id}_config"
    files = {"dsl": row.get("f_dsl"), "runtime_conf": row.get("f_runtime_conf"), "model_info": model_info}
    try:
        directory.mkdir(parents=True, exist_ok=True)
        for name, document in files.items():
            (directory / f"{name}.json").write_text(json.dumps(document, indent=4, ensure_ascii=False))
    except OSError as error:
        raise ArgumentError(
            f"cannot write into {str(directory)!r}: {error.strerror}", hint="choose another -o"
        ) from None
    emit(
        {
            "retcode": 0,
            "retmsg": f"download successfully, please check {directory} directory",
            "directory": str(directory),
            "data": {"job_id": job_id, "model_info": model_info},
            "jobId": job_id,
        }
    )


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
