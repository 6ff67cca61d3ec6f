"""Evaluation metrics against scikit-learn and plain re-computations on the same data.

Data: random labels with heavily tied scores, the breast example scored by a logistic regression
fitted on its guest features, and the 30,000-row default-credit example scored the same way. FATE's
threshold sampling rules are restated here in plain Python; every count at a threshold comes from
scikit-learn.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import (
    accuracy_score,
    confusion_matrix,
    f1_score,
    precision_recall_curve,
    precision_score,
    recall_score,
    roc_auc_score,
    roc_curve,
)

from accord.components.evaluation.metrics import (
    MetricResult,
    binary_metrics,
    psi,
)
from tests.corpus import FATE_ROOT

DATA = FATE_ROOT / "examples" / "data"
TOLERANCE = 1e-6
Vector = npt.NDArray[Any]


def _table(name: str) -> tuple[list[str], npt.NDArray[np.float64]]:
    path = DATA / name
    header = path.read_text().splitlines()[0].split(",")
    return header, np.loadtxt(path, delimiter=",", skiprows=1)


def _scored(name: str) -> tuple[Vector, Vector]:
    """Column ``y`` and a logistic regression's probabilities fitted on the ``x`` columns."""
    header, rows = _table(name)
    labels = rows[:, header.index("y")].astype(int)
    features = rows[:, [i for i, column in enumerate(header) if column.startswith("x")]]
    model = LogisticRegression(max_iter=2000).fit(features, labels)
    return labels, model.predict_proba(features)[:, 1]


def _tied(seed: int, size: int) -> tuple[Vector, Vector]:
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 2, size)
    return labels, np.round(rng.random(size) * 0.6 + labels * 0.3, 2)


@pytest.fixture(scope="module", params=["tied", "few_tied", "breast", "default_credit"])
def case(request: pytest.FixtureRequest) -> tuple[Vector, Vector]:
    if request.param == "tied":
        return _tied(11, 2000)
    if request.param == "few_tied":
        return _tied(12, 60)
    return _scored(
        "breast_hetero_guest.csv" if request.param == "breast" else "default_credit_hetero_guest.csv"
    )


@pytest.fixture(scope="module")
def results(case: tuple[Vector, Vector]) -> dict[str, MetricResult]:
    return binary_metrics(*case)


# ---- plain restatements of FATE's threshold rules, counted by scikit-learn ----------------------


def _counts(labels: Vector, scores: Vector, threshold: float) -> tuple[int, int, int, int]:
    """(tp, fp, tn, fn) when a score strictly above ``threshold`` is predicted positive."""
    tn, fp, fn, tp = confusion_matrix(labels, (scores > threshold).astype(int), labels=[0, 1]).ravel()
    return int(tp), int(fp), int(tn), int(fn)


def _step(scores: Vector) -> list[float]:
    distinct = sorted(set(scores.tolist()), reverse=True)
    return [distinct[int(len(distinct) * cut)] for cut in np.arange(0, 1, 0.01)]


def _best_per_x(xs: Sequence[float], ys: Sequence[float]) -> list[int]:
    best: dict[float, int] = {}
    for i, (x, y) in enumerate(zip(xs, ys, strict=True)):
        if x not in best or ys[best[x]] < y:
            best[x] = i
    return list(best.values())


def _close(actual: Sequence[Sequence[float]] | Sequence[float], expected: Any) -> None:
    np.testing.assert_allclose(np.asarray(actual, float), np.asarray(expected, float), rtol=0, atol=TOLERANCE)


def _positive_rate(labels: Vector) -> float:
    return float(labels.sum() / labels.size)


# ---- binary ---------------------------------------------------------------------------------------


def test_auc_and_exact_ks_match_scikit_learn(
    case: tuple[Vector, Vector], results: dict[str, MetricResult]
) -> None:
    labels, scores = case
    fpr, tpr, _ = roc_curve(labels, scores)
    assert results["auc"].value == pytest.approx(roc_auc_score(labels, scores), abs=TOLERANCE)
    assert results["ks"].value == pytest.approx(float(np.max(tpr - fpr)), abs=TOLERANCE)


def test_ks_is_fate_index_cut_curve(case: tuple[Vector, Vector], results: dict[str, MetricResult]) -> None:
    labels, scores = case
    ordered = sorted(scores.tolist(), reverse=True)
    positives, negatives = int(labels.sum()), int((1 - labels).sum())
    rows = []
    for c in range(100):
        threshold = ordered[int(len(ordered) * (c / 100))]
        tp, fp, _, _ = _counts(labels, scores, threshold)
        rows.append((c / 100, tp / positives, fp / negatives, threshold))
    ks = results["ks"]
    _close([row[:3] for row in ks.points[:-1]], [row[:3] for row in rows])
    _close(ks.column("threshold")[:-1], [row[3] for row in rows])
    _close(ks.points[-1][:3], [1.0, 1.0, 1.0])
    sampled = float(ks.meta["sampled_ks"])  # type: ignore[arg-type]
    assert sampled == pytest.approx(max(row[1] - row[2] for row in rows), abs=TOLERANCE)
    assert ks.value is not None and sampled <= ks.value + TOLERANCE


def test_ks_equals_exact_ks_when_every_score_is_a_cut() -> None:
    labels, scores = _tied(5, 90)
    scores = scores + np.arange(90) * 1e-9  # distinct, and no more than 100 of them
    result = binary_metrics(labels, scores, metrics=["ks"])["ks"]
    fpr, tpr, _ = roc_curve(labels, scores)
    assert result.value == pytest.approx(float(np.max(tpr - fpr)), abs=TOLERANCE)


def test_roc_is_sampled_scikit_learn_curve(
    case: tuple[Vector, Vector], results: dict[str, MetricResult]
) -> None:
    labels, scores = case
    fpr, tpr, thresholds = roc_curve(labels, scores)
    thresholds[0] = thresholds[1] + 1  # FATE 1.11's scikit-learn labelled the first point max + 1
    picks = sorted({int(len(thresholds) * cut) for cut in np.arange(0, 1, 0.01)})
    expected = [(fpr[i], tpr[i], thresholds[i]) for i in picks] + [(1.0, 1.0, 1.0)]
    _close(results["roc"].points, expected)


@pytest.mark.parametrize("name", ["lift", "gain"])
def test_lift_and_gain_per_step_threshold(
    case: tuple[Vector, Vector], results: dict[str, MetricResult], name: str
) -> None:
    labels, scores = case
    rates, values, thresholds = [], [], _step(scores)
    for threshold in thresholds:
        tp, fp, _, fn = _counts(labels, scores, threshold)
        rates.append((tp + fp) / labels.size)
        if name == "lift":
            values.append((tp / (tp + fp) if tp + fp else 1.0) / _positive_rate(labels))
        else:
            values.append(tp / (tp + fn))
    kept = _best_per_x(rates, values)
    expected = sorted(
        [(rates[i], values[i], thresholds[i]) for i in kept] + [(1.0, 1.0, 0.0)], key=lambda row: row[0]
    )
    _close(results[name].points, expected)


def test_precision_recall_per_step_threshold(
    case: tuple[Vector, Vector], results: dict[str, MetricResult]
) -> None:
    labels, scores = case
    thresholds = _step(scores)
    thresholds.append(min(thresholds) - 0.001)
    cuts = [*np.arange(0, 1, 0.01).tolist(), 1.0]
    predictions = [(scores > t).astype(int) for t in thresholds]
    precisions = [precision_score(labels, p, zero_division=1.0) for p in predictions]
    recalls = [recall_score(labels, p) for p in predictions]
    kept = _best_per_x(recalls, precisions)
    _close(results["precision"].points, [(cuts[i], precisions[i], thresholds[i]) for i in kept])
    _close(results["recall"].points, [(cuts[i], recalls[i], thresholds[i]) for i in kept])


def test_precision_recall_points_lie_on_scikit_learn_pr_curve() -> None:
    # The same points read off precision_recall_curve, whose thresholds are ">=" a score: "> t" is
    # ">= the next score above t".
    labels, scores = _tied(3, 500)
    mine = binary_metrics(labels, scores, metrics=["precision"])
    curve_p, curve_r, curve_t = precision_recall_curve(labels, scores)
    for (_, precision, threshold), (_, recall, _) in zip(
        mine["precision"].points, mine["recall"].points, strict=True
    ):
        above = curve_t > threshold
        if not above.any():
            continue  # nothing predicted positive: FATE's imputed precision 1, recall 0
        i = int(np.argmax(above))
        assert (precision, recall) == pytest.approx((curve_p[i], curve_r[i]), abs=TOLERANCE)


def test_accuracy_per_step_threshold(case: tuple[Vector, Vector], results: dict[str, MetricResult]) -> None:
    labels, scores = case
    thresholds = _step(scores)
    expected = [
        (cut, accuracy_score(labels, scores > t), t)
        for cut, t in zip(np.arange(0, 1, 0.01).tolist(), thresholds, strict=True)
    ]
    _close(results["accuracy"].points, expected)


def test_confusion_and_f1_at_fixed_thresholds(
    case: tuple[Vector, Vector], results: dict[str, MetricResult]
) -> None:
    labels, scores = case
    fixed = [i * 0.01 for i in range(100)]
    _close(results["confusion_mat"].points, [(t, *_counts(labels, scores, t)) for t in fixed])
    f1 = [(t, f1_score(labels, scores > t, zero_division=0.0)) for t in fixed]
    _close(results["f1_score"].points, f1)


def test_quantile_pr_at_nearest_rank_quantiles(
    case: tuple[Vector, Vector], results: dict[str, MetricResult]
) -> None:
    labels, scores = case
    ordered = np.sort(scores)
    quantiles = [round(i * 0.05, 3) for i in range(20)] + [1.0]
    thresholds = [float(ordered[int(np.rint(q * (ordered.size - 1)))]) for q in quantiles]
    expected = [
        (t, precision_score(labels, scores > t, zero_division=1.0), recall_score(labels, scores > t))
        for t in thresholds
    ]
    _close(results["quantile_pr"].points, expected)


def test_results_are_json_and_round_like_fate(results: dict[str, MetricResult]) -> None:
    for result in results.values():
        json.dumps(result.to_dict(), allow_nan=False)
        rounded = result.rounded()
        _close(
            [v for row in rounded.points for v in row], [np.round(v, 6) for row in result.points for v in row]
        )
        if result.value is not None:
            assert rounded.value == np.round(result.value, 6)


def test_pos_label_picks_the_positive_class() -> None:
    labels, scores = _tied(8, 300)
    relabelled = np.where(labels == 1, 7, 3)
    auc = binary_metrics(relabelled, scores, pos_label=7, metrics=["auc"])["auc"].value
    assert auc == pytest.approx(roc_auc_score(labels, scores), abs=TOLERANCE)
    flipped = binary_metrics(relabelled, scores, pos_label=3, metrics=["auc"])["auc"].value
    assert flipped == pytest.approx(roc_auc_score(1 - labels, scores), abs=TOLERANCE)
    words = np.where(labels == 1, "yes", "no")
    assert binary_metrics(words, scores, pos_label="yes", metrics=["auc"])["auc"].value == auc


# ---- binary properties ------------------------------------------------------------------------------

_samples = st.lists(st.tuples(st.booleans(), st.integers(0, 40)), min_size=2, max_size=300).filter(
    lambda rows: len({label for label, _ in rows}) == 2
)


@settings(max_examples=60, deadline=None)
@given(_samples)
def test_binary_properties(rows: list[tuple[bool, int]]) -> None:
    labels = np.array([int(label) for label, _ in rows])
    scores = np.array([score / 40 for _, score in rows])
    results = binary_metrics(labels, scores)
    auc = results["auc"].value
    assert auc is not None and 0.0 <= auc <= 1.0
    assert auc == pytest.approx(roc_auc_score(labels, scores), abs=TOLERANCE)
    # Ties count half, so reversing the order of the scores mirrors the AUC even with ties.
    assert binary_metrics(labels, 1 - scores, metrics=["auc"])["auc"].value == pytest.approx(1 - auc)
    ks = results["ks"].value
    sampled = float(results["ks"].meta["sampled_ks"])  # type: ignore[arg-type]
    assert ks is not None and 0.0 <= sampled <= ks + 1e-12
    for metric, column in (("roc", "fpr"), ("roc", "tpr"), ("gain", "gain"), ("recall", "recall")):
        values = results[metric].column(column)
        assert all(0.0 <= v <= 1.0 for v in values) and values == sorted(values)
    for _, tp, fp, tn, fn in results["confusion_mat"].points:
        assert tp + fp + tn + fn == labels.size and tp + fn == labels.sum()


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(0, 10**6), min_size=2, max_size=200, unique=True), st.randoms())
def test_auc_of_complement_without_ties(points: list[int], random: Any) -> None:
    scores = np.array(points) / 10**6
    labels = np.array([random.randint(0, 1) for _ in points])
    labels[0], labels[1] = 0, 1
    auc = binary_metrics(labels, scores, metrics=["auc"])["auc"].value
    complement = binary_metrics(labels, 1 - scores, metrics=["auc"])["auc"].value
    assert auc is not None and complement is not None
    assert complement == pytest.approx(1 - auc, abs=1e-12)
    assert binary_metrics(labels, 3 * scores + 2, metrics=["auc"])["auc"].value == pytest.approx(
        auc, abs=1e-12
    )


# ---- PSI ----------------------------------------------------------------------------------------------


def test_psi_against_plain_binning() -> None:
    train_labels, train_scores = _tied(21, 1200)
    validate_labels, validate_scores = _tied(22, 700)
    validate_scores = np.clip(validate_scores + 0.05, 0, 0.85)  # drifted; some fall outside the bins
    result = psi(train_labels, train_scores, validate_labels, validate_scores)

    ordered = np.sort(train_scores)
    quantiles = [round(i * 0.05, 3) for i in range(20)] + [1.0]
    edges = sorted({float(ordered[int(np.rint(q * (ordered.size - 1)))]) for q in quantiles})
    total = 0.0
    for k, row in enumerate(result.points):
        left, right = edges[k], edges[k + 1]
        last = k == len(edges) - 2

        def inside(s: float, left: float = left, right: float = right, last: bool = last) -> bool:
            return left <= s < right or (last and s == right)

        train_in = [i for i, s in enumerate(train_scores.tolist()) if inside(s)]
        validate_in = [i for i, s in enumerate(validate_scores.tolist()) if inside(s)]
        expected = max(len(train_in), 1e-6) / train_scores.size
        actual = max(len(validate_in), 1e-6) / validate_scores.size
        bin_psi = (actual - expected) * np.log(actual / expected)
        total += bin_psi
        train_pos = train_labels[train_in].mean() if train_in else 0.0
        validate_pos = validate_labels[validate_in].mean() if validate_in else 0.0
        _close(
            row,
            [
                left,
                right,
                len(train_in),
                expected,
                len(validate_in),
                actual,
                bin_psi,
                train_pos,
                validate_pos,
            ],
        )
    assert len(result.points) == len(edges) - 1
    assert result.meta["total_psi"] == pytest.approx(total, abs=TOLERANCE)
    assert result.meta["intervals"][-1].endswith("]")  # type: ignore[index, union-attr]
