"""``accord data upload`` and ``accord data download``: FATE-Flow's data commands over the HTTP API.

Upload sends the conf with ``file`` made absolute (searched next to the conf, then in the current
directory); the site reads the file itself, as FATE-Flow does with ``use_local_data: 0``, so the file
must be readable where the site runs. The site streams its progress back, drawn on stderr. Download
streams the table's text from the site into a local file.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

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
    from accord.storage import UploadConf

    conf = UploadConf.load(conf_path)
    source = conf.resolve_file([conf_path.parent, Path.cwd()])
    body = {**conf.to_fate(), "file": str(source)}
    if drop:
        body["drop"] = 1
    terminal = sys.stderr.isatty()
    display = ProgressDisplay(f"uploading {source.name}", sys.stderr, bar=terminal)
    show = terminal if progress is None else progress
    api = TransferApi.connect(server)
    try:
        with api:
            envelope = api.upload(body, display.update if show else lambda _: None)
    finally:
        display.close()
    emit(envelope)


@data.command("download")
@click.option("-n", "--namespace", required=True, help="the table's namespace")
@click.option("-t", "--table-name", required=True, help="the table's name")
@click.option("-o", "--output-path", "output", required=True, type=click.Path(path_type=Path, dir_okay=False))
@server_option
@remote
def download(namespace: str, table_name: str, output: Path, server: str | None) -> None:
    """Write a table to OUTPUT-PATH as delimited text, header first, as it was uploaded."""
    from accord.cli.transfer import TransferApi, save_stream

    body = {"namespace": namespace, "table_name": table_name}
    path = output.absolute()
    api = TransferApi.connect(server)
    with api, api.streamed("/v1/data/download", body, accept="text/csv") as reply:
        if reply.headers.get("content-type", "").startswith("application/json"):
            api.envelope_of(reply)
            raise AccordError(f"the server at {api.server} answered the download without the table")
        count = int(reply.headers.get("x-table-count", "0"))
        save_stream(reply.iter_bytes(), path)
    data = {"table_name": table_name, "namespace": namespace, "count": count, "output_path": str(path)}
    emit({"retcode": 0, "retmsg": "success", "data": data})


DATA_COMMANDS = [data]
