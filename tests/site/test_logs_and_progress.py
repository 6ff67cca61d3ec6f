"""The pieces of issue 18 on their own: the progress count, the progress throttle, task logs, the cap."""

from __future__ import annotations

import io
import logging
import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest

from accord.activities.services import ProgressRecorder
from accord.activities.tasks import MAX_ERROR_BYTES, capped_error
from accord.cli.follow import Progress, running_line
from accord.cli.jobviews import job_view, print_jobs, print_view, table
from accord.persistence import Database, JobRepository, NewJob, NewTask, TaskKey, TaskRecord, TaskRepository
from accord.site.joblog import JobLog, TaskLogRouter
from accord.site.progress import job_progress
from accord.status import JobStatus, TaskStatus

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def _task(name: str, status: TaskStatus, done: int = 0, total: int = 0, version: int = 0) -> TaskRecord:
    return TaskRecord(
        key=TaskKey("j", name, version, "guest", 9999),
        task_id=f"j_{name}",
        status=status,
        party_status=status,
        worker_id=None,
        run_id=None,
        run_ip=None,
        run_pid=None,
        auto_retries=0,
        create_time=NOW,
        update_time=NOW,
        start_time=None,
        end_time=None,
        elapsed_ms=None,
        progress_done=done,
        progress_total=total,
    )


def test_progress_counts_finished_components_and_the_running_ones_iterations() -> None:
    tasks = [
        _task("reader", TaskStatus.SUCCESS),
        _task("lr", TaskStatus.RUNNING, done=15, total=30),
        _task("eval", TaskStatus.WAITING),
    ]
    assert job_progress(tasks, 4) == 37  # (1 + 0.5) / 4
    assert job_progress(tasks, 4, JobStatus.SUCCESS) == 100
    # An older failed version does not count; the newest running one does.
    rerun = [_task("lr", TaskStatus.FAILED, 29, 30), _task("lr", TaskStatus.RUNNING, 3, 30, version=1)]
    assert job_progress(rerun, 1) == 10
    assert job_progress([], 0) == 0


def test_a_task_reports_at_most_once_a_second_and_the_last_report_is_flushed(tmp_path: Path) -> None:
    database = Database(f"sqlite:///{tmp_path / 'a.db'}")
    database.migrate()
    jobs, tasks = JobRepository(database), TaskRepository(database)
    jobs.create(
        NewJob(
            job_id="j",
            role="guest",
            party_id=9999,
            initiator_role="guest",
            initiator_party_id=9999,
            dsl={},
            runtime_conf={},
        )
    )
    key = TaskKey("j", "lr", 0, "guest", 9999)
    tasks.create(NewTask(key=key))
    now = [100.0]
    recorder = ProgressRecorder(tasks, key, clock=lambda: now[0])
    recorder(1, 10, "loss 0.5")
    for done in range(2, 9):
        now[0] += 0.1
        recorder(done, 10, f"loss 0.{done}")
    record = tasks.get(key)
    assert (record.progress_done, record.progress_note) == (1, "loss 0.5")
    now[0] += 1.0
    recorder(9, 10, "loss 0.9")
    assert tasks.get(key).progress_done == 9
    now[0] += 0.1
    recorder(10, 10, "loss 0.95")
    assert tasks.get(key).progress_done == 9
    recorder.flush()
    record = tasks.get(key)
    assert (record.progress_done, record.progress_total, record.progress_note) == (10, 10, "loss 0.95")
    tasks.set_error(key, "boom")
    assert tasks.get(key).error == "boom"
    database.dispose()


def test_errors_are_capped_in_utf8_bytes_and_say_where_the_rest_is() -> None:
    assert capped_error("short") == "short"
    text = "é" * 10_000
    capped = capped_error(text, "guest/9999/lr_0/ERROR.log")
    assert len(capped.encode()) <= MAX_ERROR_BYTES
    assert capped.startswith("é" * 100) and "20000 bytes in all" in capped and "lr_0/ERROR.log" in capped


def test_a_task_log_has_its_own_threads_lines_only(tmp_path: Path) -> None:
    router = TaskLogRouter.install()
    assert TaskLogRouter.install() is router
    logs = JobLog(tmp_path)
    component = logging.getLogger("accord.component.Test")

    def task(name: str, barrier: threading.Barrier) -> None:
        with router.capture(logs.task_dir("j", "guest", 9999, name)):
            barrier.wait()
            component.info("line of %s", name)
            try:
                raise ValueError(f"{name} broke")
            except ValueError:
                component.exception("failed")
            barrier.wait()

    barrier = threading.Barrier(2)
    threads = [threading.Thread(target=task, args=(n, barrier)) for n in ("a", "b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    component.info("after the task")
    for mine, other in (("a", "b"), ("b", "a")):
        folder = logs.task_dir("j", "guest", 9999, mine)
        info = (folder / "INFO.log").read_text()
        assert f"line of {mine}" in info and f"line of {other}" not in info and "after" not in info
        errors = (folder / "ERROR.log").read_text()
        assert f"ValueError: {mine} broke" in errors and "Traceback" in errors and "line of" not in errors
    assert (tmp_path / "logs" / "jobs" / "j" / "guest" / "9999" / "a").is_dir()


def test_the_live_line_is_redrawn_on_a_terminal_and_printed_once_per_change_elsewhere() -> None:
    tasks = [
        {
            "f_component_name": "lr",
            "f_task_version": 0,
            "f_progress_done": 12,
            "f_progress_total": 30,
            "f_progress_note": "",
        },
        {
            "f_component_name": "lr",
            "f_task_version": 0,
            "f_progress_done": 12,
            "f_progress_total": 30,
            "f_progress_note": "loss 0.3121",
        },
    ]
    line = running_line(45, ["lr"], tasks)
    assert line == "[ 45%] lr: iteration 12/30, loss 0.3121"
    assert running_line(0, ["reader"], []) == "[  0%] reader running"

    plain = io.StringIO()
    progress = Progress(plain, terminal=False)
    progress.live(line)
    progress.live(line)
    progress.component("lr", "running")
    assert plain.getvalue().splitlines() == [line, "lr running"]

    tty = io.StringIO()
    progress = Progress(tty, terminal=True)
    progress.live(line)
    progress.component("lr", "success")
    progress.close()
    assert tty.getvalue() == f"\r\x1b[K{line}\r\x1b[Klr success\n\r\x1b[K{line}\r\x1b[K"


def test_tables_for_a_terminal(capsys: pytest.CaptureFixture[str]) -> None:
    rows = [
        {
            "f_job_id": "2026",
            "f_role": "guest",
            "f_party_id": 9999,
            "f_status": "running",
            "f_progress": 37,
            "f_start_time": None,
            "f_elapsed": 65_000,
            "f_status_reason": "",
        },
    ]
    print_jobs({"retcode": 0}, rows)
    text = capsys.readouterr().out
    headers = ["JOB", "ID", "ROLE", "PARTY", "STATUS", "PROGRESS", "START", "ELAPSED", "REASON"]
    assert text.splitlines()[0].split() == headers
    assert text.splitlines()[1].split()[:6] == ["2026", "guest", "9999", "running", "37%", "-"]
    assert "0:01:05" in text
    assert table([{"a": "x"}], [("A", lambda r: r["a"]), ("B", lambda r: None)]) == "A  B\nx  -"

    job = {
        "f_job_id": "j",
        "f_status": "failed",
        "f_status_reason": "lr failed",
        "f_progress": 40,
        "f_dsl": {"components": {"lr": {"module": "HeteroLR"}}},
    }
    tasks = [
        {
            "f_component_name": "lr",
            "f_task_version": 0,
            "f_role": "guest",
            "f_party_id": 9999,
            "f_status": "failed",
            "f_party_status": "failed",
            "f_error": "old",
        },
        {
            "f_component_name": "lr",
            "f_task_version": 1,
            "f_role": "guest",
            "f_party_id": 9999,
            "f_status": "failed",
            "f_party_status": "failed",
            "f_error": "RuntimeError: boom",
            "f_progress_done": 3,
            "f_progress_total": 30,
        },
    ]
    view = job_view(job, tasks)
    assert view["components"][0]["task_version"] == 1
    assert view["components"][0]["parties"][0]["error"] == "RuntimeError: boom"
    print_view(view)
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "job j failed: lr failed (40% done)"
    assert lines[2].split() == [
        "lr",
        "HeteroLR",
        "1",
        "guest",
        "9999",
        "failed",
        "-",
        "3/30",
        "RuntimeError:",
        "boom",
    ]
