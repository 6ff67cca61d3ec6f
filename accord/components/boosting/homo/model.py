"""A HomoSecureBoost model as plain JSON, and scoring rows with it (offline predict and online).

Every client holds the whole model: the global split values of each node (``threshold``), leaf weights,
the initial score and the classes. Trees are stored epoch by epoch; with ``tree_dim`` k > 1
(multi-class, single_output) tree i adds to class ``i % k``; a multi_output tree adds to every class.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from accord.components.boosting.core.objectives import Objective, objective_for
from accord.components.boosting.core.tree import Tree, leaf_weights, leaves_of, threshold_decider
from accord.components.sdk import Dataset
from accord.errors import DataFormatError, DataMismatchError

MODULE = "HomoSecureBoost"
TRAIN, VALIDATE, TEST, PREDICT = "train", "validate", "test", "predict"


@dataclass(frozen=True)
class Booster:
    header: tuple[str, ...]
    trees: tuple[Tree, ...]
    tree_dim: int
    outputs: int
    init_score: np.ndarray
    learning_rate: float
    task_type: str
    classes: tuple[str, ...]
    threshold: float
    zero_missing: bool
    objective: Objective

    @classmethod
    def of(cls, model: Mapping[str, Any], component: str) -> Booster:
        meta, param = model.get("meta"), model.get("param")
        if not isinstance(meta, dict) or not isinstance(param, dict) or "trees" not in param:
            raise DataFormatError(
                f"the model of {component} is not a {MODULE} model (no meta, param or trees)",
                hint=f"use a model trained by {MODULE}",
            )
        classes = tuple(str(c) for c in param.get("classes", []))
        objective = meta["objective_param"]
        outputs = len(param["init_score"])
        return cls(
            header=tuple(str(name) for name in param["header"]),
            trees=tuple(Tree.from_json(tree) for tree in param["trees"]),
            tree_dim=int(param["tree_dim"]),
            outputs=outputs,
            init_score=np.asarray(param["init_score"], dtype=np.float64),
            learning_rate=float(meta["learning_rate"]),
            task_type=str(meta["task_type"]),
            classes=classes,
            threshold=float(meta.get("threshold", 0.5)),
            zero_missing=bool(meta.get("zero_as_missing", False)),
            objective=objective_for(
                str(meta["task_type"]),
                str(objective["objective"]),
                objective.get("params") or [],
                len(classes),
            ),
        )

    def features(self, x: np.ndarray) -> np.ndarray:
        """The features as the trees read them (zeros are missing values with zero_as_missing)."""
        x = np.asarray(x, dtype=np.float64)
        return np.where(x == 0, np.nan, x) if self.zero_missing else x

    def raw_scores(self, x: np.ndarray, trees: int | None = None) -> np.ndarray:
        """Margin scores (n, outputs) of rows (n, len(header)) after the first ``trees`` trees."""
        x = self.features(x)
        scores = np.tile(self.init_score, (x.shape[0], 1))
        decide = threshold_decider(x)
        for index, tree in enumerate(self.trees[:trees]):
            per_tree = 1 if self.tree_dim > 1 else self.outputs
            weights = leaf_weights(tree, leaves_of(tree, decide, x.shape[0]), per_tree)
            if self.tree_dim > 1:
                scores[:, index % self.tree_dim] += self.learning_rate * weights[:, 0]
            else:
                scores += self.learning_rate * weights
        return scores

    def aligned(self, header: Sequence[str], x: np.ndarray, component: str) -> np.ndarray:
        if tuple(header) == self.header:
            return x
        if set(header) != set(self.header):
            raise DataMismatchError(
                f"{component}: the model was trained on features {list(self.header)[:8]}... but the data "
                f"has {list(header)[:8]}...",
                hint="predict on data transformed like the training data (the same DataTransform)",
            )
        where = {name: i for i, name in enumerate(header)}
        return x[:, [where[name] for name in self.header]]


def predictions(booster: Booster, rows: Dataset, raw: np.ndarray, data_type: str) -> Dataset:
    """FATE's predict rows: label, predict_result, predict_score, predict_detail, type."""
    labels = rows.labels()
    values = booster.objective.transform(raw)
    if booster.task_type == "regression":
        result = score = values[:, 0]
        detail = [{"label": float(v)} for v in score]
    elif booster.outputs == 1:
        score = values[:, 0]
        negative, positive = booster.classes[:2] if len(booster.classes) >= 2 else ("0", "1")
        result = np.where(score > booster.threshold, float(positive), float(negative))
        detail = [{negative: 1.0 - float(p), positive: float(p)} for p in score]
    else:
        best = np.argmax(values, axis=1)
        result = np.asarray([float(booster.classes[i]) for i in best])
        score = values[np.arange(len(best)), best]
        detail = [{c: float(p) for c, p in zip(booster.classes, row, strict=True)} for row in values]
    return Dataset.predictions(
        rows.ids(),
        labels=labels if labels is not None else np.full(len(rows), np.nan),
        predict_result=result,
        predict_score=score,
        predict_detail=detail,
        data_type=data_type,
    )


def tree_feature_importance(tree: Tree, header: Sequence[str], kind: str) -> dict[str, float]:
    found: dict[str, float] = {}
    for node in tree.nodes:
        if not node.is_leaf and node.feature >= 0:
            name = header[node.feature]
            found[name] = found.get(name, 0.0) + (node.gain if kind == "gain" else 1.0)
    return found
