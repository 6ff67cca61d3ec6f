"""Multi-class and regression metrics against scikit-learn, ``evaluate``'s dispatch, and bad input."""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
import pytest
from sklearn.linear_model import LinearRegression
from sklearn.metrics import (
    accuracy_score,
    explained_variance_score,
    mean_absolute_error,
    mean_squared_error,
    median_absolute_error,
    precision_score,
    r2_score,
    recall_score,
    roc_auc_score,
    roc_curve,
)

from accord.components.evaluation.metrics import (
    EvaluateParam,
    binary_metrics,
    evaluate,
    multiclass_metrics,
    one_vs_rest_metrics,
    psi,
    regression_metrics,
)
from accord.errors import AccordError, ComponentParameterError, DataFormatError, DataMismatchError
from tests.corpus import FATE_ROOT

TOLERANCE = 1e-6
Vector = npt.NDArray[Any]


def _motor() -> tuple[Vector, Vector]:
    """The motor example's ``motor_speed`` and a linear regression's predictions of it."""
    path = FATE_ROOT / "examples" / "data" / "motor_hetero_guest.csv"
    header = path.read_text().splitlines()[0].split(",")
    rows = np.loadtxt(path, delimiter=",", skiprows=1)
    target = header.index("motor_speed")
    features = rows[:, [i for i in range(1, len(header)) if i != target]]
    return rows[:, target], LinearRegression().fit(features, rows[:, target]).predict(features)


def _multi(seed: int, size: int) -> tuple[Vector, Vector]:
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 5, size)
    labels[labels == 3] = 4  # class 3 is never true and never predicted: drawn as 0
    predicted = np.where(rng.random(size) < 0.6, labels, rng.integers(0, 3, size))
    predicted[:3] = 6  # class 6 is predicted but never true
    return labels, predicted


# ---- multi-class ------------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", [1, 2])
def test_multiclass_against_scikit_learn(seed: int) -> None:
    labels, predicted = _multi(seed, 900)
    results = multiclass_metrics(labels, predicted)
    assert list(results) == ["accuracy", "precision", "recall"]
    assert results["accuracy"].value == pytest.approx(accuracy_score(labels, predicted), abs=TOLERANCE)
    classes = sorted(set(labels.tolist()) | set(predicted.tolist()))
    for name, score in (("precision", precision_score), ("recall", recall_score)):
        per_class = score(labels, predicted, average=None, labels=classes, zero_division=0.0)
        result = results[name]
        assert result.value == pytest.approx(float(np.mean(per_class)), abs=TOLERANCE)
        drawn = dict(zip(classes, per_class.tolist(), strict=True))
        expected = [(c, drawn.get(c, 0.0)) for c in range(max(classes) + 1)]
        np.testing.assert_allclose(result.points, expected, atol=TOLERANCE, rtol=0)
        assert result.meta["classes"] == classes


def test_one_vs_rest_auc_and_ks_per_class() -> None:
    rng = np.random.default_rng(4)
    labels = rng.integers(0, 3, 400)
    scores = {c: np.round(rng.random(400) * 0.7 + (labels == c) * 0.3, 2) for c in range(3)}
    scores[9] = rng.random(400)  # a class no sample has: FATE scores it 0
    results = one_vs_rest_metrics(labels, {str(c): s for c, s in scores.items()})
    for c in range(3):
        fpr, tpr, _ = roc_curve(labels == c, scores[c])
        assert results[str(c)]["auc"].value == pytest.approx(
            roc_auc_score(labels == c, scores[c]), abs=TOLERANCE
        )
        ks = results[str(c)]["ks"].value
        assert ks is not None and 0.0 < ks <= float(np.max(tpr - fpr)) + TOLERANCE
    assert (results["9"]["auc"].value, results["9"]["ks"].value) == (0.0, 0.0)


# ---- regression -------------------------------------------------------------------------------------

_SKLEARN_REGRESSION = {
    "explained_variance": explained_variance_score,
    "mean_absolute_error": mean_absolute_error,
    "mean_squared_error": mean_squared_error,
    "median_absolute_error": median_absolute_error,
    "r2_score": r2_score,
    "root_mean_squared_error": lambda y, p: float(np.sqrt(mean_squared_error(y, p))),
}


def _random_regression() -> tuple[Vector, Vector]:
    rng = np.random.default_rng(9)
    labels = rng.normal(3, 2, 5000)
    return labels, labels + rng.standard_t(3, 5000)


def _constant_labels() -> tuple[Vector, Vector]:
    return np.full(10, 2.5), np.linspace(2, 3, 10)


@pytest.mark.parametrize("data", [_motor, _random_regression, _constant_labels])
def test_regression_against_scikit_learn(data: Any) -> None:
    labels, predictions = data()
    results = regression_metrics(labels, predictions)
    assert list(results) == list(_SKLEARN_REGRESSION)
    for name, reference in _SKLEARN_REGRESSION.items():
        assert results[name].value == pytest.approx(reference(labels, predictions), abs=TOLERANCE), name
        assert results[name].metric_type == "EVALUATION_SUMMARY"


def test_regression_perfect_constant_prediction() -> None:
    labels = np.full(5, 1.0)
    for name in ("explained_variance", "r2_score"):
        assert regression_metrics(labels, labels, metrics=[name])[name].value == pytest.approx(
            _SKLEARN_REGRESSION[name](labels, labels)
        )


# ---- evaluate -----------------------------------------------------------------------------------------


def test_evaluate_dispatches_on_eval_type() -> None:
    rng = np.random.default_rng(2)
    labels = rng.integers(0, 2, 600)
    scores = rng.random(600) * 0.7 + labels * 0.3
    train_labels, train_scores = labels[:300], scores[:300]
    binary = evaluate(EvaluateParam(), labels, scores, psi_reference=(train_labels, train_scores))
    assert list(binary) == list(EvaluateParam().metrics)
    assert binary["auc"] == binary_metrics(labels, scores, metrics=["auc"])["auc"]
    assert binary["psi"] == psi(train_labels, train_scores, labels, scores)
    assert "psi" not in evaluate(EvaluateParam(metrics=["psi", "auc"]), labels, scores)
    assert evaluate(EvaluateParam(metrics=["psi"]), labels, scores) == {}

    multi_labels, predicted = _multi(3, 300)
    multi = evaluate(EvaluateParam(eval_type="multi", metrics=["acc"]), multi_labels, predicted)
    assert multi["accuracy"].value == pytest.approx(accuracy_score(multi_labels, predicted))

    truth, guess = _motor()
    regression = evaluate(EvaluateParam(eval_type="regression"), truth, guess)
    assert regression["r2_score"].value == pytest.approx(r2_score(truth, guess), abs=TOLERANCE)

    assert evaluate(EvaluateParam(need_run=False), labels, scores) == {}
    with pytest.raises(ComponentParameterError, match="eval_type 'clustering'"):
        evaluate(EvaluateParam(eval_type="clustering"), labels, scores)


# ---- bad input ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("call", "error", "words"),
    [
        (lambda: binary_metrics([], []), DataFormatError, "labels is empty"),
        (lambda: binary_metrics([0, 1, 1], [0.2, 0.4]), DataMismatchError, "differ in length: 3 and 2"),
        (lambda: binary_metrics([0, 1, 1], [0.2, np.nan, 0.3]), DataFormatError, "position 1, is NaN"),
        (lambda: binary_metrics([0, 1, 1], [0.2, np.inf, 0.3]), DataFormatError, "infinite"),
        (lambda: binary_metrics([0, 1], ["a", "b"]), DataFormatError, "scores must be numbers"),
        (lambda: binary_metrics([0, 1, 2], [0.1, 0.5, 0.9]), DataFormatError, "two label values, got 3"),
        (lambda: binary_metrics([2, 3, 3], [0.1, 0.5, 0.9]), DataMismatchError, "pos_label=1 is neither"),
        (lambda: binary_metrics([1, 1], [0.1, 0.5]), DataFormatError, "auc, ks.*none is negative"),
        (
            lambda: binary_metrics([0, 0], [0.1, 0.5], metrics=["lift"]),
            DataFormatError,
            "lift.*none is positive",
        ),
        (
            lambda: binary_metrics([0, 1], [0.1, 0.5], metrics=["psi"]),
            ComponentParameterError,
            "two data sets",
        ),
        (lambda: binary_metrics([0, 1], [0.1, 0.5], metrics=["rmse"]), ComponentParameterError, "binary"),
        (lambda: multiclass_metrics([0, 1.5], [0, 1]), DataFormatError, "position 1 holds 1.5"),
        (lambda: multiclass_metrics(["a", "b"], [0, 1]), DataFormatError, "class indices"),
        (lambda: regression_metrics([1.0], [2.0], metrics=["r2"]), DataFormatError, "at least two samples"),
        (lambda: regression_metrics([[1.0, 2.0]], [[2.0, 1.0]]), DataFormatError, "1-D array"),
    ],
)
def test_bad_input_is_explained(call: Any, error: type[AccordError], words: str) -> None:
    with pytest.raises(error, match=words) as raised:
        call()
    assert raised.value.hint


def test_single_class_still_allows_metrics_that_need_no_comparison() -> None:
    labels = np.zeros(50, dtype=int)
    scores = np.linspace(0, 1, 50)
    results = binary_metrics(labels, scores, metrics=["gain", "accuracy", "confusion_mat"])
    assert results["accuracy"].column("accuracy") == [
        accuracy_score(labels, scores > t) for t in results["accuracy"].column("threshold")
    ]
