"""Scorecard against a plain loop over FATE's formula: odds = (1 - p) / p,
score = offset + factor / ln(factor_base) * ln(odds), the special cases at 0, 1 and outside [0, 1],
cut to [lower_limit_value, upper_limit_ratio * offset] and rounded to 2 decimals."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from accord.components.sdk import Dataset
from accord.computing.table import Engine

from ..harness import ComponentHarness

GUEST, HOST = 9999, 10000
DSL: dict[str, Any] = {
    "components": {
        "hetero_lr_0": {"module": "HeteroLR", "output": {"data": ["data"]}},
        "scorecard_0": {
            "module": "Scorecard",
            "input": {"data": {"data": ["hetero_lr_0.data"]}},
            "output": {"data": ["data"]},
        },
    }
}


def conf(**guest: Any) -> dict[str, Any]:
    return {
        "dsl_version": 2,
        "initiator": {"role": "guest", "party_id": GUEST},
        "role": {"guest": [GUEST], "host": [HOST], "arbiter": [HOST]},
        "component_parameters": {
            "role": {
                "guest": {"0": {"scorecard_0": guest}},
                "host": {"0": {"scorecard_0": {"need_run": False}}},
            }
        },
    }


def reference(p: float, offset: float, factor: float, base: float, upper_ratio: float, lower: float) -> float:
    upper = upper_ratio * offset
    if abs(p) <= 1e-8 and p >= 0:
        score = upper
    elif abs(p - 1) <= 1e-8 and p > 0:
        score = lower
    elif p > 1 or p < 0:
        score = -1.0
    else:
        score = offset + factor / math.log(base) * math.log((1 - p) / p)
    return round(min(max(score, lower), upper), 2)


SCORES = np.concatenate([[0.0, 1e-9, 1.0, 1 - 1e-9, 0.5, 1.2, -0.1], np.random.default_rng(1).random(500)])


@pytest.mark.parametrize(
    "given",
    [
        {},
        {"offset": 600, "factor": 50, "factor_base": 3, "upper_limit_ratio": 2, "lower_limit_value": -5.5},
    ],
)
def test_scores_equal_the_formula(tmp_path: Path, engine: Engine, given: dict[str, Any]) -> None:
    ids = [str(i) for i in range(len(SCORES))]
    labels = (SCORES > 0.5).astype(float)
    predictions = Dataset.predictions(
        ids,
        labels=labels,
        predict_result=labels,
        predict_score=SCORES,
        predict_detail=[{"0": 1 - p, "1": p} for p in SCORES],
        data_type="train",
    )
    harness = ComponentHarness(tmp_path, DSL, conf(**given), engine=engine)
    try:
        harness.plant("guest", GUEST, "hetero_lr_0", predictions)
        harness.run_ok("scorecard_0")
        got = harness.output("guest", GUEST, "scorecard_0")
    finally:
        harness.close()
    params = {"offset": 500, "factor": 20, "factor_base": 2, "upper_limit_ratio": 3, "lower_limit_value": 0}
    params.update(given)
    expected = [
        reference(
            p,
            params["offset"],
            params["factor"],
            params["factor_base"],
            params["upper_limit_ratio"],
            params["lower_limit_value"],
        )
        for p in SCORES
    ]
    assert got.table.column_names == ["sid", "label", "predict_result", "predict_score", "credit_score"]
    assert list(got.ids()) == ids
    np.testing.assert_array_equal(got.column("credit_score"), expected)
    np.testing.assert_array_equal(got.column("predict_score"), SCORES)
    assert got.header == ("label", "predict_result", "predict_score", "credit_score")
