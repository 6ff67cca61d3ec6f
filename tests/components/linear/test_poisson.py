"""HeteroPoisson against scikit-learn's PoissonRegressor on the joined dvisits data (standardized).

The guest's data gets an exposure column (FATE's ``exposure_colname``): it is no feature but the offset
log(exposure). scikit-learn has no offset; the same model is the rate y/e fitted with sample weights e,
whose objective is normalized by Σe where ours is by n, so its alpha is ours·n/Σe. Tolerances (the
issue's): coefficients within 1e-3 relative when run to convergence (50 iterations of full-batch sgd
at rate 0.5 with alpha 1, FATE's default), the Poisson deviance of the predictions within 1 %. A few
iterations on each engine equal plain gradient descent. The first loss, at zero weights, is FATE's
(Σμ - Σy·log e)/n with μ = e.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sklearn.linear_model import PoissonRegressor
from sklearn.metrics import mean_poisson_deviance

from accord.components.linear.scoring import RegressionScorer
from accord.computing.table import Engine
from accord.errors import ComponentFeatureUnsupported

from ..harness import ComponentHarness
from ..test_hetero_lr import partitioned
from .regression_data import (
    GUEST,
    coefficients,
    gradient_descent,
    instances,
    joined,
    losses,
    standardized,
    train,
)

__all__ = ["partitioned"]  # a fixture the tests here use

ALPHA = 1.0
PARAMS: dict[str, Any] = {
    "penalty": "L2",
    "alpha": ALPHA,
    "optimizer": "sgd",
    "learning_rate": 0.5,
    "max_iter": 50,
    "tol": 1e-12,
    "early_stop": "diff",
    "decay": 0.0,
    "decay_sqrt": False,
    "init_param": {"init_method": "zeros"},
    "encrypt_param": {"key_length": 512},
    "exposure_colname": "exposure",
}


def dvisits() -> tuple[Any, Any, np.ndarray, np.ndarray]:
    guest, host = joined("dvisits", "doctorco")
    labels = guest.pop("doctorco").to_numpy(dtype=np.float64)
    guest = standardized(guest)
    exposure = np.random.default_rng(5).uniform(0.5, 2.0, size=len(labels))
    # The exposure sits between features, as a column of the guest's table would.
    guest.insert(1, "exposure", exposure)
    return guest, standardized(host), labels, exposure


@pytest.mark.usefixtures("partitioned")
def test_a_few_iterations_on_each_engine_are_plain_gradient_descent(
    tmp_path: Path, harnesses: list[ComponentHarness], engine: Engine
) -> None:
    guest, host, y, exposure = dvisits()
    rows = slice(0, 1200)
    guest, host, y, exposure = guest.iloc[rows], host.iloc[rows], y[rows], exposure[rows]
    params = {**PARAMS, "max_iter": 4}
    harness = train(
        tmp_path, harnesses, "HeteroPoisson", params, instances(guest, y), [instances(host)], engine, 500
    )
    features = np.hstack([guest.drop(columns="exposure").to_numpy(), host.to_numpy()])
    weights, history = gradient_descent(
        features, y, link="poisson", rate=0.5, iterations=4, alpha=ALPHA, offset=np.log(exposure)
    )
    coef, intercept = coefficients(harness)
    # Equal up to the 23 bits Paillier keeps of each feature column (floating_point_precision).
    np.testing.assert_allclose(np.append(coef, intercept), weights, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(losses(harness), history, rtol=1e-5)


def test_poisson_converges_to_sklearn(tmp_path: Path, harnesses: list[ComponentHarness]) -> None:
    guest, host, y, exposure = dvisits()
    harness = train(tmp_path, harnesses, "HeteroPoisson", PARAMS, instances(guest, y), [instances(host)])
    features = np.hstack([guest.drop(columns="exposure").to_numpy(), host.to_numpy()])
    reference = PoissonRegressor(alpha=ALPHA * len(y) / exposure.sum(), tol=1e-12, max_iter=1000)
    reference.fit(features, y / exposure, sample_weight=exposure)
    coef, intercept = coefficients(harness)
    np.testing.assert_allclose(coef, reference.coef_, rtol=1e-3)
    assert intercept == pytest.approx(reference.intercept_, rel=1e-3)
    model = harness.model("guest", GUEST, "model_0")
    assert "exposure" not in model["param"]["weight"] and model["meta"]["exposure_colname"] == "exposure"
    output = harness.output("guest", GUEST, "model_0")
    predicted = output.column("predict_score")
    expected = reference.predict(features) * exposure
    np.testing.assert_allclose(predicted, expected, rtol=1e-3)
    assert mean_poisson_deviance(y, predicted) == pytest.approx(mean_poisson_deviance(y, expected), rel=0.01)
    history = losses(harness)
    first = float(np.mean(exposure - y * np.log(exposure)))
    assert history[0] == pytest.approx(first, rel=1e-6), "FATE's Poisson loss at zero weights"
    assert history[-1] < history[0]
    # Online: the sum of the partials, exp() of it per unit of exposure.
    scorer = RegressionScorer.of(
        model, component="model_0", module="HeteroPoisson", link="poisson", with_intercept=True
    )
    scores, _ = scorer.outcome(np.array([0.0, 1.0]))
    np.testing.assert_allclose(scores, [1.0, np.e])


def test_several_hosts_are_refused(tmp_path: Path, harnesses: list[ComponentHarness]) -> None:
    guest, host, y, _ = dvisits()
    small = slice(0, 50)
    harness_failures: dict[Any, BaseException | None]
    from .regression_data import dsl, job_conf

    harness = ComponentHarness(tmp_path, dsl("HeteroPoisson"), job_conf(PARAMS, [10000, 10001]))
    harnesses.append(harness)
    from ..test_hetero_lr import plant

    plant(harness, "guest", GUEST, instances(guest.iloc[small], y[small]), None)
    plant(harness, "host", 10000, instances(host.iloc[small, :5]), None)
    plant(harness, "host", 10001, instances(host.iloc[small, 5:]), None)
    harness_failures = harness.run("model_0")
    errors = [error for error in harness_failures.values() if error is not None]
    assert errors and all(isinstance(error, ComponentFeatureUnsupported) for error in errors)
    assert "one host" in str(errors[0])
