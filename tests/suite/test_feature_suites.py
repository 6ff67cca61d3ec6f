"""FATE's feature-engineering and data-module testsuites, unchanged, through ``accord suite``.

Each runs against a real site (Temporal dev server, gRPC federation on loopback, SQLite, uvicorn) as a
user runs it: every task ends in success, or "not supported" when it needs a module not installed yet
(10123: a module not implemented yet, such as HeteroNN) or an option refused at submit
(10127) — never failed. The least number of successes per suite is pinned, so a regression that turns a
success into "not supported" fails too.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.corpus import DSL_V2, FATE_ROOT
from tests.scheduling.harness import RunningSite
from tests.suite.test_suite_cli import by_task, http_server, run_suite

pytestmark = pytest.mark.asyncio(loop_scope="session")

# suite folder, testsuite file, successes at least. homo_onehot's text tasks (DataTransform data_type
# str, then HomoOneHotEncoder) run too: all 3 of its tasks succeed.
SUITES = [
    ("data_statistics", "data_statistics_testsuite.json", 4),
    ("feature_imputation", "feature_imputation_testsuite.json", 3),
    ("column_expand", "column_expand_testsuite.json", 2),
    ("union", "union_testsuite.json", 4),
    ("data_split", "data_split_testsuite.json", 2),
    ("psi", "psi_testsuite.json", 1),
    ("scorecard", "scorecard_testsuite.json", 1),
    ("feature_scale", "feature_scale_testsuite.json", 2),
    ("hetero_pearson", "hetero_pearson_testsuite.json", 4),
    ("homo-feature-binning", "homo_feature_binning_testsuite.json", 6),
    ("homo_onehot", "homo_onehot_testsuite.json", 3),
    ("hetero_feature_binning", "hetero_feature_binning_testsuite.json", 25),
    # hetero_feature_selection_multi_iso and _fast_sbt select on SecureBoost feature importance.
    ("hetero_feature_selection", "hetero_feature_selection_testsuite.json", 21),
]
# Two suites run in part here, to keep CI's budget: a task per distinct path (the others add ~4 minutes
# under CI's load; the options they set are tested beside plain references in tests/components/).
# `python bench/corpus.py` runs them whole; all 4 and all 5 tasks succeed.
PARTS = [
    ("label_transform", "label_transform_testsuite.json", ("label-transform", "label-transform-encoder"), 2),
    (
        "sample_weight",
        "sample_weight_testsuite.json",
        ("sample-weight-balanced", "sample-weight-multi-host"),
        2,
    ),
]


@pytest.mark.parametrize(("folder", "name", "successes"), SUITES, ids=[s[0] for s in SUITES])
async def test_the_feature_testsuite_runs(
    site: RunningSite, tmp_path: Path, folder: str, name: str, successes: int
) -> None:
    await check_suite(site, tmp_path, folder, name, successes)


@pytest.mark.parametrize(("folder", "name", "only", "successes"), PARTS, ids=[s[0] for s in PARTS])
async def test_part_of_the_feature_testsuite_runs(
    site: RunningSite, tmp_path: Path, folder: str, name: str, only: tuple[str, ...], successes: int
) -> None:
    await check_suite(site, tmp_path, folder, name, successes, only)


async def check_suite(
    site: RunningSite, tmp_path: Path, folder: str, name: str, successes: int, only: tuple[str, ...] = ()
) -> None:
    """``accord suite`` runs the testsuite (``only`` these tasks and their deps, when given): every task
    a success or "not supported", at least ``successes`` successes."""
    suite = DSL_V2 / folder / name
    picked = [option for task in only for option in ("--task", task)]
    async with http_server(site) as server:
        run, body = await run_suite(
            server, tmp_path, "-i", str(suite), "--data-base-dir", str(FATE_ROOT), "--parallel", "2", *picked
        )
    tasks = by_task(body)
    statuses = {task: row["status"] for task, row in tasks.items()}
    assert run.returncode == 0 and body["retcode"] == 0, (run.stdout + run.stderr)[-4000:]
    assert set(statuses.values()) <= {"success", "not supported"}, tasks
    shown = {task: f"{row['status']}: {str(row.get('message') or '')[:300]}" for task, row in tasks.items()}
    assert sum(status == "success" for status in statuses.values()) >= successes, shown
