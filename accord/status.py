"""Job and task statuses with FATE-Flow's names and explicit transition tables.

A rerun moves an ended job or task back to ``waiting``; nothing else leaves an end status. ``paused``
is Accord's own job status (FATE-Flow has none): a paused job holds no cores and no queue slot, and
resuming it puts it back in the queue as ``waiting``.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum

from accord.errors import StatusTransitionError


class _Status(StrEnum):
    """Shared behaviour; each subclass's table lives in ``_RULES`` and ``_ENDS`` below."""

    @property
    def is_end(self) -> bool:
        return self in _ENDS[type(self)]

    def can_become(self, target: _Status) -> bool:
        return target in _RULES[type(self)][self]

    def check_transition(self, target: _Status) -> None:
        if not self.can_become(target):
            allowed = sorted(s.value for s in _RULES[type(self)][self])
            kind = "job" if isinstance(self, JobStatus) else "task"
            raise StatusTransitionError(
                f"{kind} status cannot change from {self.value} to {target.value}",
                hint=f"allowed next statuses: {', '.join(allowed) or 'none'}",
            )


class JobStatus(_Status):
    WAITING = "waiting"
    READY = "ready"
    RUNNING = "running"
    PAUSED = "paused"
    CANCELED = "canceled"
    TIMEOUT = "timeout"
    FAILED = "failed"
    SUCCESS = "success"


class TaskStatus(_Status):
    WAITING = "waiting"
    READY = "ready"
    RUNNING = "running"
    CANCELED = "canceled"
    TIMEOUT = "timeout"
    FAILED = "failed"
    PASS = "pass"
    SUCCESS = "success"


_J = JobStatus
_JOB_RULES: Mapping[_Status, frozenset[_Status]] = {
    _J.WAITING: frozenset({_J.READY, _J.RUNNING, _J.PAUSED, _J.CANCELED, _J.TIMEOUT, _J.FAILED, _J.SUCCESS}),
    _J.READY: frozenset({_J.WAITING, _J.RUNNING, _J.PAUSED, _J.CANCELED, _J.TIMEOUT, _J.FAILED}),
    _J.RUNNING: frozenset({_J.PAUSED, _J.CANCELED, _J.TIMEOUT, _J.FAILED, _J.SUCCESS}),
    # Resumed, it waits in the queue again; stopped or failed while paused, it ends.
    _J.PAUSED: frozenset({_J.WAITING, _J.RUNNING, _J.CANCELED, _J.TIMEOUT, _J.FAILED}),
    _J.CANCELED: frozenset({_J.WAITING}),
    _J.TIMEOUT: frozenset({_J.FAILED, _J.SUCCESS, _J.WAITING}),
    _J.FAILED: frozenset({_J.WAITING}),
    _J.SUCCESS: frozenset({_J.WAITING}),
}
_JOB_END: frozenset[_Status] = frozenset({_J.CANCELED, _J.TIMEOUT, _J.FAILED, _J.SUCCESS})

_T = TaskStatus
_TASK_RULES: Mapping[_Status, frozenset[_Status]] = {
    _T.WAITING: frozenset({_T.READY, _T.RUNNING, _T.CANCELED, _T.TIMEOUT, _T.FAILED, _T.PASS}),
    _T.READY: frozenset({_T.WAITING, _T.RUNNING, _T.CANCELED, _T.TIMEOUT, _T.FAILED, _T.PASS}),
    _T.RUNNING: frozenset({_T.CANCELED, _T.TIMEOUT, _T.FAILED, _T.SUCCESS, _T.PASS}),
    _T.CANCELED: frozenset({_T.WAITING}),
    _T.TIMEOUT: frozenset({_T.FAILED, _T.SUCCESS}),
    _T.FAILED: frozenset({_T.WAITING}),
    _T.PASS: frozenset({_T.WAITING}),
    _T.SUCCESS: frozenset({_T.WAITING}),
}
_TASK_END: frozenset[_Status] = frozenset({_T.CANCELED, _T.TIMEOUT, _T.FAILED, _T.PASS, _T.SUCCESS})

_RULES: dict[type[_Status], Mapping[_Status, frozenset[_Status]]] = {
    JobStatus: _JOB_RULES,
    TaskStatus: _TASK_RULES,
}
_ENDS: dict[type[_Status], frozenset[_Status]] = {JobStatus: _JOB_END, TaskStatus: _TASK_END}
