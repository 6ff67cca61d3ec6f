"""Online inference from the command line.

``accord model load | bind`` (``PUBLISH_COMMANDS``, joined to the ``model`` group) publish a model through the
site's HTTP API; ``accord serve`` runs the Inference endpoint in a process of its own; ``accord
predict`` scores one row over that endpoint.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import click

from accord.cli.confs import conf_option, merged, read_conf
from accord.cli.job import _api, remote, server_option
from accord.cli.model import model_id_option, model_version_option
from accord.cli.root import coded_errors, emit
from accord.cli.services import config_option, home_option, site_settings
from accord.errors import ArgumentError


def parse_host_table(text: str) -> tuple[int, dict[str, str]]:
    """``10000=experiment.breast_hetero_host`` → (10000, {namespace, name}); the namespace has no dot."""
    party, _, table = text.partition("=")
    namespace, _, name = table.partition(".")
    if not party.strip().isdigit() or not namespace or not name:
        raise ArgumentError(
            f"--host-table {text!r} is not PARTY_ID=NAMESPACE.NAME",
            hint="e.g. --host-table 10000=experiment.breast_hetero_host",
        )
    return int(party), {"namespace": namespace.strip(), "name": name.strip()}


_VERSION_SOURCES = {
    "model_id": ["job_parameters.model_id", "model_id", "job_parameters.common.model_id"],
    "model_version": ["job_parameters.model_version", "model_version", "job_parameters.common.model_version"],
}


@click.command("load")
@model_id_option(required=False)
@model_version_option(required=False)
@click.option(
    "--host-table",
    "host_tables",
    multiple=True,
    metavar="PARTY_ID=NAMESPACE.NAME",
    help="the table a host looks rows up in (default: the one its reader read in training); repeatable",
)
@conf_option("model load")
@server_option
@remote
def load(
    model_id: str | None,
    model_version: str | None,
    host_tables: tuple[str, ...],
    conf_path: Path | None,
    server: str | None,
) -> None:
    """Publish a model (HeteroLR, HeteroLinR, HeteroPoisson, HeteroSecureBoost, HomoSecureBoost) on every
    party for online inference (on the guest's site)."""
    given = {"model_id": model_id, "model_version": model_version}
    body: dict[str, Any] = merged(
        given, read_conf(conf_path, "model load conf"), _VERSION_SOURCES, "model load"
    )
    if host_tables:
        body["tables"] = {str(party): table for party, table in map(parse_host_table, host_tables)}
    with _api(server) as api:
        emit(api.call("/v1/model/load", body))


@click.command("bind")
@click.option("--service-id", help="the name requests use for the model")
@model_id_option(required=False)
@model_version_option(required=False)
@conf_option("model bind")
@server_option
@remote
def bind(
    service_id: str | None,
    model_id: str | None,
    model_version: str | None,
    conf_path: Path | None,
    server: str | None,
) -> None:
    """Point a service id at a loaded model version (binding again moves it)."""
    given = {"service_id": service_id, "model_id": model_id, "model_version": model_version}
    sources = {"service_id": ["service_id"], **_VERSION_SOURCES}
    body = merged(given, read_conf(conf_path, "model bind conf"), sources, "model bind")
    with _api(server) as api:
        emit(api.call("/v1/model/bind", body))


PUBLISH_COMMANDS = [load, bind]


@click.command("serve")
@home_option
@config_option
@click.option("--host", help="listen on this interface (default: the site's serving_host)")
@click.option("--port", type=click.IntRange(0, 65535), help="listen on this port (default: serving_port)")
@coded_errors
def serve(home: Path | None, config: Path | None, host: str | None, port: int | None) -> None:
    """Run the online inference endpoint (accord.serving.v1.Inference) in its own process."""
    from accord.cli.services import _logging
    from accord.serving.process import run_serving

    settings = site_settings(config, home)
    _logging()
    asyncio.run(run_serving(settings, host=host, port=port))


def _features(text: str) -> dict[str, float]:
    source = Path(text[1:]).read_text(encoding="utf-8") if text.startswith("@") else text
    try:
        values = json.loads(source)
        if not isinstance(values, dict):
            raise ValueError("not a JSON object")
        return {str(name): float(value) for name, value in values.items()}
    except (ValueError, TypeError) as error:
        raise ArgumentError(
            f"--features is not a JSON object of numbers: {error}",
            hint='e.g. --features \'{"x0": 0.25, "x1": -1.05}\', or --features @row.json',
        ) from None


@click.command("predict")
@click.option("--service-id", default="", help="a bound service id (or give --model-id and --model-version)")
@click.option("--model-id", default="")
@click.option("--model-version", default="")
@click.option("--sample-id", required=True, help="the row's id, under which the hosts know it")
@click.option("--features", required=True, help="the guest's features as a JSON object, or @FILE")
@click.option("--with-partials", is_flag=True, help="print each party's partial score too")
@click.option("--address", help="the Inference endpoint, host:port (default: the site's serving address)")
@home_option
@config_option
@coded_errors
def predict(
    service_id: str,
    model_id: str,
    model_version: str,
    sample_id: str,
    features: str,
    with_partials: bool,
    address: str | None,
    home: Path | None,
    config: Path | None,
) -> None:
    """Score one row with a published model, over gRPC."""
    from google.protobuf.json_format import MessageToDict

    from accord.serving import InferenceClient

    values = _features(features)

    async def call() -> dict[str, Any]:
        client = InferenceClient.from_settings(site_settings(config, home), address=address)
        try:
            reply = await client.predict(
                sample_id,
                values,
                service_id=service_id,
                model_id=model_id,
                model_version=model_version,
                with_partials=with_partials,
            )
        finally:
            await client.close()
        return MessageToDict(
            reply, preserving_proto_field_name=True, always_print_fields_with_no_presence=True
        )

    emit({"retcode": 0, "retmsg": "success", "data": asyncio.run(call())})


SERVING_COMMANDS = [serve, predict]
