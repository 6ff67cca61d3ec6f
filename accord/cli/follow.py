"""Following a job from the CLI (``job submit --wait``, ``job wait``, ``job rerun --wait``).

On stderr: one line per change of the job's or a component's status, and a live line with the running
components, their iteration (done of total) and last note (the loss), and the job's progress. On a
terminal the live line is redrawn in place; elsewhere (a log, a pipe) it is printed once per change.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, NoReturn, TextIO

import click

from accord.cli.root import emit
from accord.errors import ConnectionFailure, JobNotSuccessful, exit_code
from accord.status import JobStatus, TaskStatus

if TYPE_CHECKING:
    from accord.cli.http import Api

POLL_S = 0.5
# Polls that may fail in a row (a restarting server, a network blip) before waiting gives up.
POLL_FAILURES = 6
ENDED = frozenset(s.value for s in JobStatus if s.is_end)
# When a component's parties disagree, the worst status is the component's, as FATE-Flow reports it.
_WORST_FIRST = ["failed", "timeout", "canceled", "running", "ready", "waiting", "pass", "success"]


def worst(statuses: Iterable[str]) -> str:
    return min(statuses, key=lambda s: _WORST_FIRST.index(s) if s in _WORST_FIRST else 0)


class Progress:
    """What ``--wait`` prints on ``stream`` (stderr): status changes as lines, and one live line."""

    def __init__(self, stream: TextIO | None = None, *, terminal: bool | None = None) -> None:
        self._stream = stream or sys.stderr
        self._terminal = self._stream.isatty() if terminal is None else terminal
        self._job: tuple[str, str] | None = None
        self._components: dict[str, str] = {}
        self._live = ""
        self._drawn = False

    def line(self, text: str) -> None:
        """A line that stays; the live line (on a terminal) is drawn again below it."""
        self._clear()
        click.echo(text, file=self._stream)
        if self._terminal and self._live:
            self._draw()

    def live(self, text: str) -> None:
        if text == self._live:
            return
        self._live = text
        if not text:
            self._clear()
        elif self._terminal:
            self._draw()
        else:
            click.echo(text, file=self._stream)

    def close(self) -> None:
        self._clear()
        self._live = ""

    def _draw(self) -> None:
        self._stream.write(f"\r\x1b[K{self._live}")
        self._stream.flush()
        self._drawn = True

    def _clear(self) -> None:
        if self._terminal and self._drawn:
            self._stream.write("\r\x1b[K")
            self._stream.flush()
            self._drawn = False

    def job(self, status: str, reason: str) -> None:
        if (status, reason) != self._job:
            self._job = (status, reason)
            self.line(f"job {status}" + (f": {reason}" if reason else ""))

    def component(self, name: str, status: str, error: str = "") -> None:
        # Every component starts waiting; saying so for each would only be noise.
        if self._components.get(name, TaskStatus.WAITING.value) != status:
            self._components[name] = status
            self.line(f"{name} {status}" + (f": {error}" if error else ""))


def running_line(progress: int, running: list[str], tasks: list[dict[str, Any]]) -> str:
    """``[ 45%] hetero_lr_0: iteration 12/30, loss 0.3121`` for the running components."""
    parts = []
    for name in running:
        newest = [t for t in tasks if t.get("f_component_name") == name]
        if newest:
            version = max(int(t.get("f_task_version") or 0) for t in newest)
            newest = [t for t in newest if int(t.get("f_task_version") or 0) == version]
        counted = [t for t in newest if int(t.get("f_progress_total") or 0) > 0]
        text = name
        if counted:
            best = max(counted, key=lambda t: int(t["f_progress_done"]) / int(t["f_progress_total"]))
            text += f": iteration {best['f_progress_done']}/{best['f_progress_total']}"
            note = next((str(t["f_progress_note"]) for t in newest if t.get("f_progress_note")), "")
            if note:
                text += f", {note}"
        else:
            text += " running"
        parts.append(text)
    return f"[{progress:3d}%] " + "; ".join(parts) if parts else ""


def follow(api: Api, job_id: str, timeout: float | None, progress: Progress | None = None) -> tuple[str, str]:
    """Poll the job until it ends or ``timeout`` passes; its last (status, reason)."""
    progress = progress or Progress()
    deadline = None if timeout is None else time.monotonic() + timeout
    last, failures = (JobStatus.WAITING.value, ""), 0
    try:
        while True:
            try:
                rows = api.call("/v1/job/query", {"job_id": job_id})["data"]
                failures = 0
            except ConnectionFailure:
                failures += 1
                if failures >= POLL_FAILURES:
                    raise
                rows = []
            if rows:
                row = next((r for r in rows if r.get("f_is_initiator")), rows[0])
                last = (str(row["f_status"]), str(row.get("f_status_reason") or ""))
                if last[0] in ENDED:
                    progress.close()
                    _final_components(api, job_id, progress)
                    return last
                live = row.get("f_live") or {}
                progress.job(str(live.get("status") or last[0]), str(live.get("reason") or last[1]))
                running = []
                for name, view in (live.get("components") or {}).items():
                    status = str(view.get("status"))
                    progress.component(name, status, str(view.get("error") or ""))
                    if status == TaskStatus.RUNNING.value:
                        running.append(name)
                tasks = api.call("/v1/job/task/query", {"job_id": job_id})["data"] if running else []
                progress.live(running_line(int(row.get("f_progress") or 0), running, tasks))
            pause = POLL_S
            if deadline is not None:
                pause = min(pause, deadline - time.monotonic())
                if pause <= 0:
                    progress.close()
                    return last
            time.sleep(pause)
    finally:
        progress.close()


def _final_components(api: Api, job_id: str, progress: Progress) -> None:
    """Each component's end status from its newest tasks: the live view is gone once the job ends."""
    newest: dict[str, tuple[int, list[str]]] = {}
    for row in api.call("/v1/job/task/query", {"job_id": job_id})["data"]:
        name, version = str(row["f_component_name"]), int(row["f_task_version"])
        seen = newest.get(name)
        if seen is None or version > seen[0]:
            newest[name] = (version, [])
        if newest[name][0] == version:
            newest[name][1].append(str(row["f_status"]))
    for name, (_, statuses) in newest.items():
        progress.component(name, worst(statuses))


def wait_and_report(api: Api, envelope: dict[str, Any], job_id: str, timeout: float | None) -> None:
    """Follow the job, then print ``envelope`` with its end and exit: 0 only if it succeeded.

    A job that did not succeed is a coded error (JobNotSuccessful): a non-zero ``retcode`` whose
    ``retmsg`` says ``job <id> failed: <reason>``, and a non-zero exit status.
    """
    try:
        status, reason = follow(api, job_id, timeout)
    except KeyboardInterrupt:
        _err(f"stopped waiting; job {job_id} goes on (stop it with `accord job stop -j {job_id}`)")
        sys.exit(130)
    data = {**(envelope.get("data") or {}), "status": status, "status_reason": reason}
    if status not in ENDED:
        emit({**envelope, "data": data})
        _err(
            f"gave up waiting after {timeout or 0:g} s: job {job_id} is still {status}; it goes on (stop it "
            f"with `accord job stop -j {job_id}`)"
        )
        sys.exit(1)
    ending = f"job {job_id} {status}" + (f": {reason}" if reason else "")
    if status == JobStatus.SUCCESS.value:
        emit({**envelope, "data": data})
        _err(ending)
        return
    _fail(envelope, data, ending)


def _fail(envelope: dict[str, Any], data: dict[str, Any], ending: str) -> NoReturn:
    error = JobNotSuccessful(ending)
    emit({**envelope, "retcode": error.code, "retmsg": ending, "data": data})
    _err(ending)
    sys.exit(exit_code(error))


def _err(line: str) -> None:
    click.echo(line, err=True)
