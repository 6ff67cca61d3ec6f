"""FATE's model testsuites (SecureBoost, linear models, k-means, the local baseline) through ``accord suite``.

As the feature testsuites (test_feature_suites.py): each runs against a real site as a user runs it;
every task ends in success or "not supported" (an option refused at submit with 10127), never failed,
and the least number of successes per suite is pinned.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.scheduling.harness import RunningSite
from tests.suite.test_feature_suites import check_suite

pytestmark = pytest.mark.asyncio(loop_scope="session")

# suite folder, testsuite file, successes at least.
SUITES = [
    ("hetero_secureboost", "hetero_secureboost_testsuite.json", 14),
    ("homo_secureboost", "homo_secureboost_testsuite.json", 11),
    ("hetero_kmeans", "hetero_kmeans_testsuite.json", 4),
    ("homo_logistic_regression", "homo_logistic_regression_testsuite.json", 7),
    ("positive_unlabeled", "positive_unlabeled_testsuite.json", 3),
    ("homo_nn", "homo_nn_testsuite.json", 4),
]
# Suites too slow for CI's budget whole run in part (`python bench/corpus.py` runs them whole): a
# training task per path the component tests do not already take, and a predict job; cross
# validation, validation per iteration, sqn, warm start, sample weights, sparse input and L1 are tested
# beside plain references in tests/components/. The SSHE suites' 27 tasks take about an hour of CPU
# here (cross validation and one-vs-rest over secret-shared Paillier products): CI runs one task of
# each reveal strategy and a predict job. The Poisson stepwise search takes about five minutes here:
# CI runs the LR and LinR searches.
PARTS = [
    (
        "hetero_linear_regression",
        "hetero_linr_testsuite.json",
        ("linr-predict", "linr-multi-host-train", "linr_sparse"),
        4,
    ),
    ("hetero_poisson_regression", "hetero_poisson_testsuite.json", ("poisson-predict",), 2),
    ("local_baseline", "local_baseline_testsuite.json", ("local_baseline-predict",), 2),
    ("hetero_stepwise", "hetero_stepwise_testsuite.json", ("lr-stepwise", "linr-stepwise"), 2),
    (
        "hetero_sshe_lr",
        "hetero_sshe_lr_testsuite.json",
        ("hetero_lr_normal_predict", "hetero_lr_encrypted_reveal_in_host"),
        3,
    ),
    # HeteroNN's 9 tasks take over ten minutes here (Paillier on every batch's activations, up to 100
    # epochs): CI runs mini-batches with selective back-propagation and a full batch with dropout.
    (
        "hetero_nn",
        "hetero_nn_testsuite.json",
        ("hetero_nn_train_binary_selective_bp", "hetero_nn_train_binary_drop_out"),
        2,
    ),
    (
        "hetero_sshe_linr",
        "hetero_sshe_linr_testsuite.json",
        ("hetero_linr_encrypted_reveal_in_host",),
        1,
    ),
]


@pytest.mark.parametrize(("folder", "name", "successes"), SUITES, ids=[s[0] for s in SUITES])
async def test_the_model_testsuite_runs(
    site: RunningSite, tmp_path: Path, folder: str, name: str, successes: int
) -> None:
    await check_suite(site, tmp_path, folder, name, successes)


@pytest.mark.parametrize(("folder", "name", "only", "successes"), PARTS, ids=[s[0] for s in PARTS])
async def test_part_of_the_testsuite_runs(
    site: RunningSite, tmp_path: Path, folder: str, name: str, only: tuple[str, ...], successes: int
) -> None:
    await check_suite(site, tmp_path, folder, name, successes, only)
