"""FATE-Flow's ``flow resource``, ``flow provider``, ``flow tag``, ``flow task list`` and
``flow server versions`` over the HTTP API (:mod:`accord.api.flow`, :mod:`accord.api.tags`)."""

from __future__ import annotations

from typing import Any

import click

from accord.cli.job import _api, remote, server_option
from accord.cli.root import emit

_tag_name = click.option("-t", "--tag-name", required=True, help="the tag's name")
_limit = click.option("-l", "--limit", type=click.IntRange(1, 10_000), default=10, show_default=True)


def _call(server: str | None, path: str, body: dict[str, Any]) -> None:
    with _api(server) as api:
        emit(api.call(path, body))


@click.group()
def resource() -> None:
    """The site's computing cores and the jobs holding them."""


@resource.command("query")
@server_option
@remote
def resource_query(server: str | None) -> None:
    """The computing engine's cores, how many are free, and which jobs hold the rest."""
    _call(server, "/v1/resource/query", {})


@resource.command("return")
@click.option("-j", "--job-id", required=True, help="the job whose cores to give back")
@server_option
@remote
def resource_return(job_id: str, server: str | None) -> None:
    """Give back the cores a job's parties on this site hold."""
    _call(server, "/v1/resource/return", {"job_id": job_id})


@click.group()
def provider() -> None:
    """The component packages installed on the site."""


@provider.command("list")
@server_option
@remote
def provider_list(server: str | None) -> None:
    """Each installed module by the package and version providing it: what a job may use here."""
    _call(server, "/v1/provider/get", {})


@click.group()
def tag() -> None:
    """Tags for model versions (`accord model tag-model` puts them on)."""


@tag.command("create")
@_tag_name
@click.option("-d", "--tag-desc", default="", help="what the tag means")
@server_option
@remote
def tag_create(tag_name: str, tag_desc: str, server: str | None) -> None:
    """Create a tag."""
    _call(server, "/v1/model/tag/create", {"tag_name": tag_name, "tag_desc": tag_desc})


@tag.command("update")
@_tag_name
@click.option("--new-tag-name", help="rename the tag")
@click.option("--new-tag-desc", help="a new description")
@server_option
@remote
def tag_update(tag_name: str, new_tag_name: str | None, new_tag_desc: str | None, server: str | None) -> None:
    """Rename a tag or change its description; its models keep it."""
    body = {"tag_name": tag_name, "new_tag_name": new_tag_name, "new_tag_desc": new_tag_desc}
    _call(server, "/v1/model/tag/update", {k: v for k, v in body.items() if v is not None})


@tag.command("list")
@_limit
@server_option
@remote
def tag_list(limit: int, server: str | None) -> None:
    """The newest tags, with how many model versions each labels."""
    _call(server, "/v1/model/tag/list", {"limit": limit})


@tag.command("query")
@_tag_name
@click.option("--with-model", is_flag=True, help="list the model versions it labels")
@server_option
@remote
def tag_query(tag_name: str, with_model: bool, server: str | None) -> None:
    """One tag."""
    _call(server, "/v1/model/tag/retrieve", {"tag_name": tag_name, "with_model": with_model})


@tag.command("delete")
@_tag_name
@server_option
@remote
def tag_delete(tag_name: str, server: str | None) -> None:
    """Delete a tag and take it off every model version."""
    _call(server, "/v1/model/tag/destroy", {"tag_name": tag_name})


@click.command("list")
@_limit
@click.option("-j", "--job-id", help="only this job's tasks")
@click.option("-s", "--status", help="only tasks in this status")
@server_option
@remote
def task_list(limit: int, job_id: str | None, status: str | None, server: str | None) -> None:
    """The newest tasks on the site, newest first."""
    body = {"limit": limit, "job_id": job_id, "status": status}
    _call(server, "/v1/job/list/task", {k: v for k, v in body.items() if v is not None})


@click.command("versions")
@server_option
@remote
def versions(server: str | None) -> None:
    """The server's Accord version and the FATE release it follows."""
    _call(server, "/v1/server/version/get", {})


FLOW_COMMANDS = [resource, provider, tag]
