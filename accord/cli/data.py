"""``accord data upload`` and ``accord data download``: FATE-Flow's data commands over the HTTP API.

Upload streams the conf's ``file`` (searched next to the conf, then in the current directory) from
this machine to the site, FATE-Flow's default (``use_local_data: 1``): a bar while the bytes go, then
the site's progress as it stores the table, drawn on stderr. With ``use_local_data: 0`` the site reads
``file`` on its own disk instead, which it allows only below the directories its operator lists in
``upload_roots``. Download streams the table's text from the site into a local file; the site never
writes a file for a client.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from accord.cli.confs import conf_option, merged, read_conf
from accord.cli.job import remote, server_option
from accord.cli.root import emit
from accord.errors import AccordError


@click.group()
def data() -> None:
    """Upload files into tables and download tables into files."""


@data.command("upload")
@click.option(
    "-c", "--conf", "conf_path", required=True, type=click.Path(path_type=Path), help="FATE's upload conf"
)
@click.option("--drop", is_flag=True, help="replace the table if it exists (the conf's drop: 1)")
@click.option(
    "--progress/--no-progress", default=None, help="show progress on stderr (default: when it is a terminal)"
)
@server_option
@remote
def upload(conf_path: Path, drop: bool, progress: bool | None, server: str | None) -> None:
    """Upload the file an upload conf names into a table; rows merge by id unless drop is 1."""
    from accord.cli.transfer import ProgressDisplay, TransferApi
    from accord.dsl_compiler import read_json_file
    from accord.storage import UploadConf

    raw = read_json_file(conf_path, "upload conf")
    conf = UploadConf.parse(raw, source=f"upload conf {conf_path.name}")
    body = conf.to_fate()
    if drop:
        body["drop"] = 1
    terminal = sys.stderr.isatty()
    show = terminal if progress is None else progress
    api = TransferApi.connect(server)
    if _server_side(raw):
        display = ProgressDisplay(f"storing {conf.file}", sys.stderr, bar=terminal)
        try:
            with api:
                envelope = api.upload_server_file(body, display.update if show else lambda _: None)
        finally:
            display.close()
        emit(envelope)
        return
    source = conf.resolve_file([conf_path.parent, Path.cwd()])
    sending = ProgressDisplay(f"sending {source.name}", sys.stderr, bar=terminal)
    storing = ProgressDisplay(f"storing {source.name}", sys.stderr, bar=terminal)

    def sent(done: int, total: int) -> None:
        sending.update({"bytes_read": done, "total_bytes": total})
        if done >= total:
            sending.close()

    try:
        with api:
            envelope = api.upload_file(
                body,
                source,
                on_sent=sent if show else lambda done, total: None,
                on_progress=storing.update if show else lambda _: None,
            )
    finally:
        sending.close()
        storing.close()
    emit(envelope)


def _server_side(raw: Any) -> bool:
    """FATE's ``use_local_data: 0``: the file is on the site, not here."""
    return isinstance(raw, dict) and str(raw.get("use_local_data", 1)).strip() in ("0", "false", "False")


@data.command("download")
@click.option("-n", "--namespace", help="the table's namespace")
@click.option("-t", "--table-name", help="the table's name")
@click.option(
    "-o",
    "--output-path",
    "output",
    type=click.Path(path_type=Path),
    help="the file to write, or a directory to write <namespace>_<name>.csv in",
)
@conf_option("download")
@server_option
@remote
def download(
    namespace: str | None,
    table_name: str | None,
    output: Path | None,
    conf_path: Path | None,
    server: str | None,
) -> None:
    """Write a table to OUTPUT-PATH as delimited text, header first, as it was uploaded."""
    from accord.cli.transfer import TransferApi, save_stream

    given = {"namespace": namespace, "table_name": table_name, "output_path": output}
    sources = {
        "namespace": ["namespace"],
        "table_name": ["table_name", "name"],
        "output_path": ["output_path"],
    }
    values = merged(given, read_conf(conf_path, "download conf"), sources, "data download")
    body = {"namespace": str(values["namespace"]), "table_name": str(values["table_name"])}
    path = Path(values["output_path"]).absolute()
    if path.is_dir():  # FATE writes into a directory it is given
        path = path / f"{body['namespace']}_{body['table_name']}.csv"
    api = TransferApi.connect(server)
    with api, api.streamed("/v1/data/download", body, accept="text/csv") as reply:
        if reply.headers.get("content-type", "").startswith("application/json"):
            api.envelope_of(reply)
            raise AccordError(f"the server at {api.server} answered the download without the table")
        count = int(reply.headers.get("x-table-count", "0"))
        save_stream(reply.iter_bytes(), path)
    data = {**body, "count": count, "output_path": str(path)}
    emit({"retcode": 0, "retmsg": "success", "data": data})


@data.command("upload-history")
@click.option("-l", "--limit", type=click.IntRange(1, 10_000), default=10, show_default=True)
@click.option("-j", "--job-id", help="accepted for FATE's flag; uploads here are not jobs")
@server_option
@remote
def upload_history(limit: int, job_id: str | None, server: str | None) -> None:
    """The site's tables, most recently uploaded or bound first."""
    from accord.cli.job import _api

    body: dict[str, Any] = {"limit": limit}
    if job_id is not None:
        body["job_id"] = job_id
    with _api(server) as api:
        emit(api.call("/v1/data/upload/history", body))


DATA_COMMANDS = [data]
