"""``accord demo``: FATE's hetero-LR example on a fresh standalone site, from upload to AUC."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from accord.board.links import board_link
from accord.cli.job import follow, remote
from accord.cli.standalone import start_stack
from accord.errors import ArgumentError, JobStateError
from accord.settings import Settings
from accord.standalone.stack import DEFAULT_START_TIMEOUT_S, Stack

_EXAMPLE = Path("dsl") / "v2" / "hetero_logistic_regression"
_TABLES = ("breast_hetero_guest", "breast_hetero_host")
_GUEST = 9999


def _read(path: Path) -> dict[str, Any]:
    try:
        loaded: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ArgumentError(
            f"{path} does not exist", hint="point --examples at FATE's examples directory"
        ) from None
    return loaded


@click.command()
@click.option(
    "--examples",
    type=click.Path(path_type=Path, file_okay=False),
    default=Path("../shared/fate/examples"),
    show_default=True,
    help="FATE's examples directory (data/ and dsl/v2/)",
)
@click.option(
    "--home",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    help="the site's home (default: $ACCORD_HOME or ~/.accord)",
)
@click.option(
    "--keep/--down",
    default=True,
    help="leave the site running so the printed board link works (default), or stop it at the end",
)
@remote
def demo(examples: Path, home: Path | None, keep: bool) -> None:
    """Start a standalone site, upload the breast tables, run hetero_lr_normal, print AUC and KS."""
    from accord.cli.transfer import TransferApi

    dsl = _read(examples / _EXAMPLE / "hetero_lr_normal_dsl.json")
    conf = _read(examples / _EXAMPLE / "hetero_lr_normal_conf.json")
    settings = Settings.from_env(home=home)
    stack = Stack(settings)
    click.echo(f"starting the standalone site in {settings.home} ...", err=True)
    # As `accord up`: its own credential is noted for its address, so this command and later ones (in a
    # fresh home too, whatever site ran at that address before) are let in.
    start_stack(stack, DEFAULT_START_TIMEOUT_S)
    try:
        with TransferApi(settings.http_address, timeout_s=300) as api:
            for table in _TABLES:
                # FATE's example files are on this machine: their bytes go to the site, not their path.
                source = (examples / "data" / f"{table}.csv").resolve()
                upload = {
                    "table_name": table,
                    "namespace": "experiment",
                    "head": 1,
                    "partition": 4,
                    "drop": 1,
                }
                count = api.upload_file(upload, source)["data"].get("count")
                click.echo(f"uploaded experiment.{table} ({count} rows)", err=True)
            job_id = str(api.call("/v1/job/submit", {"job_dsl": dsl, "job_runtime_conf": conf})["jobId"])
            click.echo(f"submitted FATE's hetero_lr_normal example as job {job_id}", err=True)
            status, reason = follow(api, job_id, None)
            if status != "success":
                raise JobStateError(f"job {job_id} ended {status}: {reason}", hint="see `accord job log`")
            body = {"job_id": job_id, "role": "guest", "party_id": _GUEST, "component_name": "evaluation_0"}
            metrics = api.call("/v1/tracking/component/metric/all", body)["data"]
        summary = dict(metrics["train"]["hetero_lr_0"]["data"])
        ui = f"{settings.temporal_ui_address}/namespaces/{settings.temporal_namespace}/workflows/{job_id}"
        click.echo(f"\njob {job_id}: success")
        click.echo(f"  AUC  {summary['auc']:.6f}")
        click.echo(f"  KS   {summary['ks']:.6f}")
        click.echo(f"  Temporal web UI: {ui}")
        click.echo(
            f"  metrics: accord component metric-all -j {job_id} -r guest -p {_GUEST} -cpn evaluation_0"
        )
        # Last, so it is what the user sees: the job's graph, loss and ROC curves in the browser.
        board = board_link(settings, job_id)
        if keep:
            click.echo(f"  board: {board}")
            click.echo(f"the site keeps running; stop it with `accord down --home {settings.home}`")
        else:
            click.echo(f"  board: {board}  (the site stops now; `accord demo --keep` leaves it running)")
    finally:
        if not keep:
            click.echo("stopping the standalone site ...", err=True)
            stack.down()


DEMO_COMMANDS = [demo]
