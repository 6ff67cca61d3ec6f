"""A job's progress: its finished components over all, plus the running components' own progress.

One function for every place that shows it (``job query`` rows, ``job list``, the board), so they agree.
A running component's share is what its tasks reported through ``ctx.progress`` (iterations done of
``max_iter``, trees done of ``num_trees``), averaged over the parties that run it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from accord.persistence import JobRecord, TaskRecord
from accord.status import JobStatus, TaskStatus
from accord.workflows.dag import combined_status

_FINISHED = frozenset({TaskStatus.SUCCESS, TaskStatus.PASS})


def task_fraction(task: TaskRecord) -> float:
    """How far one party's task is, from 0 to 1."""
    if task.party_status in _FINISHED:
        return 1.0
    if task.party_status == TaskStatus.RUNNING and task.progress_total > 0:
        return min(1.0, task.progress_done / task.progress_total)
    return 0.0


def latest_tasks(tasks: Iterable[TaskRecord]) -> dict[str, list[TaskRecord]]:
    """Each component's tasks of its newest version."""
    newest: dict[str, list[TaskRecord]] = {}
    for task in tasks:
        name = task.key.component_name
        seen = newest.get(name)
        if seen is None or task.key.task_version > seen[0].key.task_version:
            newest[name] = [task]
        elif task.key.task_version == seen[0].key.task_version:
            seen.append(task)
    return newest


def job_progress(tasks: Iterable[TaskRecord], components: int, status: JobStatus | None = None) -> int:
    """The percentage done (0 to 100) of a job of ``components`` components, from its task rows."""
    if status == JobStatus.SUCCESS:
        return 100
    if components <= 0:
        return 0
    done = 0.0
    for rows in latest_tasks(tasks).values():
        combined = combined_status([r.party_status for r in rows])
        if combined in _FINISHED:
            done += 1.0
        elif combined == TaskStatus.RUNNING:
            done += sum(task_fraction(r) for r in rows) / len(rows)
    return max(0, min(100, int(100 * done / components)))


def component_count(
    plan: Mapping[str, Any] | None, dsl: Mapping[str, Any], party: tuple[str, int] | None
) -> int:
    """The components of the job (of one party, given ``party``), from its stored plan or else its DSL."""
    if plan:
        if party is not None:
            for entry in plan.get("parties", ()):
                if (entry.get("role"), entry.get("party_id")) == party:
                    return len(entry.get("components", ()))
        return len(plan.get("components", ()))
    components = dsl.get("components")
    return len(components) if isinstance(components, Mapping) else 0


def party_progress(record: JobRecord, tasks: Iterable[TaskRecord]) -> int:
    """One party's progress from its own task rows (a row that recorded its own progress keeps it)."""
    mine = [t for t in tasks if (t.key.role, t.key.party_id) == (record.role, record.party_id)]
    count = component_count(record.plan, record.dsl, (record.role, record.party_id))
    return max(record.progress, job_progress(mine, count, record.status))
