"""FATE-Flow's ``flow checkpoint list|get`` and ``flow model migrate -c`` over the HTTP API
(:mod:`accord.api.lifecycle`), with FATE's flags."""

from __future__ import annotations

from pathlib import Path

import click

from accord.cli.confs import read_conf
from accord.cli.job import _api, remote, server_option
from accord.cli.model import model_id_option, model_version_option, party_option, role_option
from accord.cli.root import emit

_component = click.option("-cpn", "--component-name", required=True, help="the training component")


@click.group()
def checkpoint() -> None:
    """The model checkpoints (ModelCheckpoint) a training component saved on one party."""


@checkpoint.command("list")
@role_option(required=True)
@party_option(required=True)
@model_id_option(required=True)
@model_version_option(required=True)
@_component
@server_option
@remote
def checkpoint_list(
    role: str, party_id: int, model_id: str, model_version: str, component_name: str, server: str | None
) -> None:
    """Each checkpoint's step index and name, time, and its model's checksum."""
    body = {
        "role": role,
        "party_id": party_id,
        "model_id": model_id,
        "model_version": model_version,
        "component_name": component_name,
    }
    with _api(server) as api:
        emit(api.call("/v1/checkpoint/list", body))


@checkpoint.command("get")
@role_option(required=True)
@party_option(required=True)
@model_id_option(required=True)
@model_version_option(required=True)
@_component
@click.option("--step-index", type=click.IntRange(min=0), help="the checkpoint's step (iteration)")
@click.option("--step-name", help="the checkpoint's step name (the last saved under it)")
@server_option
@remote
def checkpoint_get(
    role: str,
    party_id: int,
    model_id: str,
    model_version: str,
    component_name: str,
    step_index: int | None,
    step_name: str | None,
    server: str | None,
) -> None:
    """One checkpoint with its model, by --step-index or --step-name."""
    if (step_index is None) == (step_name is None):
        # FATE's client says so and exits 2, before asking the server.
        raise click.UsageError("give exactly one of '--step-index' and '--step-name'")
    body = {
        "role": role,
        "party_id": party_id,
        "model_id": model_id,
        "model_version": model_version,
        "component_name": component_name,
    }
    if step_index is not None:
        body["step_index"] = step_index
    else:
        body["step_name"] = step_name
    with _api(server) as api:
        emit(api.call("/v1/checkpoint/get", body))


@click.command("migrate")
@click.option(
    "-c",
    "--conf-path",
    "conf_path",
    required=True,
    type=click.Path(path_type=Path, dir_okay=False),
    help="FATE's migrate conf: model_id, model_version, role, migrate_role, migrate_initiator, execute_party",
)
@server_option
@remote
def migrate(conf_path: Path, server: str | None) -> None:
    """A model version re-keyed to new party ids: a new version under the new parties' model id."""
    body = read_conf(conf_path, "migrate conf")
    with _api(server) as api:
        emit(api.call("/v1/model/migrate", body))


CHECKPOINT_COMMANDS = [checkpoint]
