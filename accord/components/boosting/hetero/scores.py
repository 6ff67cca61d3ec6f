"""Scores from a trained model: the guest walks its trees, asking each host's go-left bits at host
nodes (one bit per row and host node, computed by the host from its own thresholds).

Predict jobs and online scoring share :func:`trees_raw_scores`, so both add the same leaf weights in the
same order and give the same floats.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from accord.components.boosting.core.objectives import Objective, objective_for
from accord.components.boosting.core.tree import Node, Tree, leaf_weights, leaves_of
from accord.components.boosting.hetero import data

# Node id → go-left of every row at that host node, for one tree (every host's nodes together).
HostBits = Mapping[int, np.ndarray]


def _unpacked(decided: list[dict[int, bytes]], n: int) -> dict[int, np.ndarray]:
    bits: dict[int, np.ndarray] = {}
    for answers in decided:
        for node_id, packed in answers.items():
            bits[int(node_id)] = data.unpack_bits(packed, n)
    return bits


def walk(tree: Tree, values: np.ndarray, host_bits: HostBits) -> np.ndarray:
    """The leaf each row reaches: the guest's nodes by its thresholds, host nodes by their bits."""

    def decide(node: Node, rows: np.ndarray) -> np.ndarray:
        if node.party == "guest":
            column = values[rows, node.feature]
            threshold = np.inf if node.threshold is None else node.threshold
            return np.asarray(np.where(np.isnan(column), node.missing_left, column <= threshold))
        answered: np.ndarray = host_bits[node.id][rows]
        return answered

    return leaves_of(tree, decide, values.shape[0])


def walker(tree: Tree, values: np.ndarray, decided: list[dict[int, bytes]]) -> np.ndarray:
    """:func:`walk` with each host's packed go-left bits of this tree."""
    return walk(tree, values, _unpacked(decided, values.shape[0]))


def trees_raw_scores(
    param: Mapping[str, Any], trees: Sequence[Tree], values: np.ndarray, host_bits: Sequence[HostBits]
) -> np.ndarray:
    """Raw scores (n, outputs): the init score plus each tree's leaf weights times its learning rate."""
    n = values.shape[0]
    outputs = int(param["outputs"])
    scores = np.tile(np.asarray(param["init_score"], dtype=np.float64), (n, 1))
    rates = param.get("learning_rates") or [param["learning_rate"]] * len(trees)
    for t, tree in enumerate(trees):
        leaves = walk(tree, values, host_bits[t])
        if param["multi_output"]:
            scores += leaf_weights(tree, leaves, outputs) * float(rates[t])
        else:
            k = t % int(param["tree_dim"])
            scores[:, k] += leaf_weights(tree, leaves, 1)[:, 0] * float(rates[t])
    return scores


def raw_scores(
    param: dict[str, Any], values: np.ndarray, decided: list[list[dict[int, bytes]]]
) -> np.ndarray:
    """Raw scores (n, outputs) of the guest's model ``param``: its feature ``values`` and each host's
    go-left bits per tree."""
    trees = [Tree.from_json(tree_json) for tree_json in param["trees"]]
    n = values.shape[0]
    bits = [_unpacked([host[t] for host in decided], n) for t in range(len(trees))]
    return trees_raw_scores(param, trees, values, bits)


def objective_of(param: Mapping[str, Any]) -> Objective:
    return objective_for(
        param["task_type"],
        param["objective"],
        [param["objective_param"]] if param.get("objective_param") is not None else [],
        len(param["classes"]),
    )


def guest_scores(
    param: dict[str, Any], values: np.ndarray, decided: list[list[dict[int, bytes]]]
) -> np.ndarray:
    """Predictions (probabilities, or values for regression) of the guest's model ``param``."""
    return objective_of(param).transform(raw_scores(param, values, decided))
