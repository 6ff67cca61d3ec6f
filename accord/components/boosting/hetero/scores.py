"""Scores from a trained model: the guest walks its trees, asking each host's go-left bits at host
nodes (one bit per row and host node, computed by the host from its own thresholds)."""

from __future__ import annotations

from typing import Any

import numpy as np

from accord.components.boosting.core.objectives import objective_for
from accord.components.boosting.core.tree import Tree, leaf_weights, leaves_of
from accord.components.boosting.hetero import data


def walker(tree: Tree, values: np.ndarray, decided: list[dict[int, bytes]]) -> np.ndarray:
    """The leaf each row reaches: the guest's nodes by its thresholds, host nodes by their bits."""
    n = values.shape[0]
    host_bits: dict[int, np.ndarray] = {}
    for answers in decided:
        for node_id, bits in answers.items():
            host_bits[int(node_id)] = data.unpack_bits(bits, n)

    def decide(node: Any, rows: np.ndarray) -> np.ndarray:
        if node.party == "guest":
            column = values[rows, node.feature]
            threshold = np.inf if node.threshold is None else node.threshold
            return np.asarray(np.where(np.isnan(column), node.missing_left, column <= threshold))
        answered: np.ndarray = host_bits[node.id][rows]
        return answered

    return leaves_of(tree, decide, n)


def raw_scores(
    param: dict[str, Any], values: np.ndarray, decided: list[list[dict[int, bytes]]]
) -> np.ndarray:
    """Raw scores (n, outputs) of the guest's model ``param``: its feature ``values`` and each host's
    go-left bits per tree."""
    n = values.shape[0]
    outputs = int(param["outputs"])
    scores = np.tile(np.asarray(param["init_score"], dtype=np.float64), (n, 1))
    rates = param.get("learning_rates") or [param["learning_rate"]] * len(param["trees"])
    for t, tree_json in enumerate(param["trees"]):
        tree = Tree.from_json(tree_json)
        leaves = walker(tree, values, [host[t] for host in decided])
        if param["multi_output"]:
            scores += leaf_weights(tree, leaves, outputs) * float(rates[t])
        else:
            k = t % int(param["tree_dim"])
            scores[:, k] += leaf_weights(tree, leaves, 1)[:, 0] * float(rates[t])
    return scores


def guest_scores(
    param: dict[str, Any], values: np.ndarray, decided: list[list[dict[int, bytes]]]
) -> np.ndarray:
    """Predictions (probabilities, or values for regression) of the guest's model ``param``."""
    objective = objective_for(
        param["task_type"],
        param["objective"],
        [param["objective_param"]] if param.get("objective_param") is not None else [],
        len(param["classes"]),
    )
    return objective.transform(raw_scores(param, values, decided))
