"""Split finding with FATE 1.11's xgboost criterion on per-bin gradient/hessian histograms.

A node's gain is ``G'^2 / (H + l2)`` where ``G'`` is ``G`` shrunk towards zero by ``l1``; a split's gain
is the children's gains minus the parent's, and it is taken only when above ``min_impurity_split``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class SplitRule:
    l1: float = 0.0
    l2: float = 0.1
    min_child_weight: float = 0.0
    min_leaf_node: int = 1
    min_impurity_split: float = 1e-2
    min_sample_split: int = 2


def _shrunk(g: float | np.ndarray, l1: float) -> np.ndarray:
    g = np.asarray(g, dtype=np.float64)
    return np.asarray(np.sign(g) * np.maximum(np.abs(g) - l1, 0.0))


def leaf_weight(g: float | np.ndarray, h: float | np.ndarray, rule: SplitRule) -> float | np.ndarray:
    weight = -_shrunk(g, rule.l1) / (np.asarray(h, dtype=np.float64) + rule.l2)
    return float(weight) if weight.ndim == 0 else weight


def node_gain(g: float | np.ndarray, h: float | np.ndarray, rule: SplitRule) -> float | np.ndarray:
    gain = _shrunk(g, rule.l1) ** 2 / (np.asarray(h, dtype=np.float64) + rule.l2)
    return float(gain) if gain.ndim == 0 else gain


@dataclass(frozen=True)
class BestSplit:
    feature: int
    bin: int
    gain: float
    left_g: np.ndarray
    left_h: np.ndarray
    left_count: int
    missing_left: bool


def _gains(
    left_g: np.ndarray,
    left_h: np.ndarray,
    left_n: np.ndarray,
    total_g: np.ndarray,
    total_h: np.ndarray,
    total_n: int,
    rule: SplitRule,
) -> np.ndarray:
    """Gain of every candidate (features, bins), -inf where the rule forbids it."""
    right_g, right_h, right_n = total_g - left_g, total_h - left_h, total_n - left_n
    multi = left_g.ndim == 3

    def gain_of(g: np.ndarray, h: np.ndarray) -> np.ndarray:
        gains = np.asarray(node_gain(g, h, rule))
        return gains.sum(axis=-1) if multi else gains

    parent = float(np.sum(node_gain(total_g, total_h, rule)))
    gains = gain_of(left_g, left_h) + gain_of(right_g, right_h) - parent
    lh = left_h.sum(axis=-1) if multi else left_h
    rh = right_h.sum(axis=-1) if multi else right_h
    allowed = (
        (left_n >= rule.min_leaf_node)
        & (right_n >= rule.min_leaf_node)
        & (lh >= rule.min_child_weight)
        & (rh >= rule.min_child_weight)
        & (left_n > 0)
        & (right_n > 0)
    )
    return np.where(allowed, gains, -np.inf)


def best_split(
    g_hist: np.ndarray,
    h_hist: np.ndarray,
    count_hist: np.ndarray,
    total_g: np.ndarray,
    total_h: np.ndarray,
    total_count: int,
    rule: SplitRule,
    *,
    missing: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None,
) -> BestSplit | None:
    """The best split over per-bin histograms (rows with bin <= ``bin`` go left), or None.

    Rows counted in the totals but in no bin (missing values) go right; with ``missing`` (their
    per-feature g, h and count) each split is also tried with them on the left, as FATE's use_missing.
    """
    if total_count < rule.min_sample_split or g_hist.shape[0] == 0 or g_hist.shape[1] == 0:
        return None
    total_g, total_h = np.asarray(total_g, dtype=np.float64), np.asarray(total_h, dtype=np.float64)
    left_g, left_h = np.cumsum(g_hist, axis=1), np.cumsum(h_hist, axis=1)
    left_n = np.cumsum(count_hist, axis=1)
    candidates = [(_gains(left_g, left_h, left_n, total_g, total_h, total_count, rule), False)]
    if missing is not None:
        mg, mh, mn = (np.asarray(m) for m in missing)
        expand = (slice(None), None) if left_g.ndim == 2 else (slice(None), None, slice(None))
        candidates.append(
            (
                _gains(
                    left_g + mg[expand],
                    left_h + mh[expand],
                    left_n + mn[:, None],
                    total_g,
                    total_h,
                    total_count,
                    rule,
                ),
                True,
            )
        )
    best: tuple[float, int, int, bool] | None = None
    for gains, missing_left in candidates:
        flat = int(np.argmax(gains))
        value = float(gains.flat[flat])
        if not np.isfinite(value) or value <= rule.min_impurity_split:
            continue
        if best is None or value > best[0]:
            feature, bin_ = divmod(flat, gains.shape[1])
            best = (value, feature, bin_, missing_left)
    if best is None:
        return None
    gain, feature, bin_, missing_left = best
    lg, lh, ln = left_g[feature, bin_], left_h[feature, bin_], int(left_n[feature, bin_])
    if missing_left and missing is not None:
        lg, lh, ln = lg + missing[0][feature], lh + missing[1][feature], ln + int(missing[2][feature])
    return BestSplit(
        feature=feature,
        bin=bin_,
        gain=gain,
        left_g=np.asarray(lg, dtype=np.float64),
        left_h=np.asarray(lh, dtype=np.float64),
        left_count=ln,
        missing_left=missing_left,
    )


def histogram(
    bins: np.ndarray, g: np.ndarray, h: np.ndarray, bin_count: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-bin sums of g, h and rows: shapes (features, bin_count[, outputs]) and (features, bin_count).

    ``bins`` is an int matrix (n, features) with values in ``[0, bin_count)``.
    """
    features = bins.shape[1]
    flat = (bins + np.arange(features, dtype=np.int64) * bin_count).ravel()
    size = features * bin_count
    counts = np.bincount(flat, minlength=size).reshape(features, bin_count)

    def summed(values: np.ndarray) -> np.ndarray:
        if values.ndim == 1:
            return np.bincount(flat, weights=np.repeat(values, features), minlength=size).reshape(
                features, bin_count
            )
        return np.stack([summed(values[:, k]) for k in range(values.shape[1])], axis=-1)

    return summed(np.asarray(g, dtype=np.float64)), summed(np.asarray(h, dtype=np.float64)), counts
