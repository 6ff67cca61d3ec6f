"""``accord up | down | status``: the standalone stack (Temporal dev server, server, worker) of a home."""

from __future__ import annotations

import signal
import threading
from pathlib import Path
from types import FrameType

import click

from accord.cli.http import remember_local_token
from accord.cli.root import coded_errors, emit
from accord.errors import AccordError
from accord.security.local_token import TOKEN_FILE, read_local_token
from accord.settings import Settings
from accord.standalone.stack import DEFAULT_START_TIMEOUT_S, Stack, StackStatus

_WATCH_INTERVAL_S = 2.0
_MAX_RESTART_BACKOFF_S = 60.0

home_option = click.option(
    "--home",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    help="the site's home directory (default: $ACCORD_HOME or ~/.accord)",
)
json_option = click.option("--json", "as_json", is_flag=True, help="print the result as JSON")


def _stack(home: Path | None, *, insecure_open: bool = False) -> Stack:
    return Stack(Settings.from_env(home=home, insecure_open=insecure_open or None))


def render_status(status: StackStatus) -> str:
    with_action = any(process.action is not None for process in status.processes)
    rows = [["PROCESS", "PID", "ALIVE", "READY", *(["ACTION"] if with_action else []), "LOG"]]
    for process in status.processes:
        state = process.state
        rows.append(
            [
                state.name,
                str(state.pid) if state.pid is not None else "-",
                "yes" if state.alive else "died" if state.died else "no",
                "yes" if state.ready else "no",
                *([process.action or "-"] if with_action else []),
                str(state.log_file),
            ]
        )
    widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]) - 1)]
    lines = [
        "  ".join([*(cell.ljust(width) for cell, width in zip(row, widths, strict=False)), row[-1]])
        for row in rows
    ]
    lines += [
        "",
        f"home:             {status.home}",
        f"Temporal:         {status.temporal_address}",
        f"Temporal web UI:  {status.temporal_ui_address}",
        f"HTTP API:         {status.http_address}",
        f"federation:       {status.federation_address}",
    ]
    token = status.home / TOKEN_FILE
    if token.exists():
        lines.append(f"local credential: {token} (the accord CLI sends it when ACCORD_HOME is this home)")
    return "\n".join(lines)


def _report(status: StackStatus, as_json: bool) -> None:
    if as_json:
        emit({"retcode": 0, "retmsg": "success", "data": status.to_dict()})
    else:
        click.echo(render_status(status))


def _echo_log_tail(error: AccordError) -> None:
    # The JSON error carries the tail too, but escaped on one line; a person wants to read it.
    tail = error.details.get("log_tail")
    if tail:
        click.echo(
            f"---- last lines of {error.details.get('log_file', 'the log')} ----\n{tail}\n----", err=True
        )


@click.command()
@home_option
@click.option(
    "--detach/--no-detach",
    default=False,
    help="return once the stack is ready (default: stay in the foreground, Ctrl-C stops the stack)",
)
@click.option(
    "--timeout",
    "timeout_s",
    type=float,
    default=DEFAULT_START_TIMEOUT_S,
    show_default=True,
    help="seconds each process may take to become ready",
)
@click.option(
    "--insecure-open",
    is_flag=True,
    help="serve the HTTP API without the local credential and to any Host header: anyone who can "
    "reach the port, and any web page the user opens, may drive the site (a warning at every start)",
)
@json_option
@coded_errors
def up(home: Path | None, detach: bool, timeout_s: float, insecure_open: bool, as_json: bool) -> None:
    """Start the Temporal dev server, the Accord server and the worker (what is not running yet).

    The HTTP API takes only requests carrying the site's local credential (HOME/local_token, 0600),
    which the accord CLI on this machine sends by itself.
    """
    stack = _stack(home, insecure_open=insecure_open)
    if stack.settings.insecure_open:
        click.echo(
            "WARNING: --insecure-open: the HTTP API takes requests without the local credential, "
            "from any Host; any local user or web page may drive this site",
            err=True,
        )
    if detach:
        _report(start_stack(stack, timeout_s), as_json)
        return
    _foreground(stack, timeout_s, as_json)


def start_stack(stack: Stack, timeout_s: float) -> StackStatus:
    """Start the stack and note its local credential for the CLI (what `accord up` does)."""
    try:
        status = stack.up(timeout_s=timeout_s)
    except AccordError as error:
        _echo_log_tail(error)
        raise
    token = read_local_token(stack.settings.home)
    if token is not None:
        # Later commands find the credential by the server's address, whatever home it came from.
        remember_local_token(stack.settings.http_address, token)
    return status


class _Stopper:
    """First Ctrl-C or SIGTERM asks for a clean stop; a second Ctrl-C interrupts whatever runs."""

    def __init__(self) -> None:
        self.requested = threading.Event()

    def __call__(self, signum: int, frame: FrameType | None) -> None:
        if self.requested.is_set() and signum == signal.SIGINT:
            raise KeyboardInterrupt
        self.requested.set()


def _foreground(stack: Stack, timeout_s: float, as_json: bool) -> None:
    stopper = _Stopper()
    previous = {signum: signal.signal(signum, stopper) for signum in (signal.SIGINT, signal.SIGTERM)}
    try:
        status = start_stack(stack, timeout_s)
        _report(status, as_json)
        if not as_json:
            click.echo("\nrunning in the foreground; Ctrl-C stops the stack")
        _watch(stack, stopper, timeout_s)
    finally:
        click.echo("stopping the stack ...", err=True)
        down_status = stack.down()
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        if not as_json:
            click.echo(render_status(down_status))


def _watch(stack: Stack, stopper: _Stopper, timeout_s: float) -> None:
    """Report processes that die and restart them, backing off while restarts keep failing."""
    backoff_s = _WATCH_INTERVAL_S
    while not stopper.requested.wait(_WATCH_INTERVAL_S):
        dead = [p.state.name for p in stack.status().processes if not p.state.alive]
        if not dead:
            backoff_s = _WATCH_INTERVAL_S
            continue
        click.echo(f"process(es) {', '.join(dead)} died; restarting", err=True)
        try:
            click.echo(render_status(stack.up(timeout_s=timeout_s)))
            backoff_s = _WATCH_INTERVAL_S
        except AccordError as error:
            _echo_log_tail(error)
            click.echo(f"restart failed: {error.retmsg}; next attempt in {backoff_s:g} s", err=True)
            if stopper.requested.wait(backoff_s):
                return
            backoff_s = min(backoff_s * 2, _MAX_RESTART_BACKOFF_S)


@click.command()
@home_option
@json_option
@coded_errors
def down(home: Path | None, as_json: bool) -> None:
    """Stop the worker, the server and the Temporal dev server, in that order."""
    _report(_stack(home).down(), as_json)


@click.command()
@home_option
@json_option
@coded_errors
def status(home: Path | None, as_json: bool) -> None:
    """Show each process of the stack (pid, alive, ready, log) and where to reach the site."""
    _report(_stack(home).status(), as_json)


STANDALONE_COMMANDS: list[click.Command] = [up, down, status]
