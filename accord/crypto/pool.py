"""The process pool that spreads big crypto batches over every core.

Python threads share one interpreter lock, so only processes use a second core for modular
arithmetic. The pool is created on first use, once per process, with ``os.cpu_count()`` workers or
the number last given to :func:`set_parallelism` (the worker gives its ``Settings.crypto_workers``);
1 computes everything in-process. Work smaller than :data:`MIN_PARALLEL_WORK` modular
multiplications (about 15 ms at 1024 bits) stays in-process, where no transfer is paid.

Workers are fresh interpreters (the 'spawn' start method: the caller runs threads, which do not
survive a fork), and they skip what 'spawn' normally does first — re-running the parent's main
module — so a worker imports ``accord.crypto`` with numpy and gmpy2 and nothing else, however heavy
the parent program is. Arguments and results cross as ints, int64 arrays and packed bytes.

If a worker dies, the pool is dropped and the batch is computed in-process; the next batch starts a
new pool.
"""

from __future__ import annotations

import contextlib
import io
import os
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from multiprocessing import context, popen_spawn_posix, reduction, resource_tracker, spawn, util
from multiprocessing.process import BaseProcess
from typing import Any, TypeVar

from accord.crypto import tasks
from accord.errors import ArgumentError, OperatingError

MIN_PARALLEL_WORK = 10_000

Result = TypeVar("Result")

_lock = threading.Lock()
_requested_workers: int | None = None
_executor: ProcessPoolExecutor | None = None


def set_parallelism(workers: int | None) -> None:
    """Use ``workers`` processes from now on (1: in-process only; None: the default)."""
    global _requested_workers
    if workers is not None and (isinstance(workers, bool) or not isinstance(workers, int) or workers < 1):
        raise ArgumentError(
            f"crypto parallelism: {workers!r} is not a number of worker processes",
            hint="pass a whole number of at least 1 (1 computes in-process), or None for the default",
        )
    with _lock:
        _requested_workers = workers
    shutdown_pool()


def parallelism() -> int:
    """The number of processes big batches are spread over."""
    if _requested_workers is not None:
        return _requested_workers
    return os.cpu_count() or 1


def worth_parallel(work: float) -> bool:
    """Whether a batch of ``work`` modular multiplications goes to the pool."""
    return work >= MIN_PARALLEL_WORK and parallelism() > 1


def start_pool() -> None:
    """Start the workers now rather than on the first big batch (they take ~0.3 s to import)."""
    workers = parallelism()
    if workers > 1:
        run_parallel(tasks.module_names_task, [() for _ in range(workers)])


def shutdown_pool() -> None:
    """Stop the workers; the next big batch starts new ones."""
    global _executor
    with _lock:
        executor, _executor = _executor, None
    if executor is not None:
        executor.shutdown(wait=True, cancel_futures=True)


def worker_module_names() -> list[str]:
    """The modules a pool worker has loaded (for checking what workers import)."""
    return run_parallel(tasks.module_names_task, [()])[0]


def chunk_bounds(count: int, parts: int) -> list[tuple[int, int]]:
    """``parts`` contiguous, near-equal ``(start, stop)`` ranges covering ``range(count)``."""
    parts = max(1, min(parts, count))
    size, extra = divmod(count, parts)
    bounds: list[tuple[int, int]] = []
    start = 0
    for index in range(parts):
        stop = start + size + (1 if index < extra else 0)
        bounds.append((start, stop))
        start = stop
    return bounds


def run_parallel(task: Callable[..., Result], argument_lists: Sequence[tuple[Any, ...]]) -> list[Result]:
    """``[task(*arguments) for arguments in argument_lists]``, computed by the pool's workers."""
    executor = _current_executor()
    if executor is None:
        return [task(*arguments) for arguments in argument_lists]
    try:
        futures: list[Future[Result]] = [executor.submit(task, *arguments) for arguments in argument_lists]
    except (RuntimeError, OSError):
        # The pool broke earlier, or another thread shut it down in between (a worker killed while
        # the pool starts its replacement closes the pipes submit writes to): finish here.
        _discard(executor)
        return [task(*arguments) for arguments in argument_lists]
    try:
        return [future.result() for future in futures]
    except BrokenProcessPool:
        # A worker was killed (out of memory, a signal): drop the pool, finish here.
        _discard(executor)
        return [task(*arguments) for arguments in argument_lists]


def _current_executor() -> ProcessPoolExecutor | None:
    global _executor
    workers = parallelism()
    if workers <= 1:
        return None
    with _lock:
        if _executor is None:
            _executor = ProcessPoolExecutor(
                max_workers=workers, mp_context=WorkerContext(), initializer=exit_with_parent
            )
        return _executor


def _discard(executor: ProcessPoolExecutor) -> None:
    global _executor
    with _lock:
        if _executor is executor:
            _executor = None
    # A worker killed inside the task queue's read leaves that queue's lock held for good: the other
    # workers would wait on it for ever, and the interpreter would wait for them at exit. So they go
    # too; a worker the executor started just as the pool broke is in this list as well.
    # (shutdown forgets the executor's processes, so they are listed first.)
    workers = list((getattr(executor, "_processes", None) or {}).values())
    executor.shutdown(wait=False, cancel_futures=True)
    for worker in workers:
        with contextlib.suppress(OSError, ValueError):
            worker.kill()


# ---- 'spawn' without the parent's main module -----------------------------------------------


class _WorkerPopen(popen_spawn_posix.Popen):
    """Starts a fresh interpreter as 'spawn' does, but tells it not to import the parent's main."""

    _fds: list[int]

    def _launch(self, process_obj: BaseProcess) -> None:
        tracker_fd = resource_tracker.getfd()
        if tracker_fd is None:
            raise OperatingError(
                "crypto pool: multiprocessing's resource tracker did not start",
                hint="set ACCORD_CRYPTO_WORKERS=1 (the worker's crypto_workers) to compute in-process",
            )
        self._fds.append(tracker_fd)
        preparation = spawn.get_preparation_data(process_obj.name)
        # Without these two entries the child leaves its __main__ alone.
        preparation.pop("init_main_from_name", None)
        preparation.pop("init_main_from_path", None)
        payload = io.BytesIO()
        context.set_spawning_popen(self)
        try:
            reduction.dump(preparation, payload)
            reduction.dump(process_obj, payload)
        finally:
            context.set_spawning_popen(None)
        child_reads, parent_writes = os.pipe()
        parent_reads, child_writes = os.pipe()
        try:
            self._fds.extend([child_reads, child_writes])
            command = spawn.get_command_line(tracker_fd=tracker_fd, pipe_handle=child_reads)
            self.pid = util.spawnv_passfds(os.fsencode(spawn.get_executable()), command, self._fds)
            # parent_reads hits end of file when the child exits: the process sentinel.
            self.sentinel = parent_reads
            with open(parent_writes, "wb", closefd=False) as pipe:
                pipe.write(payload.getbuffer())
        finally:
            self.finalizer = util.Finalize(self, _close_all, (parent_reads, parent_writes))
            os.close(child_reads)
            os.close(child_writes)


def _close_all(*descriptors: int) -> None:
    for descriptor in descriptors:
        os.close(descriptor)


class _WorkerProcess(context.SpawnProcess):
    @staticmethod
    def _Popen(process_obj: BaseProcess) -> _WorkerPopen:
        return _WorkerPopen(process_obj)


class WorkerContext(context.SpawnContext):
    Process = _WorkerProcess


def exit_with_parent(poll_s: float = 1.0) -> None:
    """Pool initializer: end this worker when the process that started it is gone.

    A killed worker (SIGKILL, as the chaos tests do) cannot shut its pool down, and a pool worker
    blocked on its task queue would otherwise live on for ever holding memory.
    """
    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(poll_s)
        os._exit(0)

    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()
