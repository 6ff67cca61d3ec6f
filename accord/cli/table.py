"""``accord table info|list|delete``: FATE-Flow's table commands over the HTTP API."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from accord.cli.job import remote, server_option
from accord.cli.root import emit

if TYPE_CHECKING:
    from accord.cli.http import Api

namespace_option = click.option("-n", "--namespace", required=True, help="the table's namespace")
name_option = click.option("-t", "--table-name", required=True, help="the table's name")


def _api(server: str | None) -> Api:
    from accord.cli.http import Api, resolve_server

    return Api(resolve_server(server))


def _call(server: str | None, path: str, body: dict[str, Any]) -> None:
    with _api(server) as api:
        emit(api.call(path, body))


@click.group()
def table() -> None:
    """Look at and delete a site's tables."""


@table.command("info")
@namespace_option
@name_option
@server_option
@remote
def info(namespace: str, table_name: str, server: str | None) -> None:
    """Print a table's count, partitions, schema and address (exist: 0 when there is no such table)."""
    _call(server, "/v1/table/table_info", {"namespace": namespace, "table_name": table_name})


@table.command("list")
@click.option("-n", "--namespace", help="only this namespace's tables")
@click.option("-l", "--limit", type=click.IntRange(1, 10_000), default=100, show_default=True)
@server_option
@remote
def list_tables(namespace: str | None, limit: int, server: str | None) -> None:
    """Print the site's tables, ordered by namespace and name."""
    body: dict[str, Any] = {"limit": limit}
    if namespace is not None:
        body["namespace"] = namespace
    _call(server, "/v1/table/list", body)


@table.command("delete")
@namespace_option
@name_option
@server_option
@remote
def delete(namespace: str, table_name: str, server: str | None) -> None:
    """Delete a table and its data."""
    _call(server, "/v1/table/delete", {"namespace": namespace, "table_name": table_name})


@table.command("bind")
@click.option(
    "-c",
    "--conf-path",
    "conf_path",
    required=True,
    type=click.Path(path_type=Path, dir_okay=False),
    help='FATE\'s bind conf: namespace, name and "address": {"path": ...} of a file on the site',
)
@click.option("--drop", is_flag=True, help="replace the table if it exists")
@server_option
@remote
def bind(conf_path: Path, drop: bool, server: str | None) -> None:
    """Make a Parquet or CSV file on the site (below its upload_roots) a table."""
    from accord.cli.confs import read_conf

    body = read_conf(conf_path, "table bind conf")
    if drop:
        body["drop"] = 1
    _call(server, "/v1/table/bind", body)


# ---- grants: which parties' jobs may read a table (cluster mode) -------------------------------

party_option = click.option(
    "--party",
    required=True,
    help="the party id whose jobs may read the table, or '*' for every party",
)


@table.command("grant")
@namespace_option
@name_option
@party_option
@server_option
@remote
def grant(namespace: str, table_name: str, party: str, server: str | None) -> None:
    """Let jobs initiated by another party read this table (cluster mode; own jobs need no grant)."""
    _call(server, "/v1/table/grant", {"namespace": namespace, "table_name": table_name, "party": party})


@table.command("revoke")
@namespace_option
@name_option
@party_option
@server_option
@remote
def revoke(namespace: str, table_name: str, party: str, server: str | None) -> None:
    """Withdraw a grant: that party's jobs can no longer read the table."""
    _call(server, "/v1/table/revoke", {"namespace": namespace, "table_name": table_name, "party": party})


@table.command("grants")
@click.option("-n", "--namespace", help="only this namespace's grants")
@click.option("-t", "--table-name", help="only this table's grants")
@server_option
@remote
def grants(namespace: str | None, table_name: str | None, server: str | None) -> None:
    """Print which parties each table is granted to."""
    body = {"namespace": namespace, "table_name": table_name}
    _call(server, "/v1/table/grant/list", {k: v for k, v in body.items() if v is not None})


TABLE_COMMANDS = [table]
