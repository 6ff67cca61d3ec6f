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

# suite folder, testsuite file, successes at least. Not supported: HeteroSecureBoost's EINI_inference;
# the linear models' warm start (ModelCheckpoint) and sqn optimizer.
SUITES = [
    ("hetero_secureboost", "hetero_secureboost_testsuite.json", 13),
    ("homo_secureboost", "homo_secureboost_testsuite.json", 11),
    ("hetero_kmeans", "hetero_kmeans_testsuite.json", 4),
    ("local_baseline", "local_baseline_testsuite.json", 5),
    ("hetero_linear_regression", "hetero_linr_testsuite.json", 10),
    ("hetero_poisson_regression", "hetero_poisson_testsuite.json", 5),
    ("homo_logistic_regression", "homo_logistic_regression_testsuite.json", 6),
]


@pytest.mark.parametrize(("folder", "name", "successes"), SUITES, ids=[s[0] for s in SUITES])
async def test_the_model_testsuite_runs(
    site: RunningSite, tmp_path: Path, folder: str, name: str, successes: int
) -> None:
    await check_suite(site, tmp_path, folder, name, successes)
