"""FATE's benchmark-quality cases of the linear models, against a real site, within FATE's tolerances.

Each case's local entry is scikit-learn in this process (FATE's local script's model and settings, on
the same rows); each FATE entry is an Accord job built from the entry's YAML, run on a whole site
(Temporal, gRPC federation on loopback, SQLite, uvicorn) through the HTTP API; the metrics every entry
reports are matched as FATE-Test matches them (each within ``compare_setting.relative_tol`` of the
local value). CI runs the cheap cases; ``bench/quality.py`` runs every case: default-credit and
epsilon, and vehicle's one-vs-rest (hetero with mini-batches of 16 and 20 rows; homo, see below).
"""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path

import pytest

from accord.cli.http import CONF_ENV, TOKEN_ENV
from accord.cli.suite import CheckedApi
from accord.cli.transfer import TransferApi
from accord.security.local_token import ensure_local_token
from accord.suite.benchmark import BenchmarkSuite, compare, load_benchmark
from accord.suite.quality import (
    CaseResult,
    CaseStatus,
    QualityRunner,
    evaluation_metrics,
    evaluation_summary,
)
from accord.suite.quality_jobs import is_pipeline_script
from accord.suite.quality_reference import is_local_script
from accord.suite.runner import Outcome, SiteApi
from tests.corpus import FATE_ROOT
from tests.scheduling.harness import RunningSite
from tests.suite.test_suite_cli import http_server

QUALITY = FATE_ROOT / "examples" / "benchmark_quality"
HETERO_LR = QUALITY / "hetero_lr" / "hetero_lr_sklearn_benchmark.json"
HOMO_LR = QUALITY / "homo_lr" / "homo_lr_sklearn_benchmark.json"
LINR = QUALITY / "hetero_linear_regression" / "hetero_linr_benchmark.json"

# benchmark, case, the metrics FATE-Test compares there (those the local script and FATE's Evaluation
# summary both report).
CI_CASES = [
    (HETERO_LR, "hetero_lr-binary-0", {"auc"}),
    (
        LINR,
        "hetero_linear_regression-regression",
        {"r2_score", "mean_squared_error", "root_mean_squared_error", "explained_variance"},
    ),
    (HOMO_LR, "homo_lr-binary-0", {"auc"}),
]
# Not here: homo_lr-multi-0 (vehicle, one-vs-rest) starts from FATE's unseeded random_uniform weights,
# and 30 rmsprop epochs from there land between 0.639 and 0.683 guest accuracy over 20 seeds of a
# plain numpy FedAvg of the same steps, against scikit-learn's 0.690 and a 5 % tolerance (0.656): it
# fails for about one start in six, as FATE's own would; bench/quality.py reports it.


def run_case(server: str, suite: BenchmarkSuite, case: str) -> CaseResult:
    with contextlib.ExitStack() as stack:
        api = CheckedApi(stack.enter_context(TransferApi(server, timeout_s=300)))
        runner = QualityRunner(lambda role: api, FATE_ROOT, timeout_s=900)
        return runner.run_case(suite, next(c for c in suite.cases if c.name == case))


@pytest.mark.asyncio(loop_scope="session")
@pytest.mark.parametrize(("benchmark", "case", "metrics"), CI_CASES, ids=[c[1] for c in CI_CASES])
async def test_the_case_is_within_fate_tolerance(
    site: RunningSite,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    benchmark: Path,
    case: str,
    metrics: set[str],
) -> None:
    monkeypatch.setenv(TOKEN_ENV, ensure_local_token(site.settings.home))
    monkeypatch.setenv(CONF_ENV, str(tmp_path / "cli.json"))
    suite = load_benchmark(benchmark)
    async with http_server(site) as server:
        # The runner's HTTP calls block: in a thread, while this loop serves the site.
        result = await asyncio.to_thread(run_case, server, suite, case)
    shown = result.to_dict()
    assert [entry.outcome for entry in result.entries] == [Outcome.SUCCESS] * len(result.entries), shown
    assert len(result.entries) == len(next(c for c in suite.cases if c.name == case).entries)
    assert {match.metric for match in result.comparison.metrics} == metrics, shown
    assert result.status == CaseStatus.PASS, shown


def test_every_script_of_the_linear_benchmarks_is_known() -> None:
    for path in (HETERO_LR, HOMO_LR, LINR):
        suite = load_benchmark(path)
        for case in suite.cases:
            assert case.relative_tol is not None
            locals_ = [e for e in case.entries if is_local_script(suite.folder, e.script)]
            pipelines = [e for e in case.entries if is_pipeline_script(suite.folder, e.script)]
            # The local reference first, as FATE-Test compares every entry to the first.
            assert locals_ == [case.entries[0]] and len(pipelines) == len(case.entries) - 1, case


def test_a_case_without_its_data_files_is_reported_and_not_run() -> None:
    def no_site(role: str) -> SiteApi:
        raise AssertionError("a case without data must not reach the site")

    runner = QualityRunner(no_site, FATE_ROOT)
    suite = load_benchmark(HETERO_LR)
    result = runner.run_case(suite, next(c for c in suite.cases if c.name == "hetero_lr-binary-3"))
    assert result.status == CaseStatus.NO_DATA
    assert result.message == "give_credit_hetero_guest.csv, give_credit_hetero_host.csv"


def test_metrics_are_matched_as_fate_test_matches_them() -> None:
    local = {"auc": 0.99, "accuracy": 0.95, "precision": 0.9}
    fate = {"auc": 0.981, "ks": 0.9, "script_metrics": 1.0}
    matched = compare({"local": local, "FATE": fate}, 0.01)
    # Only what both report; within 1 % of the larger magnitude (math.isclose).
    assert [(m.metric, m.matched) for m in matched.metrics] == [("auc", True)] and matched.matched
    assert not compare({"local": local, "FATE": {"auc": 0.97}}, 0.01).matched
    # Nothing shared, or a single entry: no match.
    assert not compare({"local": {"accuracy": 1.0}, "FATE": {"auc": 1.0}}, 0.01).matched
    assert not compare({"local": local}, 0.01).matched


def test_the_evaluation_summary_is_read_as_fate_tests_parser_reads_it() -> None:
    tracked = {
        "train": {
            "hetero_lr_0": {"data": [["auc", 0.9], ["ks", 0.8]], "metric_type": "EVALUATION_SUMMARY"},
            "hetero_lr_0_ks": {"data": [[0.1, 0.2]], "metric_type": "KS_EVALUATION"},
        }
    }
    assert evaluation_summary(tracked) == {"hetero_lr_0": {"train": {"auc": 0.9, "ks": 0.8}}}
    summary = {"hetero_lr_0": {"train": {"auc": 0.9, "ks": 0.8}, "validate": {"auc": 0.7}}}
    assert evaluation_metrics(summary) == {"auc": 0.7}
    assert evaluation_metrics({"homo_lr_0": {"train": {"accuracy": 0.6, "precision": 0.5}}}) == {
        "accuracy": 0.6,
        "precision": 0.5,
    }
