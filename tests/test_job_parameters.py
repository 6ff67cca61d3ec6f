"""Job parameters: FATE's defaults, engines from work_mode/backend, and per-party resources."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from accord.dsl_compiler import CompileOptions, JobDefaults, JobPlan, compile_job
from tests.corpus import DSL_V2, load

LR = DSL_V2 / "hetero_logistic_regression"
DSL = load(LR / "hetero_lr_normal_dsl.json")
CONF = load(LR / "hetero_lr_normal_conf.json")


def plan_with(
    common: dict[str, Any] | None = None, role: dict[str, Any] | None = None, **opts: Any
) -> JobPlan:
    conf = copy.deepcopy(CONF)
    conf["job_parameters"] = {"common": common or {}, "role": role or {}}
    return compile_job(DSL, conf, CompileOptions(**opts))


def test_fate_defaults() -> None:
    params = plan_with().party("guest", 9999).job_parameters
    assert params.job_type == "train"
    assert (params.work_mode, params.backend) == (0, 0)
    assert params.task_cores == 4
    assert params.task_parallelism == 1
    assert params.computing_partitions == 4
    assert params.timeout == 259200
    assert params.auto_retries == 0
    assert params.federated_status_collect_type == "PUSH"


@pytest.mark.parametrize(
    ("work_mode", "backend", "engines", "mode"),
    [
        (0, 0, ("STANDALONE", "STANDALONE", "STANDALONE"), "SINGLE"),
        (1, 0, ("EGGROLL", "EGGROLL", "EGGROLL"), "MULTIPLE"),
        (1, 1, ("SPARK", "HDFS", "RABBITMQ"), "MULTIPLE"),
        (1, 2, ("SPARK", "HDFS", "PULSAR"), "MULTIPLE"),
    ],
)
def test_backend_table(work_mode: int, backend: int, engines: tuple[str, str, str], mode: str) -> None:
    params = plan_with({"work_mode": work_mode, "backend": backend}).party("host", 10000).job_parameters
    assert (params.computing_engine, params.storage_engine, params.federation_engine) == engines
    assert params.federated_mode == mode


def test_engine_named_directly_wins_over_backend() -> None:
    params = plan_with({"backend": 0, "computing_engine": "spark", "federation_engine": "PULSAR"})
    p = params.party("guest", 9999).job_parameters
    assert (p.computing_engine, p.storage_engine, p.federation_engine) == ("SPARK", "HDFS", "PULSAR")


def test_resources_follow_task_cores_over_nodes() -> None:
    plan = plan_with({"task_cores": 6, "task_parallelism": 2}, defaults=JobDefaults(computing_nodes=2))
    guest = plan.party("guest", 9999).resources
    assert (guest.task_nodes, guest.task_cores_per_node, guest.task_run_cores) == (2, 3, 6)
    assert guest.apply_cores == 12
    assert plan.party("arbiter", 10000).resources.apply_cores == 0


def test_eggroll_run_sets_cores_per_node() -> None:
    plan = plan_with({"work_mode": 1, "eggroll_run": {"eggroll.session.processors.per.node": 3}})
    assert plan.party("host", 10000).resources.task_run_cores == 3


def test_spark_arbiter_reserves_cores() -> None:
    plan = plan_with({"backend": 1, "work_mode": 1, "spark_run": {"num-executors": 2, "executor-cores": 2}})
    arbiter = plan.party("arbiter", 10000).resources
    assert (arbiter.task_nodes, arbiter.task_cores_per_node, arbiter.apply_cores) == (2, 2, 4)


def test_role_section_overrides_common_for_that_party_only() -> None:
    plan = plan_with({"task_cores": 2}, {"host": {"0": {"task_cores": 8}}})
    assert plan.party("guest", 9999).job_parameters.task_cores == 2
    assert plan.party("host", 10000).job_parameters.task_cores == 8
    assert plan.party("host", 10000).resources.apply_cores == 8


def test_unknown_job_parameter_is_a_warning_with_a_suggestion() -> None:
    plan = plan_with({"task_core": 2})
    assert any("job_parameters.common.task_core" in w and "'task_cores'" in w for w in plan.warnings)


def test_job_type_must_agree_across_parties() -> None:
    from accord.errors import JobParameterError

    with pytest.raises(JobParameterError, match="job_type differs between parties"):
        plan_with({}, {"host": {"0": {"job_type": "predict", "model_id": "m", "model_version": "v"}}})


def test_one_party_id_in_two_roles() -> None:
    plan = plan_with()
    assert plan.roles["host"] == (10000,) and plan.roles["arbiter"] == (10000,)
    assert sorted(plan.party_ids) == [9999, 10000]
    assert plan.party("host", 10000).components != plan.party("arbiter", 10000).components
