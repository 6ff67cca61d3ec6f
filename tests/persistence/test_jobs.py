from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest

from accord.errors import ArgumentError, RecordNotFound, StatusTransitionError
from accord.persistence import Database, JobRepository
from accord.status import JobStatus

from .helpers import ManualClock, new_job


@pytest.fixture
def jobs(database: Database, clock: ManualClock) -> JobRepository:
    return JobRepository(database, clock=clock)


def test_create_stores_a_waiting_row_per_party(jobs: JobRepository, clock: ManualClock) -> None:
    plan = {"stages": [["reader_0"]]}
    assert jobs.create(new_job("j1", "guest", 9999, plan=plan, model_id="m", description="d"))
    assert jobs.create(new_job("j1", "host", 10000))

    guest = jobs.get("j1", "guest", 9999)
    assert guest.status is JobStatus.WAITING
    assert (guest.is_initiator, guest.initiator_role, guest.initiator_party_id) == (True, "guest", 9999)
    assert guest.dsl == {"components": {"reader_0": {"module": "Reader"}}}
    assert guest.runtime_conf["initiator"] == {"role": "guest", "party_id": 9999}
    assert (guest.plan, guest.model_id, guest.model_version, guest.description) == (plan, "m", None, "d")
    assert (guest.cores, guest.resource_in_use, guest.progress, guest.status_reason) == (0, False, 0, "")
    assert guest.create_time == guest.update_time == clock.now
    assert (guest.start_time, guest.end_time, guest.elapsed_ms) == (None, None, None)
    assert jobs.get("j1", "host", 10000).plan is None


def test_records_are_frozen(jobs: JobRepository) -> None:
    jobs.create(new_job("j1"))
    with pytest.raises(dataclasses.FrozenInstanceError):
        jobs.get("j1", "guest", 9999).status = JobStatus.RUNNING  # type: ignore[misc]


def test_creating_an_existing_job_is_a_harmless_no_op(jobs: JobRepository) -> None:
    assert jobs.create(new_job("j1", description="first"))
    jobs.update_status("j1", "guest", 9999, JobStatus.RUNNING)
    assert not jobs.create(new_job("j1", description="retry"))
    [row] = jobs.parties("j1")
    assert (row.description, row.status) == ("first", JobStatus.RUNNING)


def test_get_of_a_missing_party_raises_record_not_found(jobs: JobRepository) -> None:
    jobs.create(new_job("j1"))
    with pytest.raises(RecordNotFound) as raised:
        jobs.get("j1", "host", 10000)
    assert raised.value.code == 40401


def test_parties_filters_by_role_and_party(jobs: JobRepository) -> None:
    for role, party in [("guest", 9999), ("host", 10000), ("host", 10001), ("arbiter", 9999)]:
        jobs.create(new_job("j1", role, party))
    jobs.create(new_job("j2", "host", 10000))

    assert [(j.role, j.party_id) for j in jobs.parties("j1")] == [
        ("arbiter", 9999),
        ("guest", 9999),
        ("host", 10000),
        ("host", 10001),
    ]
    assert [j.party_id for j in jobs.parties("j1", role="host")] == [10000, 10001]
    assert [j.role for j in jobs.parties("j1", party_id=9999)] == ["arbiter", "guest"]
    assert jobs.parties("missing") == []


def test_list_jobs_is_newest_first_with_limit_and_status_filter(
    jobs: JobRepository, clock: ManualClock
) -> None:
    for job_id in ["j1", "j2", "j3", "j4"]:
        jobs.create(new_job(job_id))
        clock.advance(seconds=1)
    jobs.update_status("j2", "guest", 9999, JobStatus.RUNNING)
    jobs.update_status("j3", "guest", 9999, JobStatus.FAILED)

    assert [j.job_id for j in jobs.list_jobs()] == ["j4", "j3", "j2", "j1"]
    assert [j.job_id for j in jobs.list_jobs(limit=2)] == ["j4", "j3"]
    assert [j.job_id for j in jobs.list_jobs(limit=2, offset=2)] == ["j2", "j1"]
    assert [j.job_id for j in jobs.list_jobs(status=JobStatus.WAITING)] == ["j4", "j1"]
    running_or_failed = jobs.list_jobs(status=[JobStatus.RUNNING, JobStatus.FAILED])
    assert [j.job_id for j in running_or_failed] == ["j3", "j2"]
    assert jobs.list_jobs(role="host") == []


def test_status_follows_the_transition_table_and_stamps_times(
    jobs: JobRepository, clock: ManualClock
) -> None:
    jobs.create(new_job("j1"))
    started = clock.advance(seconds=5)
    assert jobs.update_status("j1", "guest", 9999, JobStatus.RUNNING)
    ended = clock.advance(seconds=90)
    assert jobs.update_status("j1", "guest", 9999, JobStatus.SUCCESS)

    job = jobs.get("j1", "guest", 9999)
    assert job.status is JobStatus.SUCCESS
    assert (job.start_time, job.end_time, job.update_time) == (started, ended, ended)
    assert job.elapsed_ms == 90_000


def test_same_status_is_a_no_op(jobs: JobRepository, clock: ManualClock) -> None:
    jobs.create(new_job("j1"))
    jobs.update_status("j1", "guest", 9999, JobStatus.RUNNING, reason="started")
    before = jobs.get("j1", "guest", 9999)
    clock.advance(minutes=1)
    assert not jobs.update_status("j1", "guest", 9999, JobStatus.RUNNING, reason="again")
    assert jobs.get("j1", "guest", 9999) == before


def test_illegal_transition_raises_the_coded_error_and_changes_nothing(jobs: JobRepository) -> None:
    jobs.create(new_job("j1"))
    jobs.update_status("j1", "guest", 9999, JobStatus.RUNNING)
    with pytest.raises(StatusTransitionError) as raised:
        jobs.update_status("j1", "guest", 9999, JobStatus.WAITING)
    assert raised.value.code == 10303
    assert "running to waiting" in raised.value.message
    assert jobs.get("j1", "guest", 9999).status is JobStatus.RUNNING
    with pytest.raises(RecordNotFound):
        jobs.update_status("nope", "guest", 9999, JobStatus.RUNNING)


def test_every_pair_of_statuses_obeys_the_table(jobs: JobRepository) -> None:
    # Drives each source status through a legal path, then tries every target from it.
    path_to = {
        JobStatus.WAITING: [],
        JobStatus.READY: [JobStatus.READY],
        JobStatus.RUNNING: [JobStatus.RUNNING],
        JobStatus.CANCELED: [JobStatus.CANCELED],
        JobStatus.TIMEOUT: [JobStatus.TIMEOUT],
        JobStatus.FAILED: [JobStatus.FAILED],
        JobStatus.SUCCESS: [JobStatus.RUNNING, JobStatus.SUCCESS],
    }
    for source, path in path_to.items():
        for target in JobStatus:
            job_id = f"{source.value}-{target.value}"
            jobs.create(new_job(job_id))
            for step in path:
                jobs.update_status(job_id, "guest", 9999, step)
            if source == target:
                assert not jobs.update_status(job_id, "guest", 9999, target)
            elif source.can_become(target):
                assert jobs.update_status(job_id, "guest", 9999, target)
            else:
                with pytest.raises(StatusTransitionError):
                    jobs.update_status(job_id, "guest", 9999, target)
            expected = target if source == target or source.can_become(target) else source
            assert jobs.get(job_id, "guest", 9999).status is expected


def test_rerun_clears_the_previous_run_times(jobs: JobRepository, clock: ManualClock) -> None:
    jobs.create(new_job("j1"))
    jobs.update_status("j1", "guest", 9999, JobStatus.RUNNING)
    clock.advance(seconds=3)
    jobs.update_status("j1", "guest", 9999, JobStatus.FAILED, reason="component failed")
    assert jobs.get("j1", "guest", 9999).status_reason == "component failed"

    jobs.update_status("j1", "guest", 9999, JobStatus.WAITING)
    job = jobs.get("j1", "guest", 9999)
    assert (job.start_time, job.end_time, job.elapsed_ms, job.status_reason) == (None, None, None, "")
    restarted = clock.advance(seconds=10)
    jobs.update_status("j1", "guest", 9999, JobStatus.RUNNING)
    assert jobs.get("j1", "guest", 9999).start_time == restarted


def test_ending_without_running_has_an_end_but_no_duration(jobs: JobRepository, clock: ManualClock) -> None:
    jobs.create(new_job("j1"))
    canceled = clock.advance(seconds=1)
    jobs.update_status("j1", "guest", 9999, JobStatus.CANCELED)
    job = jobs.get("j1", "guest", 9999)
    assert (job.start_time, job.end_time, job.elapsed_ms) == (None, canceled, None)


def test_timeout_then_failed_keeps_the_first_end_time(jobs: JobRepository, clock: ManualClock) -> None:
    jobs.create(new_job("j1"))
    jobs.update_status("j1", "guest", 9999, JobStatus.RUNNING)
    timed_out = clock.advance(hours=1)
    jobs.update_status("j1", "guest", 9999, JobStatus.TIMEOUT)
    clock.advance(seconds=30)
    jobs.update_status("j1", "guest", 9999, JobStatus.FAILED)
    job = jobs.get("j1", "guest", 9999)
    assert (job.end_time, job.elapsed_ms) == (timed_out, 3_600_000)


def test_reason_progress_and_plan_updates(jobs: JobRepository, clock: ManualClock) -> None:
    jobs.create(new_job("j1"))
    later = clock.advance(seconds=2)
    jobs.set_status_reason("j1", "guest", 9999, "resources insufficient on host 10000")
    jobs.set_progress("j1", "guest", 9999, 40)
    jobs.set_plan("j1", "guest", 9999, {"stages": [["a"], ["b", "c"]]})
    job = jobs.get("j1", "guest", 9999)
    assert job.status_reason == "resources insufficient on host 10000"
    assert (job.progress, job.plan, job.update_time) == (40, {"stages": [["a"], ["b", "c"]]}, later)
    assert job.status is JobStatus.WAITING

    with pytest.raises(ArgumentError):
        jobs.set_progress("j1", "guest", 9999, 101)
    with pytest.raises(RecordNotFound):
        jobs.set_progress("j1", "host", 10000, 10)


def test_times_come_back_in_utc(jobs: JobRepository, clock: ManualClock) -> None:
    jobs.create(new_job("j1"))
    job = jobs.get("j1", "guest", 9999)
    assert job.create_time.utcoffset() == timedelta(0)
    assert job.create_time == clock.now
