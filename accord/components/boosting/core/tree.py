"""Decision trees as plain data: nodes, JSON round trip, and routing rows to leaves.

A node's split is known in full only to the party owning its feature: the guest's copy of a tree keeps
host nodes with ``feature = -1`` and no threshold; the host keeps its own nodes' feature, bin and
threshold. Homo trees use ``party = "local"``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np


@dataclass
class Node:
    id: int
    depth: int
    is_leaf: bool = True
    weight: float | list[float] = 0.0
    party: str = "guest"
    feature: int = -1
    bin: int = -1
    threshold: float | None = None
    missing_left: bool = False
    left: int = -1
    right: int = -1
    gain: float = 0.0
    count: int = 0

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Node:
        return cls(**data)

    def goes_left(self, value: float) -> bool:
        """Where a feature value goes at this split (for the party holding the threshold)."""
        if np.isnan(value):
            return self.missing_left
        # No threshold: the split's last bin, where every present value goes left.
        return self.threshold is None or bool(value <= self.threshold)


@dataclass
class Tree:
    nodes: list[Node] = field(default_factory=list)

    def add(self, depth: int, **attrs: Any) -> Node:
        node = Node(id=len(self.nodes), depth=depth, **attrs)
        self.nodes.append(node)
        return node

    def to_json(self) -> dict[str, Any]:
        return {"nodes": [node.to_json() for node in self.nodes]}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Tree:
        return cls([Node.from_json(dict(node)) for node in data["nodes"]])

    @property
    def leaves(self) -> list[Node]:
        return [node for node in self.nodes if node.is_leaf]


Decide = Callable[[Node, int], bool]


def leaf_of(tree: Tree, decide: Decide, row: int) -> Node:
    """The leaf ``row`` reaches, asking ``decide(node, row)`` (True: go left) at each split."""
    node = tree.nodes[0]
    while not node.is_leaf:
        node = tree.nodes[node.left if decide(node, row) else node.right]
    return node


BatchDecide = Callable[[Node, np.ndarray], np.ndarray]


def leaves_of(tree: Tree, decide: BatchDecide, n: int) -> np.ndarray:
    """The leaf id each of ``n`` rows reaches; ``decide(node, rows)`` answers go-left for those rows."""
    position = np.zeros(n, dtype=np.int64)
    frontier = [tree.nodes[0]] if tree.nodes else []
    while frontier:
        following: list[Node] = []
        for node in frontier:
            if node.is_leaf:
                continue
            rows = np.flatnonzero(position == node.id)
            if rows.size:
                left = np.asarray(decide(node, rows), dtype=bool)
                position[rows[left]] = node.left
                position[rows[~left]] = node.right
            following += [tree.nodes[node.left], tree.nodes[node.right]]
        frontier = following
    return position


def leaf_weights(tree: Tree, leaves: np.ndarray, outputs: int) -> np.ndarray:
    """The weights (n, outputs) of the leaves rows reached."""
    table = np.zeros((len(tree.nodes), outputs))
    for node in tree.nodes:
        table[node.id] = (
            np.asarray(node.weight, dtype=np.float64).reshape(-1)[:outputs] if node.is_leaf else 0
        )
    reached: np.ndarray = table[leaves]
    return reached


def threshold_decider(values: np.ndarray) -> BatchDecide:
    """Go-left answers from a party's own feature matrix (n, features) for its own nodes."""

    def decide(node: Node, rows: np.ndarray) -> np.ndarray:
        column = values[rows, node.feature]
        threshold = np.inf if node.threshold is None else node.threshold
        chosen: np.ndarray = np.where(np.isnan(column), node.missing_left, column <= threshold)
        return chosen

    return decide
