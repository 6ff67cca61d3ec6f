"""The job's state machine and conf switches for reusing earlier runs of a component."""

from __future__ import annotations

import copy

import pytest

from accord.dsl_compiler import CompileOptions, compile_job
from accord.errors import JobParameterError
from accord.status import TaskStatus
from accord.workflows.dag import Dag
from accord.workflows.spec import job_spec
from tests.corpus import DSL_V2, load
from tests.scheduling.test_dag_lost_runs import GUEST, HOST, report, spec

LR = DSL_V2 / "hetero_logistic_regression"


def test_a_failed_reuse_runs_the_component_for_real_without_using_auto_retries() -> None:
    dag = Dag(spec(auto_retries=0))
    assert dag.may_reuse("lr")
    dag.start("lr")
    dag.note_reuse("lr", "job 1, component lr")
    dag.apply(report(GUEST, TaskStatus.FAILED, 0))
    assert dag.can_retry("lr"), "the outputs went away: the site's doing, not the component's"
    run = dag.retry("lr")
    assert (run.version, run.retries_used, run.reused_from, run.reuse_failed) == (1, 0, "", True)
    assert not dag.may_reuse("lr"), "not offered a second time"
    dag.start("lr")
    dag.apply(report(GUEST, TaskStatus.FAILED, 1))
    dag.apply(report(HOST, TaskStatus.FAILED, 1))
    assert not dag.can_retry("lr"), "a real failure uses auto_retries as always"


def test_a_rerun_may_reuse_again() -> None:
    dag = Dag(spec())
    dag.start("lr")
    dag.note_reuse("lr", "job 1, component lr")
    dag.apply(report(GUEST, TaskStatus.FAILED, 0))
    dag.retry("lr")
    dag.prepare_rerun(None, force=True)
    assert dag.may_reuse("lr") and dag.run("lr").reused_from == ""


def _plan(common: dict[str, object]):  # type: ignore[no-untyped-def]
    conf = copy.deepcopy(load(LR / "hetero_lr_normal_conf.json"))
    conf.setdefault("job_parameters", {}).setdefault("common", {}).update(common)
    return compile_job(load(LR / "hetero_lr_normal_dsl.json"), conf, CompileOptions())


def test_reuse_is_on_by_default_and_can_be_turned_off_per_job_or_component() -> None:
    on = job_spec("j", _plan({}), queue_timeout_s=60)
    assert on.reuse and on.may_reuse("hetero_lr_0")
    off = job_spec("j", _plan({"reuse": False}), queue_timeout_s=60)
    assert not off.may_reuse("reader_0")
    some = job_spec("j", _plan({"reuse": {"hetero_lr_0": False, "reader_0": True}}), queue_timeout_s=60)
    assert some.may_reuse("reader_0") and not some.may_reuse("hetero_lr_0")
    assert not any("reuse" in w for w in _plan({"reuse": True}).warnings)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("no", "reuse = 'no' is out of range"),
        ({"hetero_lr_0": "off"}, "is out of range"),
        ({"hetero_lr_1": False}, "did you mean 'hetero_lr_0'"),
    ],
)
def test_a_bad_reuse_value_is_refused_naming_the_field(value: object, message: str) -> None:
    with pytest.raises(JobParameterError) as refused:
        _plan({"reuse": value})
    assert message in f"{refused.value.message} {refused.value.hint}"
    assert refused.value.details["field"] == "reuse"
