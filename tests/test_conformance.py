"""Every job of FATE's own testsuites compiles, with the order and parties FATE would give it."""

from __future__ import annotations

from typing import Any

import pytest
from click.testing import CliRunner

from accord.cli import main
from accord.dsl_compiler import CompileOptions, JobPlan, compile_job
from accord.dsl_compiler.catalog import lookup
from tests.corpus import CorpusJob, bind_model, corpus_jobs, load

JOBS = corpus_jobs()
BY_ID = {job.id: job for job in JOBS}


def test_corpus_has_all_237_jobs() -> None:
    assert len(JOBS) == 237
    assert sum(1 for job in JOBS if job.deps) == 13


def compile_as_fate_test(job: CorpusJob) -> tuple[JobPlan, dict[str, Any], dict[str, Any]]:
    dsl, conf = load(job.dsl_path), load(job.conf_path)
    if job.deps:
        trained = BY_ID[f"{job.suite}/{job.deps}"]
        train_plan = compile_job(load(trained.dsl_path), load(trained.conf_path), CompileOptions(job_id="1"))
        conf = bind_model(conf, train_plan.model_id, "202011180000000000001")
    return compile_job(dsl, conf, CompileOptions(job_id="202011180000000000002")), dsl, conf


def _sources(component: dict[str, Any]) -> set[str]:
    inputs = component.get("input", {})
    refs = [r for refs in inputs.get("data", {}).values() for r in refs]
    refs += inputs.get("model", []) + inputs.get("isometric_model", []) + inputs.get("cache", [])
    return {r.rsplit(".", 1)[0] for r in refs if not r.startswith("pipeline.")}


@pytest.mark.parametrize("job", JOBS, ids=[job.id for job in JOBS])
def test_corpus_job_compiles_with_expected_order_and_parties(job: CorpusJob) -> None:
    plan, dsl, conf = compile_as_fate_test(job)
    components = dsl["components"]

    assert sorted(plan.order) == sorted(components)
    position = {name: i for i, name in enumerate(plan.order)}
    for name, body in components.items():
        for source in _sources(body):
            assert position[source] < position[name], f"{source} must run before {name}"
            assert plan.component(source).stage < plan.component(name).stage
        assert plan.component(name).module == lookup(body["module"]).name  # type: ignore[union-attr]
    by_stage = sorted(plan.order, key=lambda n: plan.component(n).stage)
    assert [n for stage in plan.stages for n in stage] == by_stage

    expected_roles = {role: tuple(int(p) for p in ids) for role, ids in conf["role"].items()}
    assert plan.roles == expected_roles
    assert (plan.initiator.role, plan.initiator.party_id) == (
        conf["initiator"]["role"],
        int(conf["initiator"]["party_id"]),
    )
    expected_parties = [(role, i, pid) for role, ids in expected_roles.items() for i, pid in enumerate(ids)]
    assert [(p.role, p.index, p.party_id) for p in plan.parties] == expected_parties
    for party in plan.parties:
        runs = [n for n in plan.order if party.role in lookup(components[n]["module"]).roles]  # type: ignore[union-attr]
        assert list(party.components) == runs
        assert set(party.component_parameters) == set(runs)

    predicts = job.deps or "predict" in str(conf.get("job_parameters"))
    assert plan.job_type == ("predict" if predicts else "train")
    if plan.job_type == "train":
        assert plan.model_version == "202011180000000000002"
        assert plan.model_id.endswith("#model")
        for role, ids in expected_roles.items():
            assert f"{role}-{'_'.join(str(p) for p in sorted(set(ids)))}" in plan.model_id


def test_hetero_lr_normal_plan_in_detail() -> None:
    plan, _, _ = compile_as_fate_test(BY_ID["hetero_logistic_regression/hetero_lr_normal"])
    assert plan.order == ("reader_0", "data_transform_0", "intersection_0", "hetero_lr_0", "evaluation_0")
    assert plan.stages == tuple((n,) for n in plan.order)
    assert plan.model_id == "arbiter-10000#guest-9999#host-10000#model"
    guest = plan.party("guest", 9999)
    assert guest.component_parameters["reader_0"]["table"] == {
        "name": "breast_hetero_guest",
        "namespace": "experiment",
    }
    assert guest.component_parameters["data_transform_0"] == {"output_format": "dense", "with_label": True}
    assert plan.party("host", 10000).component_parameters["data_transform_0"]["with_label"] is False
    assert guest.component_parameters["hetero_lr_0"]["encrypt_param"] == {"key_length": 1024}
    assert plan.party("arbiter", 10000).components == ("hetero_lr_0", "evaluation_0")
    assert plan.component("hetero_lr_0").mode == "fit"
    assert [r.apply_cores for r in (p.resources for p in plan.parties)] == [0, 4, 4]


def test_multi_host_job_resolves_each_host() -> None:
    # The conf gives both hosts one "0|1" section.
    plan, _, _ = compile_as_fate_test(BY_ID["hetero_logistic_regression/hetero_lr_multi_host"])
    hosts = [p for p in plan.parties if p.role == "host"]
    assert [h.party_id for h in hosts] == [10000, 9999]
    for host in hosts:
        assert host.component_parameters["reader_0"]["table"]["name"] == "breast_hetero_host"
        assert host.component_parameters["data_transform_0"]["with_label"] is False
    assert plan.model_id == "arbiter-10000#guest-9999#host-9999_10000#model"


def test_validation_branch_runs_in_parallel_stage() -> None:
    plan, _, _ = compile_as_fate_test(BY_ID["hetero_logistic_regression/hetero_lr_validate"])
    assert any(len(stage) > 1 for stage in plan.stages)
    assert plan.component("hetero_lr_0").mode == "fit"
    slots = {ref.slot for ref in plan.component("hetero_lr_0").inputs}
    assert {"train_data", "validate_data"} <= slots


def test_predict_task_uses_the_trained_model() -> None:
    job = BY_ID["hetero_logistic_regression/hetero_lr_normal_predict"]
    plan, _, _ = compile_as_fate_test(job)
    assert plan.job_type == "predict"
    assert plan.model_id == "arbiter-10000#guest-9999#host-10000#model"
    assert plan.model_version == "202011180000000000001"
    lr = plan.component("hetero_lr_0")
    assert lr.mode == "predict"
    assert [ref.reference for ref in lr.inputs if ref.kind == "model"] == ["pipeline.hetero_lr_0.model"]


@pytest.mark.parametrize("job", JOBS, ids=[job.id for job in JOBS])
def test_dsl_validate_cli_accepts_corpus_file_unchanged(job: CorpusJob) -> None:
    result = CliRunner().invoke(main, ["dsl", "validate", "-d", str(job.dsl_path), "-c", str(job.conf_path)])
    assert result.exit_code == 0, result.output
    assert result.output.rstrip().endswith("valid")
