from __future__ import annotations

import pytest
from sqlalchemy import delete, insert
from sqlalchemy.exc import IntegrityError

from accord.errors import ArgumentError, RecordNotFound, StatusTransitionError
from accord.persistence import Database, NewTask, TaskKey, TaskRepository
from accord.persistence.orm import JobRow, TaskRow
from accord.status import TaskStatus

from .helpers import ManualClock, create_jobs


@pytest.fixture
def tasks(database: Database, clock: ManualClock) -> TaskRepository:
    create_jobs(database, "j1")
    create_jobs(database, "j1", role="host", party_id=10000)
    return TaskRepository(database, clock=clock)


def key(component: str = "reader_0", version: int = 0, role: str = "guest", party: int = 9999) -> TaskKey:
    return TaskKey("j1", component, version, role, party)


def test_create_stores_a_waiting_task(tasks: TaskRepository, clock: ManualClock) -> None:
    assert tasks.create(NewTask(key(), auto_retries=2))
    task = tasks.get(key())
    assert task.key == key()
    assert task.task_id == "j1_reader_0"
    assert (task.status, task.party_status) == (TaskStatus.WAITING, TaskStatus.WAITING)
    assert (task.auto_retries, task.create_time, task.start_time) == (2, clock.now, None)
    assert (task.worker_id, task.run_id, task.run_ip, task.run_pid) == (None, None, None, None)


def test_creating_an_existing_task_version_is_a_harmless_no_op(tasks: TaskRepository) -> None:
    assert tasks.create(NewTask(key(), auto_retries=3))
    tasks.update_status(key(), TaskStatus.RUNNING)
    assert not tasks.create(NewTask(key(), auto_retries=0))
    [task] = tasks.list_tasks("j1")
    assert (task.status, task.auto_retries) == (TaskStatus.RUNNING, 3)


def test_the_database_itself_refuses_a_second_row_for_one_version(
    tasks: TaskRepository, database: Database, clock: ManualClock
) -> None:
    tasks.create(NewTask(key()))
    row = {
        "job_id": "j1",
        "component_name": "renamed",
        "task_version": 0,
        "role": "guest",
        "party_id": 9999,
        "task_id": "j1_reader_0",
        "status": "waiting",
        "party_status": "waiting",
        "auto_retries": 0,
        "create_time": clock.now,
        "update_time": clock.now,
    }
    with pytest.raises(IntegrityError), database.session_scope() as session:
        session.execute(insert(TaskRow).values(row))
    with pytest.raises(IntegrityError), database.session_scope() as session:
        session.execute(insert(TaskRow).values({**row, "component_name": "reader_0", "task_id": "other"}))


def test_a_task_needs_its_party_job_row(tasks: TaskRepository) -> None:
    with pytest.raises(RecordNotFound) as raised:
        tasks.create(NewTask(TaskKey("j1", "reader_0", 0, "arbiter", 9999)))
    assert "arbiter 9999" in raised.value.message
    with pytest.raises(ArgumentError):
        tasks.create(NewTask(key(), auto_retries=-1))


def test_tasks_are_deleted_with_their_job(tasks: TaskRepository, database: Database) -> None:
    tasks.create(NewTask(key()))
    tasks.create(NewTask(key(role="host", party=10000)))
    with database.session_scope() as session:
        session.execute(delete(JobRow).where(JobRow.role == "guest"))
    assert [t.key.role for t in tasks.list_tasks("j1")] == ["host"]


def test_list_and_latest_versions(tasks: TaskRepository) -> None:
    for component, version, role, party in [
        ("reader_0", 0, "guest", 9999),
        ("reader_0", 0, "host", 10000),
        ("reader_0", 1, "guest", 9999),
        ("reader_0", 2, "guest", 9999),
        ("lr_0", 0, "guest", 9999),
        ("lr_0", 0, "host", 10000),
        ("lr_0", 1, "host", 10000),
    ]:
        tasks.create(NewTask(key(component, version, role, party)))

    assert len(tasks.list_tasks("j1")) == 7
    assert [(t.key.task_version, t.key.role) for t in tasks.list_tasks("j1", component_name="reader_0")] == [
        (0, "guest"),
        (0, "host"),
        (1, "guest"),
        (2, "guest"),
    ]
    assert len(tasks.list_tasks("j1", role="host")) == 3
    assert [(t.key.component_name, t.key.role, t.key.task_version) for t in tasks.latest("j1")] == [
        ("lr_0", "guest", 0),
        ("lr_0", "host", 1),
        ("reader_0", "guest", 2),
        ("reader_0", "host", 0),
    ]
    assert [t.key.task_version for t in tasks.latest("j1", component_name="lr_0")] == [0, 1]
    assert tasks.latest("other") == []


def test_status_transitions_and_times(tasks: TaskRepository, clock: ManualClock) -> None:
    tasks.create(NewTask(key()))
    started = clock.advance(seconds=1)
    assert tasks.update_status(key(), TaskStatus.RUNNING)
    assert not tasks.update_status(key(), TaskStatus.RUNNING)
    ended = clock.advance(seconds=2.5)
    assert tasks.update_status(key(), TaskStatus.SUCCESS)
    task = tasks.get(key())
    assert (task.status, task.start_time, task.end_time, task.elapsed_ms) == (
        TaskStatus.SUCCESS,
        started,
        ended,
        2500,
    )
    with pytest.raises(StatusTransitionError):
        tasks.update_status(key(), TaskStatus.RUNNING)
    assert tasks.update_status(key(), TaskStatus.WAITING)
    assert tasks.get(key()).end_time is None


def test_party_status_has_its_own_transitions(tasks: TaskRepository) -> None:
    tasks.create(NewTask(key()))
    assert tasks.update_party_status(key(), TaskStatus.RUNNING)
    assert not tasks.update_party_status(key(), TaskStatus.RUNNING)
    with pytest.raises(StatusTransitionError):
        tasks.update_party_status(key(), TaskStatus.READY)
    task = tasks.get(key())
    assert (task.party_status, task.status, task.start_time) == (TaskStatus.RUNNING, TaskStatus.WAITING, None)


def test_run_info_keeps_values_not_given(tasks: TaskRepository) -> None:
    tasks.create(NewTask(key()))
    tasks.set_run_info(key(), worker_id="w1", run_ip="10.0.0.1", run_pid=4242)
    tasks.set_run_info(key(), run_id="workflow-1/activity-3")
    task = tasks.get(key())
    assert (task.worker_id, task.run_id, task.run_ip, task.run_pid) == (
        "w1",
        "workflow-1/activity-3",
        "10.0.0.1",
        4242,
    )
    with pytest.raises(RecordNotFound):
        tasks.set_run_info(key(version=9), worker_id="w1")


def test_auto_retries_are_spent_one_at_a_time(tasks: TaskRepository) -> None:
    tasks.create(NewTask(key(), auto_retries=2))
    assert [tasks.use_auto_retry(key()) for _ in range(3)] == [True, True, False]
    assert tasks.get(key()).auto_retries == 0
    with pytest.raises(RecordNotFound):
        tasks.use_auto_retry(key(version=9))
