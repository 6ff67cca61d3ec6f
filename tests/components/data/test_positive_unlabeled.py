"""PositiveUnlabeled against a plain reading of FATE's rules: rows sorted by score (highest first), the
unlabeled (label 0) ones relabeled 1 by each strategy; the guest's output is its rows with those labels,
the host's its rows unchanged."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from pydantic import ValidationError

from accord.components.data.positive_unlabeled.component import chosen_positive
from accord.components.data.positive_unlabeled.params import PositiveUnlabeledParam
from accord.components.sdk import Dataset
from accord.computing.table import Engine

from ..harness import ComponentHarness

GUEST, HOST = 9999, 10000


def plain_reference(strategy: str, threshold: float, labels: list[float], scores: list[float]) -> set[int]:
    """The rows FATE's rules relabel, written as a loop over the rows in score order."""
    order = sorted(range(len(labels)), key=lambda i: (-scores[i], str(i)))
    if strategy == "probability":
        return {i for i in order if labels[i] == 0 and scores[i] >= threshold}
    if strategy == "quantity":
        chosen: set[int] = set()
        for i in order:
            if labels[i] == 0 and len(chosen) < threshold:
                chosen.add(i)
        return chosen
    unlabeled = sum(1 for label in labels if label == 0)
    cut = (
        int(len(labels) * threshold) if strategy == "proportion" else int(unlabeled / len(labels) * threshold)
    )
    return {i for rank, i in enumerate(order) if rank < cut and labels[i] == 0}


@pytest.mark.parametrize(
    ("strategy", "threshold"),
    [("probability", 0.7), ("quantity", 5), ("proportion", 0.3), ("distribution", 12.0)],
)
def test_each_strategy_relabels_the_rows_fate_would(strategy: str, threshold: float) -> None:
    rng = np.random.default_rng(4)
    labels = rng.integers(0, 2, size=40).astype(np.float64)
    scores = np.round(rng.random(40), 2)  # rounded: ties, broken by id
    ids = np.asarray([str(i) for i in range(40)], dtype=object)
    params = PositiveUnlabeledParam(strategy=strategy, threshold=threshold)  # type: ignore[arg-type]
    chosen = chosen_positive(params, labels, scores, ids)
    assert set(np.flatnonzero(chosen).tolist()) == plain_reference(
        strategy, threshold, labels.tolist(), scores.tolist()
    )


@pytest.mark.parametrize(
    "params",
    [
        {"strategy": "probability", "threshold": 1.5},
        {"strategy": "quantity", "threshold": 0.5},
        {"strategy": "distribution", "threshold": 0},
        {"strategy": "median"},
    ],
)
def test_bad_thresholds_are_refused_as_fate_does(params: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        PositiveUnlabeledParam.model_validate(params)


def test_the_guest_relabels_its_rows_and_the_host_passes_its_own(tmp_path: Path, engine: Engine) -> None:
    dsl = {
        "components": {
            "intersection_0": {"module": "Intersection", "output": {"data": ["data"]}},
            "hetero_lr_0": {"module": "HeteroLR", "output": {"data": ["data"]}},
            "positive_unlabeled_0": {
                "module": "PositiveUnlabeled",
                "input": {"data": {"data": ["hetero_lr_0.data", "intersection_0.data"]}},
                "output": {"data": ["data"]},
            },
        }
    }
    conf = {
        "dsl_version": 2,
        "initiator": {"role": "guest", "party_id": GUEST},
        "role": {"guest": [GUEST], "host": [HOST], "arbiter": [HOST]},
        "component_parameters": {
            "common": {"positive_unlabeled_0": {"strategy": "quantity", "threshold": 3}}
        },
    }
    ids = [str(i) for i in range(10)]
    labels = np.array([1, 0, 0, 1, 0, 0, 0, 1, 0, 0], dtype=np.float64)
    scores = np.array([0.9, 0.8, 0.1, 0.7, 0.95, 0.3, 0.6, 0.2, 0.5, 0.4])
    guest_rows = Dataset.instances(ids, np.arange(20.0).reshape(10, 2), header=["a", "b"], labels=labels)
    host_rows = Dataset.instances(ids, np.ones((10, 1)), header=["c"])
    # The model's predictions list the rows in another order than the intersection.
    order = list(reversed(range(10)))
    predictions = Dataset.predictions(
        [ids[i] for i in order],
        labels=labels[order],
        predict_result=(scores[order] > 0.5).astype(float),
        predict_score=scores[order],
        predict_detail=[{} for _ in order],
        data_type="train",
    )
    empty = Dataset.predictions(
        [],
        labels=np.zeros(0),
        predict_result=np.zeros(0),
        predict_score=np.zeros(0),
        predict_detail=[],
        data_type="train",
    )
    harness = ComponentHarness(tmp_path, dsl, conf, engine=engine)
    try:
        harness.plant("guest", GUEST, "intersection_0", guest_rows)
        harness.plant("host", HOST, "intersection_0", host_rows)
        harness.plant("guest", GUEST, "hetero_lr_0", predictions)
        harness.plant("host", HOST, "hetero_lr_0", empty)
        harness.run_ok("positive_unlabeled_0")
        out = harness.output("guest", GUEST, "positive_unlabeled_0")
        # Unlabeled by score: 4 (0.95), 1 (0.8), 6 (0.6) become positive.
        expected = labels.copy()
        expected[[4, 1, 6]] = 1
        np.testing.assert_array_equal(out.labels(), expected)
        np.testing.assert_array_equal(out.features(), guest_rows.features())
        assert list(out.ids()) == ids
        host_out = harness.output("host", HOST, "positive_unlabeled_0")
        np.testing.assert_array_equal(host_out.features(), host_rows.features())
    finally:
        harness.close()
