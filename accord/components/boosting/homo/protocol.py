"""What the clients and the arbiter of HomoSecureBoost agree on: names, fixed point, histogram layout.

A level of a tree is one or more secure aggregations (at most ``max_split_nodes`` nodes each): every
client sends, per node being split, its per-bin gradient, hessian and row histograms of every feature
(the missing-value bin last), masked; the arbiter gets only their sums, finds each node's best split
and answers with the splits. At the end of a tree it sends the whole tree (features and bins, leaf
weights); each client fills in the split values from the global split points it holds.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

# Fixed-point bits of the aggregated sums: a resolution of 2**-24 (6e-8) for magnitudes up to 2**38.
FRACTION_BITS = 24


def level_name(tree: str, depth: int, batch: int) -> str:
    return f"{tree}.d{depth}.b{batch}"


def tree_name(epoch: int, booster: int) -> str:
    return f"tree.{epoch}.{booster}"


def batches(nodes: Sequence[int], size: int) -> list[list[int]]:
    return [list(nodes[start : start + size]) for start in range(0, len(nodes), size)]


def pack(histograms: Sequence[tuple[np.ndarray, np.ndarray, np.ndarray]]) -> np.ndarray:
    parts: list[np.ndarray] = []
    for g, h, count in histograms:
        parts += [g.ravel(), h.ravel(), count.ravel().astype(np.float64)]
    return np.concatenate(parts) if parts else np.zeros(0)


def unpack(
    vector: np.ndarray, nodes: int, features: int, outputs: int
) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Per node (g, h, count) histograms, shapes (features, bins[, outputs]) and (features, bins)."""
    per_node = vector.size // max(nodes, 1)
    bins = per_node // max(features * (2 * outputs + 1), 1)
    shape = (features, bins) if outputs == 1 else (features, bins, outputs)
    size = features * bins * outputs
    found = []
    for index in range(nodes):
        chunk = vector[index * per_node : (index + 1) * per_node]
        g = chunk[:size].reshape(shape)
        h = chunk[size : 2 * size].reshape(shape)
        count = np.rint(chunk[2 * size :]).reshape(features, bins)
        found.append((g, h, count))
    return found


def valid_features(features: int, rate: float, seed: int | None, tree_index: int) -> np.ndarray:
    """The features a tree may split on: all, or a random ``rate`` share (at least one), as FATE's
    arbiter samples them per tree."""
    if rate >= 1 or features == 0:
        return np.arange(features)
    rng = np.random.default_rng([seed or 0, tree_index])
    chosen = rng.choice(features, size=max(1, int(rate * features)), replace=False)
    return np.sort(chosen)
