"""Job and task statuses with FATE-Flow's names and explicit transition tables.

A rerun moves an ended job or task back to ``waiting``; nothing else leaves an end status.
"""

from __future__ import annotations

from enum import StrEnum

from accord.errors import StatusTransitionError


class JobStatus(StrEnum):
    WAITING = "waiting"
    READY = "ready"
    RUNNING = "running"
    CANCELED = "canceled"
    TIMEOUT = "timeout"
    FAILED = "failed"
    SUCCESS = "success"

    @property
    def is_end(self) -> bool:
        return self in _JOB_END

    def can_become(self, target: JobStatus) -> bool:
        return target in _JOB_RULES[self]

    def check_transition(self, target: JobStatus) -> None:
        if not self.can_become(target):
            raise StatusTransitionError(
                f"job status cannot change from {self.value} to {target.value}",
                hint=f"allowed next statuses: {', '.join(s.value for s in _JOB_RULES[self]) or 'none'}",
            )


class TaskStatus(StrEnum):
    WAITING = "waiting"
    READY = "ready"
    RUNNING = "running"
    CANCELED = "canceled"
    TIMEOUT = "timeout"
    FAILED = "failed"
    PASS = "pass"
    SUCCESS = "success"

    @property
    def is_end(self) -> bool:
        return self in _TASK_END

    def can_become(self, target: TaskStatus) -> bool:
        return target in _TASK_RULES[self]

    def check_transition(self, target: TaskStatus) -> None:
        if not self.can_become(target):
            raise StatusTransitionError(
                f"task status cannot change from {self.value} to {target.value}",
                hint=f"allowed next statuses: {', '.join(s.value for s in _TASK_RULES[self]) or 'none'}",
            )


_J = JobStatus
_JOB_RULES: dict[JobStatus, frozenset[JobStatus]] = {
    _J.WAITING: frozenset({_J.READY, _J.RUNNING, _J.CANCELED, _J.TIMEOUT, _J.FAILED, _J.SUCCESS}),
    _J.READY: frozenset({_J.WAITING, _J.RUNNING, _J.CANCELED, _J.TIMEOUT, _J.FAILED}),
    _J.RUNNING: frozenset({_J.CANCELED, _J.TIMEOUT, _J.FAILED, _J.SUCCESS}),
    _J.CANCELED: frozenset({_J.WAITING}),
    _J.TIMEOUT: frozenset({_J.FAILED, _J.SUCCESS, _J.WAITING}),
    _J.FAILED: frozenset({_J.WAITING}),
    _J.SUCCESS: frozenset({_J.WAITING}),
}
_JOB_END = frozenset({_J.CANCELED, _J.TIMEOUT, _J.FAILED, _J.SUCCESS})

_T = TaskStatus
_TASK_RULES: dict[TaskStatus, frozenset[TaskStatus]] = {
    _T.WAITING: frozenset({_T.READY, _T.RUNNING, _T.CANCELED, _T.TIMEOUT, _T.FAILED, _T.PASS}),
    _T.READY: frozenset({_T.WAITING, _T.RUNNING, _T.CANCELED, _T.TIMEOUT, _T.FAILED, _T.PASS}),
    _T.RUNNING: frozenset({_T.CANCELED, _T.TIMEOUT, _T.FAILED, _T.SUCCESS, _T.PASS}),
    _T.CANCELED: frozenset({_T.WAITING}),
    _T.TIMEOUT: frozenset({_T.FAILED, _T.SUCCESS}),
    _T.FAILED: frozenset({_T.WAITING}),
    _T.PASS: frozenset({_T.WAITING}),
    _T.SUCCESS: frozenset({_T.WAITING}),
}
_TASK_END = frozenset({_T.CANCELED, _T.TIMEOUT, _T.FAILED, _T.PASS, _T.SUCCESS})
