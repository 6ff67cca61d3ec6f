"""Automatic reuse, end to end: FATE's breast hetero-LR job twice, the second with a changed Evaluation.

Real Temporal, gRPC, SQLite and Paillier. The second job reuses reader, data transform, intersection and
HeteroLR on both parties (agreed by both before reuse), runs only Evaluation, and its results equal a
run of the same job with reuse turned off.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from accord.dsl_compiler import read_json_file
from accord.status import JobStatus, TaskStatus
from tests.pipeline.test_hetero_lr_examples import (
    LR_EXAMPLES,
    evaluation_summary,
    guest_output,
    upload_breast,
)
from tests.scheduling.harness import RunningSite

pytestmark = pytest.mark.asyncio(loop_scope="session")

UPSTREAM = ("reader_0", "data_transform_0", "intersection_0", "hetero_lr_0")


def breast(evaluation: dict[str, Any] | None = None, **common: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    dsl = read_json_file(LR_EXAMPLES / "hetero_lr_normal_dsl.json", "dsl")
    conf = copy.deepcopy(read_json_file(LR_EXAMPLES / "hetero_lr_normal_conf.json", "conf"))
    conf["component_parameters"]["common"]["hetero_lr_0"]["max_iter"] = 5
    if evaluation is not None:
        conf["component_parameters"]["common"]["evaluation_0"] = evaluation
    conf.setdefault("job_parameters", {}).setdefault("common", {}).update(common)
    return dsl, conf


async def run(site: RunningSite, dsl: dict[str, Any], conf: dict[str, Any]) -> str:
    job_id = await site.submit(dsl, conf)
    result = await site.site.jobs.wait(job_id)
    assert result.status == JobStatus.SUCCESS, result.reason
    return job_id


def reused(site: RunningSite, job_id: str) -> dict[tuple[str, str], str | None]:
    return {
        (t.key.component_name, t.key.role): t.reused_from
        for t in site.tasks.list_tasks(job_id)
        if t.status == TaskStatus.SUCCESS
    }


async def test_a_changed_evaluation_reuses_everything_upstream_on_both_parties(site: RunningSite) -> None:
    upload_breast(site)
    first = await run(site, *breast())
    assert not any(reused(site, first).values()), "nothing to reuse in a fresh site"
    changed = {"eval_type": "binary", "metrics": ["auc", "ks"]}
    second = await run(site, *breast(changed))
    again = reused(site, second)
    for name in UPSTREAM:
        for role in ("guest", "host"):
            assert again[(name, role)] is not None and first in str(again[(name, role)]), (name, role)
    assert again[("evaluation_0", "guest")] is None, "the changed component ran"
    # `job query` says so per party.
    shown = await site.site.jobs.reused(second)
    assert set(shown[("guest", 9999)]) == set(shown[("host", 10000)]) == set(UPSTREAM)
    assert shown[("guest", 9999)]["hetero_lr_0"].startswith(f"job {first}, component hetero_lr_0")

    plain = await run(site, *breast(changed, reuse=False))
    assert not any(reused(site, plain).values()), "reuse: false runs everything"
    # The same results with and without reuse: the model's scores and the evaluation.
    ours, theirs = guest_output(site, second, "hetero_lr_0"), guest_output(site, plain, "hetero_lr_0")
    assert ours.column("predict_score") == pytest.approx(theirs.column("predict_score"), abs=1e-9)
    assert evaluation_summary(site, second) == evaluation_summary(site, plain)
    assert set(evaluation_summary(site, second)["hetero_lr_0"]["train"]) >= {"auc", "ks"}


async def test_an_identical_job_reuses_all_and_a_forced_rerun_nothing(site: RunningSite) -> None:
    upload_breast(site)
    first = await run(site, *breast())
    second = await run(site, *breast())
    assert all(first in str(source) for source in reused(site, second).values())
    await site.site.jobs.rerun(second, force=True)
    assert (await site.site.jobs.wait(second)).status == JobStatus.SUCCESS
    rerun = [t for t in site.tasks.list_tasks(second) if t.key.task_version == 1]
    assert len(rerun) == len(reused(site, first)), "every component ran again"
    assert not any(t.reused_from for t in rerun), "a forced rerun runs for real"
