"""The job's state machine on runs cut off by a lost worker: run again under a new version, on every
party, without using the job's auto_retries, and at most MAX_LOST_RUNS times."""

from __future__ import annotations

from accord.identity import Party, TaskReport
from accord.status import TaskStatus
from accord.workflows.dag import MAX_LOST_RUNS, Dag
from accord.workflows.spec import ComponentSpec, JobSpec, PartySpec

GUEST, HOST = Party(role="guest", party_id=9999), Party(role="host", party_id=10000)
JOB = "202611220000000000009"


def spec(auto_retries: int = 0) -> JobSpec:
    return JobSpec(
        job_id=JOB,
        initiator=GUEST,
        components=(ComponentSpec(name="lr", module="HeteroLR", upstream=(), parties=(GUEST, HOST)),),
        parties=(PartySpec(party=GUEST, engine="STANDALONE", apply_cores=1),),
        task_parallelism=1,
        timeout_s=600,
        queue_timeout_s=60,
        status_collect="PUSH",
        auto_retries=auto_retries,
        auto_retry_delay_s=0,
    )


def report(party: Party, status: TaskStatus, version: int, *, lost: bool = False) -> TaskReport:
    return TaskReport(job_id=JOB, party=party, component="lr", task_version=version, status=status, lost=lost)


def test_a_lost_run_is_run_again_without_using_auto_retries() -> None:
    dag = Dag(spec(auto_retries=0))
    dag.start("lr")
    dag.apply(report(GUEST, TaskStatus.FAILED, 0, lost=True))
    outcome = dag.apply(report(HOST, TaskStatus.FAILED, 0))
    assert outcome is not None and outcome.status == TaskStatus.FAILED
    assert dag.can_retry("lr")
    run = dag.retry("lr")
    assert (run.version, run.retries_used, run.lost_runs, run.lost) == (1, 0, 1, False)
    assert run.status == TaskStatus.WAITING and run.party_status == {}
    # The new version starts on every party; reports of the lost version are stale now.
    dag.start("lr")
    assert dag.apply(report(HOST, TaskStatus.SUCCESS, 0)) is None
    dag.apply(report(GUEST, TaskStatus.SUCCESS, 1))
    finished = dag.apply(report(HOST, TaskStatus.SUCCESS, 1))
    assert finished is not None and finished.status == TaskStatus.SUCCESS


def test_a_component_failure_is_not_a_lost_run() -> None:
    dag = Dag(spec(auto_retries=1))
    dag.start("lr")
    dag.apply(report(GUEST, TaskStatus.FAILED, 0))
    assert dag.can_retry("lr")
    run = dag.retry("lr")
    assert (run.retries_used, run.lost_runs) == (1, 0)
    dag.start("lr")
    dag.apply(report(GUEST, TaskStatus.FAILED, 1))
    assert not dag.can_retry("lr"), "auto_retries is used up"


def test_lost_runs_stop_being_rerun_after_the_limit() -> None:
    dag = Dag(spec(auto_retries=0))
    for version in range(MAX_LOST_RUNS):
        dag.start("lr")
        dag.apply(report(GUEST, TaskStatus.FAILED, version, lost=True))
        assert dag.can_retry("lr")
        dag.retry("lr")
    dag.start("lr")
    dag.apply(report(GUEST, TaskStatus.FAILED, MAX_LOST_RUNS, lost=True))
    assert not dag.can_retry("lr")
    assert dag.run("lr").lost_runs == MAX_LOST_RUNS
