"""A regression model's online scorer (ComponentBase.scorer of HeteroLinR and HeteroPoisson).

A party's partial of a row is ``x · w`` over its model's features, plus the intercept on the guest. The
outcome of the summed partials is the prediction: the sum itself for HeteroLinR, ``exp(sum)`` for
HeteroPoisson. Online, a Poisson prediction is per unit of exposure: the model's features leave out the
exposure column (it is an offset, not a feature), so a caller multiplies the score by the row's exposure
itself. The serving answer's integer ``label`` is the prediction rounded to the nearest integer (for
Poisson, the predicted count); ``score`` carries the exact value.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from accord.components.hetero_lr.scoring import LinearScorer
from accord.components.linear.links import inverse_link


@dataclass(frozen=True)
class RegressionScorer:
    linear: LinearScorer
    link: str

    @classmethod
    def of(
        cls, model: Mapping[str, Any], *, component: str, module: str, link: str, with_intercept: bool
    ) -> RegressionScorer:
        return cls(
            LinearScorer.of(model, component=component, module=module, with_intercept=with_intercept), link
        )

    @property
    def component(self) -> str:
        return self.linear.component

    @property
    def header(self) -> tuple[str, ...]:
        return self.linear.header

    def partial(self, features: np.ndarray) -> np.ndarray:
        return self.linear.partial(features)

    def outcome(self, totals: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        predicted = inverse_link(self.link, np.asarray(totals, dtype=np.float64))
        return predicted, np.rint(np.clip(predicted, -(2.0**31), 2.0**31 - 1)).astype(np.int64)
