"""Online scoring of a HeteroSecureBoost / HeteroFastSecureBoost model (ComponentBase.scorer).

A host answers, for each row it is asked about, its go-left decision (1.0 or 0.0) at every split node
it owns over all trees, named ``"<tree>.<node id>"``: no threshold, feature or value leaves it. The
guest walks each tree as a predict job does, comparing its own features at its nodes and reading the
owning host's decision at host nodes, then sums the leaf weights times the learning rate onto the init
score (:func:`scores.trees_raw_scores`, the predict job's own arithmetic) and maps them as the predict
job does: sigmoid (binary), softmax (multi-class) or the regression objective's transform.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from accord.components.boosting.core.objectives import Objective
from accord.components.boosting.core.tree import Tree
from accord.components.boosting.hetero.scores import objective_of, trees_raw_scores
from accord.components.sdk.scoring import HostAnswers
from accord.errors import DataFormatError, DataMismatchError

_HOST_PREFIX = "host:"


def _param(model: Mapping[str, Any], component: str, module: str, needs: tuple[str, ...]) -> dict[str, Any]:
    param = model.get("param")
    if not isinstance(param, dict) or any(name not in param for name in needs):
        raise DataFormatError(
            f"the stored model of {component} is not a {module} model (no param section with "
            f"{', '.join(needs)})",
            hint=f"publish a model trained by {module}",
        )
    return param


def _missing_as_nan(features: np.ndarray, zero_as_missing: bool) -> np.ndarray:
    values = np.array(features, dtype=np.float64)
    if zero_as_missing:
        values[values == 0] = np.nan
    return values


def _column(tree: int, node: int) -> str:
    return f"{tree}.{node}"


@dataclass(frozen=True)
class _HostSplit:
    feature: int
    threshold: float
    missing_left: bool


class HostTreeScorer:
    """A host's part: its decisions at its own nodes, from its own rows."""

    def __init__(self, model: Mapping[str, Any], *, component: str, module: str) -> None:
        param = _param(model, component, module, ("header", "trees"))
        self._component = component
        self._header = tuple(str(name) for name in param["header"])
        self._zero_as_missing = bool(param.get("zero_as_missing"))
        columns: list[str] = []
        splits: list[_HostSplit] = []
        for t, tree in enumerate(param["trees"]):
            for node_id in sorted(int(key) for key in tree):
                split = tree[str(node_id)]
                threshold = split["threshold"]
                columns.append(_column(t, node_id))
                # No threshold: the split's last bin, where every present value goes left.
                splits.append(
                    _HostSplit(
                        int(split["feature"]),
                        np.inf if threshold is None else float(threshold),
                        bool(split["missing_left"]),
                    )
                )
        self._columns = tuple(columns)
        self._splits = tuple(splits)

    @property
    def component(self) -> str:
        return self._component

    @property
    def header(self) -> tuple[str, ...]:
        return self._header

    @property
    def columns(self) -> tuple[str, ...]:
        return self._columns

    def partial(self, features: np.ndarray) -> np.ndarray:
        """(rows, len(columns)) of 1 (left) and 0 (right), exactly as the predict job's host decides."""
        values = _missing_as_nan(features, self._zero_as_missing)
        decided = np.empty((values.shape[0], len(self._splits)), dtype=np.uint8)
        for index, split in enumerate(self._splits):
            column = values[:, split.feature]
            decided[:, index] = np.where(np.isnan(column), split.missing_left, column <= split.threshold)
        return decided

    def outcome(self, totals: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        raise DataFormatError(
            f"{self._component}: a host's part of a SecureBoost model has no outcome of its own",
            hint="score on the model's guest",
        )


class GuestTreeScorer:
    """The guest's part: its trees (host nodes without their splits), init score, classes."""

    def __init__(self, model: Mapping[str, Any], *, component: str, module: str) -> None:
        needs = (
            "header",
            "trees",
            "init_score",
            "outputs",
            "tree_dim",
            "multi_output",
            "classes",
            "task_type",
        )
        param = _param(model, component, module, needs)
        self._component = component
        self._module = module
        self._param = param
        self._header = tuple(str(name) for name in param["header"])
        self._zero_as_missing = bool(param.get("zero_as_missing"))
        self._trees = tuple(Tree.from_json(tree) for tree in param["trees"])
        self._objective: Objective = objective_of(param)
        self._task_type = str(param["task_type"])
        self._classes = np.asarray(param["classes"], dtype=np.float64)
        self._threshold = float(param.get("threshold", 0.5))
        # Host party id → the (tree, node id) of every node it owns, which its answers must name.
        owned: dict[int, set[tuple[int, int]]] = {}
        for t, tree in enumerate(self._trees):
            for node in tree.nodes:
                if not node.is_leaf and node.party.startswith(_HOST_PREFIX):
                    owned.setdefault(int(node.party[len(_HOST_PREFIX) :]), set()).add((t, node.id))
        self._owned = owned

    @property
    def component(self) -> str:
        return self._component

    @property
    def header(self) -> tuple[str, ...]:
        return self._header

    @property
    def asks_hosts(self) -> bool:
        return True

    def partial(self, features: np.ndarray) -> np.ndarray:
        raise DataFormatError(
            f"{self._component}: a SecureBoost guest combines the hosts' decisions, it has no partial score",
            hint="score through combine",
        )

    def combine(self, features: np.ndarray, answers: Mapping[int, HostAnswers]) -> np.ndarray:
        """Raw scores (rows, outputs) as the predict job computes them."""
        values = _missing_as_nan(features, self._zero_as_missing)
        rows = values.shape[0]
        bits: list[dict[int, np.ndarray]] = [{} for _ in self._trees]
        for host, owned in self._owned.items():
            answer = answers.get(host)
            if answer is None:
                raise DataMismatchError(
                    f"{self._component}: host {host} owns split nodes of the model but sent no answer",
                    hint="load the model on every host again (`accord model load`)",
                )
            named = self._named(host, answer, owned, rows)
            for (t, node_id), index in named.items():
                bits[t][node_id] = answer.values[:, index].astype(bool)
        return trees_raw_scores(self._param, self._trees, values, bits)

    def _named(
        self, host: int, answer: HostAnswers, owned: set[tuple[int, int]], rows: int
    ) -> dict[tuple[int, int], int]:
        named: dict[tuple[int, int], int] = {}
        for index, column in enumerate(answer.columns):
            tree, _, node = column.partition(".")
            if tree.isdigit() and node.isdigit():
                named[int(tree), int(node)] = index
        if set(named) != owned or len(named) != len(answer.columns):
            raise DataMismatchError(
                f"{self._component}: host {host} answered for {len(answer.columns)} split nodes, the "
                f"guest's model has {len(owned)} of that host's, and they differ",
                hint="publish the same model version on the guest and its hosts (`accord model load`)",
            )
        if answer.values.shape != (rows, len(answer.columns)):
            raise DataMismatchError(
                f"{self._component}: host {host} answered {answer.values.shape[0]} rows of "
                f"{answer.values.shape[1] if answer.values.ndim == 2 else 1} decisions for {rows} rows "
                f"of {len(answer.columns)}",
                hint="the host's site may run an incompatible Accord version",
            )
        return named

    def outcome(self, totals: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The predict job's ``predict_score`` and ``predict_result`` (as an integer)."""
        predicted = self._objective.transform(np.asarray(totals, dtype=np.float64))
        if self._task_type == "regression":
            values = predicted[:, 0]
            return values, _as_labels(values)
        if predicted.shape[1] == 1:
            score = predicted[:, 0]
            positive = self._classes[1] if len(self._classes) > 1 else 1.0
            negative = self._classes[0] if len(self._classes) else 0.0
            return score, _as_labels(np.where(score > self._threshold, positive, negative))
        best = predicted.argmax(axis=1)
        return predicted[np.arange(len(best)), best], _as_labels(self._classes[best])


def _as_labels(values: np.ndarray) -> np.ndarray:
    """An answer's integer label: the class, or a regression value rounded to the nearest integer."""
    labels: np.ndarray = np.rint(np.clip(values, -(2.0**31), 2.0**31 - 1)).astype(np.int64)
    return labels
