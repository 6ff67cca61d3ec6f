"""``accord model …``: a site's model versions over the HTTP API (FATE-Flow's ``flow model``).

``model`` is a click group: other families of model commands join it with ``model.add_command``, and
can share the options below so every model command spells them the same way.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from accord.cli.job import _api, remote, server_option
from accord.cli.root import emit
from accord.errors import ArgumentError

ROLES = ["guest", "host", "arbiter", "local"]
F = TypeVar("F", bound=Callable[..., Any])


def model_id_option(*, required: bool) -> Callable[[F], F]:
    return click.option(
        "--model-id", required=required, help="e.g. arbiter-10000#guest-9999#host-10000#model"
    )


def model_version_option(*, required: bool) -> Callable[[F], F]:
    return click.option(
        "--model-version", required=required, help="the training job's id, or a deployed version"
    )


def role_option(*, required: bool) -> Callable[[F], F]:
    return click.option("-r", "--role", type=click.Choice(ROLES), required=required)


def party_option(*, required: bool) -> Callable[[F], F]:
    return click.option("-p", "--party-id", type=click.IntRange(min=0), required=required)


def _given(**values: Any) -> dict[str, Any]:
    return {key: value for key, value in values.items() if value is not None}


@click.group()
def model() -> None:
    """List, query, export, import and delete a site's model versions."""


@model.command("list")
@model_id_option(required=False)
@model_version_option(required=False)
@role_option(required=False)
@party_option(required=False)
@server_option
@remote
def list_models(
    model_id: str | None,
    model_version: str | None,
    role: str | None,
    party_id: int | None,
    server: str | None,
) -> None:
    """Print the site's model versions, one entry per party, newest first."""
    body = _given(model_id=model_id, model_version=model_version, role=role, party_id=party_id)
    with _api(server) as api:
        emit(api.call("/v1/model/query", body))


@model.command("query")
@model_id_option(required=True)
@model_version_option(required=True)
@role_option(required=False)
@party_option(required=False)
@click.option("--with-models", is_flag=True, help="print every component's model too")
@server_option
@remote
def query(
    model_id: str,
    model_version: str,
    role: str | None,
    party_id: int | None,
    with_models: bool,
    server: str | None,
) -> None:
    """Print one version in full: components, checksums, the training DSL and conf, the party's plan."""
    body = _given(model_id=model_id, model_version=model_version, role=role, party_id=party_id)
    with _api(server) as api:
        emit(api.call("/v1/model/query", {**body, "include_models": with_models}))


@model.command("export")
@model_id_option(required=True)
@model_version_option(required=True)
@role_option(required=True)
@party_option(required=True)
@click.option(
    "-o",
    "--output",
    required=True,
    type=click.Path(path_type=Path),
    help="the archive file to write (or a folder to write it in)",
)
@server_option
@remote
def export(
    model_id: str, model_version: str, role: str, party_id: int, output: Path, server: str | None
) -> None:
    """Write one party's model version to a checksummed zip archive the site signs."""
    from accord.cli.archive import ArchiveApi
    from accord.cli.transfer import save_stream

    body = {"model_id": model_id, "model_version": model_version, "role": role, "party_id": party_id}
    api = ArchiveApi.connect(server)
    with api:
        data = api.fetch_archive(body)
    target = output / f"{model_id}_{model_version}_{role}_{party_id}.zip" if output.is_dir() else output
    target = target.absolute()
    save_stream(iter([data]), target)
    saved = {"path": str(target), "size": len(data), "sha256": hashlib.sha256(data).hexdigest()}
    emit({"retcode": 0, "retmsg": "success", "data": body | saved})


@model.command("import")
@click.option(
    "-i",
    "--input",
    "source",
    required=True,
    type=click.Path(path_type=Path, dir_okay=False),
    help="an archive `accord model export` wrote",
)
@click.option("--force", is_flag=True, help="replace the version if the site already holds it")
@click.option(
    "--trust-unsigned",
    is_flag=True,
    help="accept an archive that is unsigned or signed by a site this one does not trust (logged)",
)
@server_option
@remote
def import_(source: Path, force: bool, trust_unsigned: bool, server: str | None) -> None:
    """Import a model archive: every checksum and the exporting site's signature are verified, and
    nothing is kept if one fails."""
    try:
        data = source.read_bytes()
    except OSError as error:
        raise ArgumentError(
            f"cannot read {str(source)!r}: {error.strerror or error}", hint="pass the archive's path with -i"
        ) from None
    from accord.cli.archive import ArchiveApi

    api = ArchiveApi.connect(server)
    with api:
        emit(api.send_archive(data, force=force, trust_unsigned=trust_unsigned))


@model.command("delete")
@model_id_option(required=True)
@model_version_option(required=True)
@role_option(required=False)
@party_option(required=False)
@server_option
@remote
def delete(
    model_id: str, model_version: str, role: str | None, party_id: int | None, server: str | None
) -> None:
    """Delete a version's models on the site (of one role or party if given)."""
    body = _given(model_id=model_id, model_version=model_version, role=role, party_id=party_id)
    with _api(server) as api:
        emit(api.call("/v1/model/delete", body))


@model.command("get-model-info")
@model_id_option(required=True)
@model_version_option(required=True)
@role_option(required=False)
@party_option(required=False)
@server_option
@remote
def get_model_info(
    model_id: str, model_version: str, role: str | None, party_id: int | None, server: str | None
) -> None:
    """Each party's version on the site: components, checksums, where it came from, and its tags."""
    body = _given(model_id=model_id, model_version=model_version, role=role, party_id=party_id)
    with _api(server) as api:
        emit(api.call("/v1/model/get/model/info", body))


@model.command("tag-model")
@click.option("-j", "--job-id", required=True, help="the model version: the training job's id")
@click.option("-t", "--tag-name", required=True, help="the tag (created if new)")
@click.option("--remove", is_flag=True, help="take the tag off instead")
@server_option
@remote
def tag_model(job_id: str, tag_name: str, remove: bool, server: str | None) -> None:
    """Tag a model version, or take a tag off it."""
    path = "/v1/model/model_tag/remove" if remove else "/v1/model/model_tag/create"
    with _api(server) as api:
        emit(api.call(path, {"job_id": job_id, "tag_name": tag_name}))


@model.command("tag-list")
@click.option("-j", "--job-id", required=True, help="the model version: the training job's id")
@server_option
@remote
def tag_list(job_id: str, server: str | None) -> None:
    """The tags on a model version."""
    with _api(server) as api:
        emit(api.call("/v1/model/model_tag/retrieve", {"job_id": job_id}))


MODEL_COMMANDS = [model]
