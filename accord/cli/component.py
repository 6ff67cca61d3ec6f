"""``accord component …``: a job's components on one party, over the tracking API."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from accord.cli.job import _api, _given, job_id_option, remote, server_option
from accord.cli.root import emit
from accord.errors import ArgumentError

_role = click.option("-r", "--role", required=True, type=click.Choice(["guest", "host", "arbiter", "local"]))
_party = click.option("-p", "--party-id", required=True, type=int)
_component = click.option("-cpn", "--component-name", required=True, help="the component's name in the DSL")


@click.group()
def component() -> None:
    """Metrics, parameters, models and output data of a job's components."""


def _body(job_id: str, role: str, party_id: int, component_name: str, **more: Any) -> dict[str, Any]:
    return _given(job_id=job_id, role=role, party_id=party_id, component_name=component_name, **more)


@component.command("list")
@job_id_option
@_role
@_party
@server_option
@remote
def list_components(job_id: str, role: str, party_id: int, server: str | None) -> None:
    """The job's components on this party."""
    with _api(server) as api:
        emit(api.call("/v1/tracking/component/list", {"job_id": job_id, "role": role, "party_id": party_id}))


def _simple(name: str, path: str, doc: str) -> click.Command:
    @job_id_option
    @_role
    @_party
    @_component
    @server_option
    @remote
    def command(job_id: str, role: str, party_id: int, component_name: str, server: str | None) -> None:
        with _api(server) as api:
            emit(api.call(path, _body(job_id, role, party_id, component_name)))

    command.__doc__ = doc
    return component.command(name)(command)


_simple("metrics", "/v1/tracking/component/metrics", "The component's metric names by namespace.")
_simple("parameters", "/v1/tracking/component/parameters", "The component's parameters on this party.")
_simple("output-model", "/v1/tracking/component/output/model", "The model the component saved.")


@component.command("metric-all")
@job_id_option
@_role
@_party
@_component
@click.option("--namespace", "metric_namespace", help="only this metric namespace")
@click.option("--name", "metric_name", help="only this metric")
@server_option
@remote
def metric_all(
    job_id: str,
    role: str,
    party_id: int,
    component_name: str,
    metric_namespace: str | None,
    metric_name: str | None,
    server: str | None,
) -> None:
    """Every metric's points and meta."""
    body = _body(
        job_id, role, party_id, component_name, metric_namespace=metric_namespace, metric_name=metric_name
    )
    with _api(server) as api:
        emit(api.call("/v1/tracking/component/metric/all", body))


@component.command("output-data")
@job_id_option
@_role
@_party
@_component
@click.option("--output", help="the data output's name (default: the first)")
@click.option(
    "-o",
    "--output-path",
    type=click.Path(path_type=Path),
    help="write the whole output as CSV to this file, or into this directory as FATE does",
)
@server_option
@remote
def output_data(
    job_id: str,
    role: str,
    party_id: int,
    component_name: str,
    output: str | None,
    output_path: Path | None,
    server: str | None,
) -> None:
    """The component's output data: its first rows, or all of it as CSV with -o."""
    body = _body(job_id, role, party_id, component_name, output=output)
    with _api(server) as api:
        if output_path is None:
            emit(api.call("/v1/tracking/component/output/data", body))
            return
        content = api.download("/v1/tracking/component/output/data/download", body)
    if output_path.is_dir() or str(output_path).endswith(("/", "\\")):
        output_path = output_path / f"job_{job_id}_{component_name}_{role}_{party_id}_output_data.csv"
    try:
        output_path.parent.mkdir(parents=True, exist_ok=True)
        output_path.write_bytes(content)
    except OSError as error:
        raise ArgumentError(
            f"cannot write {str(output_path)!r}: {error.strerror}", hint="choose another -o"
        ) from None
    emit({"retcode": 0, "retmsg": "success", "data": {"path": str(output_path.resolve())}, "jobId": job_id})


_simple(
    "output-data-table",
    "/v1/tracking/component/output/data/table",
    "Where each of the component's data outputs is stored on this party.",
)


@component.command("get-summary")
@job_id_option
@_role
@_party
@_component
@click.option(
    "-o",
    "--output-path",
    type=click.Path(path_type=Path),
    help="write the summary as JSON into this directory",
)
@server_option
@remote
def get_summary(
    job_id: str, role: str, party_id: int, component_name: str, output_path: Path | None, server: str | None
) -> None:
    """The summary the component recorded (iterations, convergence, counts)."""
    with _api(server) as api:
        reply = api.call(
            "/v1/tracking/component/summary/download", _body(job_id, role, party_id, component_name)
        )
    if output_path is None:
        emit(reply)
        return
    target = output_path / f"{job_id}_{component_name}_{role}_{party_id}_summary.json"
    try:
        output_path.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(reply.get("data"), indent=4), encoding="utf-8")
    except OSError as error:
        raise ArgumentError(
            f"cannot write {str(target)!r}: {error.strerror}", hint="choose another -o"
        ) from None
    emit({"retcode": 0, "retmsg": "success", "data": {"path": str(target.resolve())}, "jobId": job_id})


@component.command("metric-delete")
@click.option("-j", "--job-id", help="delete this job's metrics")
@click.option("-d", "--date", help="delete the metrics recorded on this day, YYYYMMDD")
@server_option
@remote
def metric_delete(job_id: str | None, date: str | None, server: str | None) -> None:
    """Delete a job's metrics, or a day's."""
    if job_id is None and date is None:
        raise ArgumentError("metric-delete needs -j JOB_ID or -d YYYYMMDD", hint="give one of them")
    body = {k: v for k, v in {"job_id": job_id, "date": date}.items() if v is not None}
    with _api(server) as api:
        emit(api.call("/v1/tracking/component/metric/delete", body))


COMPONENT_COMMANDS = [component]
