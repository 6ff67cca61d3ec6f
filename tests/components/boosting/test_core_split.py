"""Core split finding against a brute-force search in plain numpy."""

from __future__ import annotations

import numpy as np

from accord.components.boosting.core import split, tree
from accord.components.boosting.core.split import SplitRule


def _brute(bins: np.ndarray, g: np.ndarray, h: np.ndarray, rule: SplitRule) -> tuple[float, int, int]:
    def score(mask: np.ndarray) -> float:
        return float(g[mask].sum() ** 2 / (h[mask].sum() + rule.l2))

    best = (-np.inf, -1, -1)
    parent = score(np.ones(len(g), dtype=bool))
    for f in range(bins.shape[1]):
        for b in range(bins.max() + 1):
            left = bins[:, f] <= b
            if left.sum() < rule.min_leaf_node or (~left).sum() < rule.min_leaf_node:
                continue
            gain = score(left) + score(~left) - parent
            if gain > best[0]:
                best = (gain, f, b)
    return best


def test_best_split_matches_brute_force() -> None:
    rng = np.random.default_rng(3)
    for seed in range(5):
        bins = rng.integers(0, 6, (200, 4))
        g = rng.normal(size=200) + bins[:, seed % 4] * 0.3
        h = rng.uniform(0.1, 1.0, 200)
        rule = SplitRule(l2=0.5, min_leaf_node=3)
        gh, hh, ch = split.histogram(bins, g, h, 6)
        found = split.best_split(gh, hh, ch, g.sum(), h.sum(), 200, rule)
        gain, f, b = _brute(bins, g, h, rule)
        assert found is not None
        assert (found.feature, found.bin) == (f, b)
        assert np.isclose(found.gain, gain)
        assert found.left_count == int((bins[:, f] <= b).sum())
        assert np.isclose(found.left_g, g[bins[:, f] <= b].sum())


def test_l1_leaf_weight_and_missing_direction() -> None:
    rule = SplitRule(l1=1.0, l2=1.0)
    assert split.leaf_weight(3.0, 1.0, rule) == -1.0
    assert split.leaf_weight(0.5, 1.0, rule) == 0.0
    # Rows with a missing value all have large gradients: they should join the left side.
    gh = np.array([[-5.0, 5.0]])
    hh = np.array([[5.0, 5.0]])
    ch = np.array([[5, 5]])
    missing = (np.array([-5.0]), np.array([5.0]), np.array([5]))
    found = split.best_split(gh, hh, ch, np.array(-5.0), np.array(15.0), 15, SplitRule(), missing=missing)
    assert found is not None and found.missing_left and found.left_count == 10


def test_multi_output_histogram_and_no_split() -> None:
    bins = np.array([[0], [0], [1], [1]])
    g = np.array([[1.0, -1.0], [1.0, -1.0], [-1.0, 1.0], [-1.0, 1.0]])
    h = np.ones((4, 2))
    gh, hh, ch = split.histogram(bins, g, h, 2)
    assert gh.shape == (1, 2, 2) and ch.tolist() == [[2, 2]]
    found = split.best_split(gh, hh, ch, g.sum(0), h.sum(0), 4, SplitRule())
    assert found is not None and found.bin == 0
    assert split.best_split(gh, hh, ch, g.sum(0), h.sum(0), 4, SplitRule(min_sample_split=5)) is None


def test_tree_json_round_trip_and_routing() -> None:
    t = tree.Tree()
    root = t.add(0, is_leaf=False, feature=0, threshold=0.5, missing_left=True, left=1, right=2)
    t.add(1, weight=-1.0)
    t.add(1, weight=2.0)
    again = tree.Tree.from_json(t.to_json())
    assert again == t and root.id == 0
    values = np.array([[0.1], [0.9], [np.nan]])
    leaves = tree.leaves_of(again, tree.threshold_decider(values), 3)
    assert leaves.tolist() == [1, 2, 1]
    assert tree.leaf_weights(again, leaves, 1).ravel().tolist() == [-1.0, 2.0, -1.0]
    assert tree.leaf_of(again, lambda node, row: node.goes_left(values[row, 0]), 1).id == 2
