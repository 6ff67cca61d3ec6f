"""A client of HomoSecureBoost (every guest and every host): its rows, its histograms, its model.

Per FATE's homo boosting: global binning over all clients first; then, tree after tree, the client
computes gradients and hessians of its own rows (times their sample weights), sends per-node
histograms through secure aggregation, and routes its rows down the splits the arbiter answers with.
Each epoch it sends its share of the global loss; the arbiter answers whether n_iter_no_change stops.

One deliberate difference from FATE: the initial score is computed from the label mean over all
clients (summed securely), not from each client's own labels, so that every client's model is the
same model (FATE's clients each start from their local mean). With lae, whose FATE start is the
median, the global mean is used as no median is aggregated.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from accord.components.boosting.core.objectives import objective_for
from accord.components.boosting.core.split import histogram
from accord.components.boosting.core.tree import Tree, leaf_weights, leaves_of, threshold_decider
from accord.components.boosting.homo import binning, protocol
from accord.components.boosting.homo.blocks import local_rows
from accord.components.boosting.homo.model import MODULE, Booster, tree_feature_importance
from accord.components.boosting.homo.params import HomoSecureBoostParam
from accord.components.boosting.homo.validation import log_validation
from accord.components.hetero_lr import tables
from accord.components.homo_lr.client import raise_problem
from accord.components.homo_lr.secure_aggregation import AggregationClient, clients_of, job_context
from accord.components.sdk import ComponentContext
from accord.errors import DataFormatError

_LABEL_LIMIT = 256


class Client:
    def __init__(self, ctx: ComponentContext[HomoSecureBoostParam]) -> None:
        self.ctx = ctx
        self.param = ctx.params
        self.aggregator = AggregationClient(
            ctx.transfer,
            clients_of(ctx.plan.roles),
            job_context(ctx.job_id, ctx.component, ctx.task.task_version),
        )

    def fit(self, previous: dict[str, Any] | None) -> dict[str, Any]:
        ctx, param, aggregator = self.ctx, self.param, self.aggregator
        train = tables.input_rows(ctx, "train_data", "data")
        if train is None:
            raise DataFormatError(
                f"{ctx.component} has no train_data input", hint="wire train_data in the DSL"
            )
        header = list(train.header)
        rows = local_rows(train, ctx.component)
        x = np.where(rows.x == 0, np.nan, rows.x) if param.zero_missing else rows.x
        # The label set goes to the arbiter for classification only (FATE's label alignment).
        labels: list[float] = []
        if param.task_type == "classification":
            labels = sorted({float(v) for v in np.unique(rows.y)})[:_LABEL_LIMIT]
        low, high = binning.column_ranges(x)
        warm = Booster.of(previous, ctx.component) if previous else None
        reply = aggregator.setup(
            {
                "header": header,
                "labels": labels,
                "min": low,
                "max": high,
                "warm": len(warm.trees) if warm else 0,
            }
        )
        raise_problem(reply)

        weights = rows.w if rows.w is not None else np.ones(len(rows))
        present = (~np.isnan(x)).sum(axis=0)
        aggregator.send(
            np.concatenate([[len(rows), weights.sum(), (weights * rows.y).sum()], present]),
            "totals",
            protocol.FRACTION_BITS,
        )
        totals = np.asarray(aggregator.receive("totals"), dtype=np.float64)
        total_rows, total_weight, weighted_labels = round(float(totals[0])), totals[1], totals[2]
        global_present = np.rint(totals[3:]).astype(np.int64)
        points = binning.client_split_points(
            aggregator,
            ctx.transfer,
            x,
            reply["min"],
            reply["max"],
            global_present,
            total_rows,
            param.bin_num,
            param.binning_error,
        )
        bin_count = max([len(p) for p in points] + [1])
        bins = binning.bin_matrix(x, points, bin_count)

        classes = [str(int(c)) for c in reply["classes"]]
        objective = objective_for(
            param.task_type,
            param.objective_param.objective or "cross_entropy",
            param.objective_param.params or [],
            len(classes),
        )
        multi = len(classes) > 2
        tree_dim = len(classes) if multi and param.multi_mode == "single_output" else 1
        if warm is not None:
            init = warm.init_score
            scores = warm.raw_scores(warm.aligned(header, rows.x, ctx.component))
            trees = [tree.to_json() for tree in warm.trees]
            start = len(warm.trees) // max(warm.tree_dim, 1)
        else:
            init = objective.initial_scores(np.array([weighted_labels / total_weight]), None)
            scores = np.tile(init, (len(rows), 1))
            trees, start = [], 0
        ctx.log.info(
            "%s: %d rows here, %d over all clients; %d features in up to %d bins; %d class(es)",
            ctx.component,
            len(rows),
            total_rows,
            len(header),
            bin_count,
            len(classes),
        )

        validate = tables.input_rows(ctx, "validate_data")
        valid_rows = local_rows(validate, ctx.component) if validate is not None else None
        valid_x = valid_rows.x if valid_rows is not None else None
        valid_scores = (
            (
                warm.raw_scores(warm.aligned(header, valid_x, ctx.component))
                if warm
                else np.tile(init, (len(valid_rows), 1))
            )
            if valid_rows is not None and valid_x is not None
            else None
        )
        if valid_x is not None and param.zero_missing:
            valid_x = np.where(valid_x == 0, np.nan, valid_x)

        importance: dict[str, float] = {}
        history: list[float] = []
        epochs, converged = start, False
        for epoch in range(start, start + param.num_trees):
            ctx.check_cancelled()
            g, h = objective.gradients(rows.y, scores)
            g, h = g * weights[:, None], h * weights[:, None]
            for booster in range(tree_dim):
                name = protocol.tree_name(epoch, booster)
                column = slice(booster, booster + 1) if tree_dim > 1 else slice(None)
                tree, leaves = self._grow(name, bins, bin_count, g[:, column], h[:, column])
                for node in tree.nodes:
                    if not node.is_leaf:
                        node.threshold = binning.threshold_of(points[node.feature], node.bin)
                outputs = scores.shape[1] if tree_dim == 1 else 1
                scores[:, column] += param.learning_rate * leaf_weights(tree, leaves, outputs)
                if valid_scores is not None and valid_x is not None:
                    valid_leaves = leaves_of(tree, threshold_decider(valid_x), valid_x.shape[0])
                    valid_scores[:, column] += param.learning_rate * leaf_weights(tree, valid_leaves, outputs)
                trees.append(tree.to_json())
                for feature, value in tree_feature_importance(
                    tree, header, param.tree_param.feature_importance_type
                ).items():
                    importance[feature] = importance.get(feature, 0.0) + value
            local_loss = objective.loss(rows.y, scores, rows.w)
            aggregator.send(
                np.array([local_loss * weights.sum() / total_weight]), f"loss.{epoch}", protocol.FRACTION_BITS
            )
            result = aggregator.receive(f"loss.{epoch}")
            history.append(float(result["loss"]))
            epochs, converged = epoch + 1, bool(result["stop"])
            ctx.log.info("tree %d: local loss %.6g, global loss %.6g", epoch, local_loss, result["loss"])
            ctx.progress(epoch + 1 - start, param.num_trees, f"loss {float(result['loss']):.6g}")
            if param.validates_at(epoch):
                log_validation(ctx, objective, param, epoch, "train", rows.y, scores, classes)
                if valid_rows is not None and valid_scores is not None:
                    log_validation(
                        ctx, objective, param, epoch, "validate", valid_rows.y, valid_scores, classes
                    )
            if converged:
                break
        if warm is not None:
            history = list(previous["param"].get("loss_history", [])) + history if previous else history
        return {
            "header": header,
            "classes": classes,
            "num_classes": len(classes),
            "tree_dim": tree_dim,
            "init_score": [float(v) for v in np.ravel(init)],
            "trees": trees,
            "split_points": dict(zip(header, points, strict=True)),
            "feature_importance": importance,
            "loss_history": history,
            "epochs": epochs,
            "is_converged": converged,
            "best_iteration": -1,
            "model_name": MODULE,
        }

    def _grow(
        self, name: str, bins: np.ndarray, bin_count: int, g: np.ndarray, h: np.ndarray
    ) -> tuple[Tree, np.ndarray]:
        """One tree grown with the arbiter; the leaf each of this client's rows ends in."""
        tree_param = self.param.tree_param
        g = g[:, 0] if g.shape[1] == 1 else g
        h = h[:, 0] if h.shape[1] == 1 else h
        position = np.zeros(bins.shape[0], dtype=np.int64)
        active = [0]
        for depth in range(tree_param.max_depth):
            following: list[int] = []
            for batch_no, batch in enumerate(protocol.batches(active, tree_param.max_split_nodes)):
                histograms = []
                for node_id in batch:
                    rows = np.flatnonzero(position == node_id)
                    histograms.append(histogram(bins[rows], g[rows], h[rows], bin_count + 1))
                level = protocol.level_name(name, depth, batch_no)
                self.aggregator.send(protocol.pack(histograms), level, protocol.FRACTION_BITS)
                answer = self.aggregator.receive(level)
                for node_id, feature, bin_, missing_left, left, right in answer["splits"]:
                    rows = np.flatnonzero(position == node_id)
                    column = bins[rows, feature]
                    goes_left = column <= bin_
                    if missing_left:
                        goes_left |= column == bin_count
                    position[rows[goes_left]] = left
                    position[rows[~goes_left]] = right
                    if depth + 1 < tree_param.max_depth:
                        following += [left, right]
            active = following
            if not active:
                break
        tree = Tree.from_json(self.aggregator.receive(f"{name}.tree"))
        return tree, position
