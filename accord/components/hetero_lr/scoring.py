"""A logistic-regression model's online scorer (ComponentBase.scorer of HeteroLR and HomoLR).

A party's partial score of a row is ``x · w`` over the features its model holds, plus the intercept on
the party that keeps it (HeteroLR's guest; either party of HomoLR, whose model is whole). The score is
``sigmoid(Σ partials)`` and the label ``score > threshold``, exactly as the offline predict computes
them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from accord.components.hetero_lr.common import sigmoid
from accord.errors import DataFormatError


@dataclass(frozen=True)
class LinearScorer:
    component: str
    header: tuple[str, ...]
    weights: np.ndarray
    # None on a party that does not hold the intercept (a HeteroLR host).
    intercept: float | None
    threshold: float

    @classmethod
    def of(
        cls, model: Mapping[str, Any], *, component: str, module: str, with_intercept: bool
    ) -> LinearScorer:
        param, meta = model.get("param"), model.get("meta")
        if not isinstance(param, dict) or not isinstance(meta, dict):
            raise DataFormatError(
                f"the stored model of {component} is not a {module} model (no param or meta section)",
                hint=f"publish a model trained by {module}",
            )
        weight = param.get("weight")
        header = param.get("header")
        if not isinstance(weight, dict) or not isinstance(header, list) or set(weight) != set(header):
            raise DataFormatError(
                f"the stored model of {component} has no weight for each feature of its header",
                hint=f"train the model again; its file is not what {module} writes",
            )
        return cls(
            component=component,
            header=tuple(str(name) for name in header),
            weights=np.array([float(weight[name]) for name in header], dtype=np.float64),
            intercept=float(param.get("intercept", 0.0)) if with_intercept else None,
            threshold=float(meta.get("threshold", 0.5)),
        )

    def partial(self, features: np.ndarray) -> np.ndarray:
        # The offline predict adds the intercept to X·w before the other parties' parts; same order here.
        partials: np.ndarray = features @ self.weights
        if self.intercept is not None:
            partials = partials + self.intercept
        return partials

    def outcome(self, totals: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        scores = sigmoid(totals)
        return scores, (scores > self.threshold).astype(np.int32)
