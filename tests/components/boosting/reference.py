"""The plain reference the SecureBoost tests compare against: scikit-learn's HistGradientBoosting with
the trees FATE's defaults grow (depth 3, learning rate 0.3, 32 bins, L2 0.1, a leaf of one row, no
early stopping), on the joined (hetero) or pooled (homo) data."""

from __future__ import annotations

import numpy as np
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor

_FATE_TREES = {
    "max_depth": 3,
    "learning_rate": 0.3,
    "max_bins": 32,
    "min_samples_leaf": 1,
    "max_leaf_nodes": None,
    "early_stopping": False,
}


def classifier(trees: int, x: np.ndarray, y: np.ndarray) -> HistGradientBoostingClassifier:
    return HistGradientBoostingClassifier(max_iter=trees, l2_regularization=0.1, **_FATE_TREES).fit(x, y)


def regressor(trees: int, x: np.ndarray, y: np.ndarray) -> HistGradientBoostingRegressor:
    # FATE's lse has gradient 2·(pred - y) and hessian 2: the same leaves as squared error with half
    # the L2.
    return HistGradientBoostingRegressor(max_iter=trees, l2_regularization=0.05, **_FATE_TREES).fit(x, y)
