"""The pure state machine the job workflow drives: which tasks may start, what a report changes.

No Temporal, no I/O: the workflow feeds it reports and asks it what to do next, so the scheduling
rules are unit-tested on their own and replay cannot diverge.
"""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import BaseModel, Field

from accord.identity import Party, TaskReport
from accord.status import TaskStatus
from accord.workflows.spec import JobSpec

_DONE = frozenset({TaskStatus.SUCCESS, TaskStatus.PASS})
# FATE's precedence when parties disagree: the worst interruption wins.
_INTERRUPTED = (TaskStatus.FAILED, TaskStatus.TIMEOUT, TaskStatus.CANCELED)
# Runs of one component cut off by lost workers that are run again under a new version, whatever the
# job's auto_retries: a worker dying is the site's doing, not the component's.
MAX_LOST_RUNS = 20


def party_key(party: Party) -> str:
    return f"{party.role}:{party.party_id}"


class ComponentRun(BaseModel):
    version: int = 0
    status: TaskStatus = TaskStatus.WAITING
    party_status: dict[str, TaskStatus] = Field(default_factory=dict)
    retries_used: int = 0
    error: str = ""
    # The current version was cut off by a lost worker (see MAX_LOST_RUNS); how often that happened.
    lost: bool = False
    lost_runs: int = 0
    # Started to take the outputs of an earlier run ("job X, component Y, version V") instead of running;
    # once that fails (its outputs went away meanwhile) the component runs for real.
    reused_from: str = ""
    reuse_failed: bool = False


class DagState(BaseModel):
    components: dict[str, ComponentRun] = Field(default_factory=dict)


@dataclass(frozen=True)
class Outcome:
    """What one report did to its component."""

    component: str
    status: TaskStatus
    changed: bool


def combined_status(statuses: list[TaskStatus]) -> TaskStatus:
    """One status for a task from its parties' statuses, as FATE combines them."""
    present = {TaskStatus.SUCCESS if s == TaskStatus.PASS else s for s in statuses}
    if len(present) == 1:
        return present.pop()
    for status in _INTERRUPTED:
        if status in present:
            return status
    if present & {TaskStatus.RUNNING, TaskStatus.SUCCESS}:
        return TaskStatus.RUNNING
    return TaskStatus.WAITING if TaskStatus.WAITING in present else TaskStatus.READY


class Dag:
    def __init__(self, spec: JobSpec, state: DagState | None = None) -> None:
        self.spec = spec
        self.state = state or DagState()
        for cpn in spec.components:
            self.state.components.setdefault(cpn.name, ComponentRun())

    def run(self, name: str) -> ComponentRun:
        return self.state.components[name]

    def running(self) -> list[str]:
        return [c.name for c in self.spec.components if self.run(c.name).status == TaskStatus.RUNNING]

    def next_to_start(self) -> list[str]:
        """Waiting components whose inputs are all done, within the job's task_parallelism."""
        room = self.spec.task_parallelism - len(self.running())
        ready = [
            cpn.name
            for cpn in self.spec.components
            if self.run(cpn.name).status == TaskStatus.WAITING
            and all(self.run(up).status in _DONE for up in cpn.upstream)
        ]
        return ready[: max(room, 0)]

    def start(self, name: str) -> ComponentRun:
        run = self.run(name)
        TaskStatus(run.status).check_transition(TaskStatus.RUNNING)
        run.status = TaskStatus.RUNNING
        run.party_status = {party_key(p): TaskStatus.RUNNING for p in self.spec.component(name).parties}
        run.error = ""
        run.lost = False
        return run

    def apply(self, report: TaskReport) -> Outcome | None:
        """Record a party's report; None when it is stale (another version) or unknown."""
        run = self.state.components.get(report.component)
        key = party_key(report.party)
        if run is None or report.task_version != run.version or key not in run.party_status:
            return None
        if run.party_status[key].is_end and not report.status.is_end:
            return None  # a late "running" after the end
        run.party_status[key] = report.status
        if report.lost and not run.status.is_end:
            run.lost = True
        if report.error and not run.error:
            run.error = f"{report.party}: {report.error}"
        before = run.status
        after = combined_status(list(run.party_status.values()))
        if after in _INTERRUPTED or after in _DONE:
            run.status = after
        return Outcome(report.component, TaskStatus(run.status), run.status != before)

    def note_reuse(self, name: str, source: str) -> None:
        """The component's current version takes ``source``'s outputs instead of running."""
        self.run(name).reused_from = source

    def may_reuse(self, name: str) -> bool:
        return not self.run(name).reuse_failed

    def can_retry(self, name: str) -> bool:
        run = self.run(name)
        if run.lost and run.lost_runs < MAX_LOST_RUNS:
            return True
        if run.reused_from:
            # The earlier outputs could not be taken over: the site's doing, not the component's.
            return True
        return run.retries_used < self.spec.auto_retries

    def retry(self, name: str) -> ComponentRun:
        run = self.run(name)
        run.version += 1
        if run.reused_from:
            run.reused_from, run.reuse_failed = "", True
        elif run.lost and run.lost_runs < MAX_LOST_RUNS:
            run.lost_runs += 1
        else:
            run.retries_used += 1
        run.lost = False
        run.status = TaskStatus.WAITING
        run.party_status = {}
        return run

    def mark_ended(self, name: str, status: TaskStatus) -> list[Party]:
        """End a component's unfinished parties with ``status``; returns the parties to stop."""
        run = self.run(name)
        to_stop = []
        for party in self.spec.component(name).parties:
            key = party_key(party)
            if not run.party_status.get(key, TaskStatus.WAITING).is_end:
                run.party_status[key] = status
                to_stop.append(party)
        if not run.status.is_end:
            run.status = status
        return to_stop

    def all_done(self) -> bool:
        return all(self.run(c.name).status in _DONE for c in self.spec.components)

    def prepare_rerun(self, component: str | None, force: bool) -> list[str]:
        """Reset for a rerun; returns the components that get a new task version."""
        targets = (
            self.spec.downstream_closure(component) if component else [c.name for c in self.spec.components]
        )
        chosen = [name for name in targets if force or self.run(name).status not in _DONE]
        # Everything downstream of a rerun component must run again, even if it had succeeded.
        closure: list[str] = []
        for name in chosen:
            closure += [n for n in self.spec.downstream_closure(name) if n not in closure]
        ordered = [c.name for c in self.spec.components if c.name in closure]
        for name in ordered:
            # A fresh run under the next version: waiting, no party status, retries and error reset.
            self.state.components[name] = ComponentRun(version=self.run(name).version + 1)
        return ordered
