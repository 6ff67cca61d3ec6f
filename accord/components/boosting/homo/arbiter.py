"""The arbiter of HomoSecureBoost: checks the clients agree, runs the binning rounds, grows every tree
from the securely aggregated histograms, and sums the clients' losses for n_iter_no_change.

It sees the clients' headers, label sets and per-feature ranges (as FATE's arbiter does), and sums:
row counts, histograms, losses. Never a row, a label or one client's histogram.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from typing import Any

import numpy as np

from accord.components.boosting.core.split import SplitRule, best_split, leaf_weight
from accord.components.boosting.core.tree import Tree
from accord.components.boosting.homo import binning, protocol
from accord.components.boosting.homo.params import HomoSecureBoostParam
from accord.components.homo_lr.client import raise_problem
from accord.components.homo_lr.secure_aggregation import AggregationServer, clients_of
from accord.components.sdk import ComponentContext

Totals = tuple[np.ndarray, np.ndarray, int]


def split_rule(param: HomoSecureBoostParam) -> SplitRule:
    tree = param.tree_param
    return SplitRule(
        l1=tree.l1,
        l2=tree.l2,
        min_child_weight=tree.min_child_weight,
        min_leaf_node=tree.min_leaf_node,
        min_impurity_split=tree.min_impurity_split,
        min_sample_split=tree.min_sample_split,
    )


def check_clients(
    setups: Sequence[dict[str, Any]], param: HomoSecureBoostParam, component: str
) -> dict[str, Any]:
    """The reply to every client: the global ranges, the classes and the seed, or the problem."""
    headers = {tuple(setup["header"]) for setup in setups}
    if len(headers) > 1:
        return {
            "error": "mismatch",
            "problem": f"{component}: the clients' features differ; HomoSecureBoost needs the same features, "
            "in the same order, on every guest and host",
            "hint": "transform every party's data the same way (the same DataTransform settings)",
        }
    if not setups[0]["header"]:
        return {"error": "data", "problem": f"{component}: the train data has no feature", "hint": None}
    if any(setup["labels"] is None for setup in setups):
        return {
            "error": "data",
            "problem": f"{component}: a client's train data has no label; "
            "HomoSecureBoost trains on labelled rows",
            "hint": "set with_label: true in DataTransform for every guest and host",
        }
    classes: list[float] = []
    if param.task_type == "classification":
        classes = sorted({float(label) for setup in setups for label in setup["labels"]})
        # FATE's homo boosting needs labels 0..k-1 once aligned over the clients.
        if classes != [float(i) for i in range(len(classes))] or len(classes) < 2:
            return {
                "error": "data",
                "problem": f"{component}: classification labels must be the consecutive integers from 0 over "
                f"all clients; they are {classes[:10]}",
                "hint": "map the labels to 0..k-1 (LabelTransform or DataTransform)",
            }
    warm = {setup.get("warm") for setup in setups}
    if len(warm) > 1:
        return {
            "error": "mismatch",
            "problem": f"{component}: the clients warm-start from different models",
            "hint": "give every client the same model input",
        }
    with np.errstate(invalid="ignore"):
        low = np.fmin.reduce(np.asarray([s["min"] for s in setups], dtype=np.float64), axis=0)
        high = np.fmax.reduce(np.asarray([s["max"] for s in setups], dtype=np.float64), axis=0)
    seed = param.random_seed
    return {
        "min": [float(v) for v in low],
        "max": [float(v) for v in high],
        "classes": classes,
        "seed": secrets.randbits(62) if seed is None else seed,
    }


class Arbiter:
    def __init__(self, ctx: ComponentContext[HomoSecureBoostParam]) -> None:
        self.ctx = ctx
        self.param = ctx.params
        self.clients = clients_of(ctx.plan.roles)
        self.server = AggregationServer(ctx.transfer, self.clients)
        self.rule = split_rule(ctx.params)

    def fit(self, previous: dict[str, Any] | None) -> dict[str, Any]:
        ctx, param, server = self.ctx, self.param, self.server
        setups = server.collect_setup()
        reply = check_clients(setups, param, ctx.component)
        server.answer_setup(setups, reply)
        raise_problem(reply)
        features = len(setups[0]["header"])
        server.send_result(server.collect_sum("totals", protocol.FRACTION_BITS), "totals")
        rounds = binning.server_split_points(server, ctx.transfer, self.clients[0].role)
        ctx.log.info("%s: global binning in %d round(s)", ctx.component, rounds)

        classes = len(reply["classes"])
        multi = classes > 2
        tree_dim = classes if multi and param.multi_mode == "single_output" else 1
        outputs = classes if multi and param.multi_mode == "multi_output" else 1
        start = int(previous["param"]["epochs"]) if previous else 0
        losses: list[float] = list(previous["param"]["loss_history"]) if previous else []
        previous_loss = losses[-1] if losses else None
        epochs, converged = start, False
        for epoch in range(start, start + param.num_trees):
            ctx.check_cancelled()
            for booster in range(tree_dim):
                valid = protocol.valid_features(
                    features, param.subsample_feature_rate, reply["seed"], epoch * tree_dim + booster
                )
                self._grow(protocol.tree_name(epoch, booster), features, outputs, valid)
            loss = float(server.collect_sum(f"loss.{epoch}", protocol.FRACTION_BITS)[0])
            converged = bool(
                param.n_iter_no_change and previous_loss is not None and abs(loss - previous_loss) < param.tol
            )
            server.send_result({"loss": loss, "stop": converged}, f"loss.{epoch}")
            losses.append(loss)
            previous_loss = loss
            epochs = epoch + 1
            ctx.tracker.log_metric("train", "loss", [[epoch, loss]], metric_type="LOSS")
            ctx.log.info("tree %d: global loss %.6g%s", epoch, loss, ", converged" if converged else "")
            ctx.progress(epoch + 1 - start, param.num_trees, f"loss {loss:.6g}")
            if converged:
                break
        ctx.tracker.log_metric(
            "train",
            "loss",
            [],
            metric_type="LOSS",
            meta={"unit_name": "iters", "curve_name": "loss", "Best": min(losses) if losses else None},
        )
        return {"epochs": epochs, "loss_history": losses, "is_converged": converged}

    def _grow(self, name: str, features: int, outputs: int, valid: np.ndarray) -> None:
        server, max_depth = self.server, self.param.tree_param.max_depth
        use_missing = self.param.missing_used
        tree = Tree()
        tree.add(0, party="local")
        totals: dict[int, Totals] = {}
        active = [0]
        for depth in range(max_depth):
            following: list[int] = []
            for batch_no, batch in enumerate(protocol.batches(active, self.param.tree_param.max_split_nodes)):
                level = protocol.level_name(name, depth, batch_no)
                vector = server.collect_sum(level, protocol.FRACTION_BITS)
                splits = []
                for node_id, (g, h, count) in zip(
                    batch, protocol.unpack(vector, len(batch), features, outputs), strict=True
                ):
                    if node_id not in totals:
                        totals[node_id] = (g[0].sum(axis=0), h[0].sum(axis=0), int(count[0].sum()))
                    split = self._split(tree, node_id, (g, h, count), totals, valid, use_missing)
                    if split is not None:
                        splits.append(split)
                        if depth + 1 < max_depth:
                            following += split[4:6]
                server.send_result({"splits": splits}, level)
            active = following
            if not active:
                break
        for node in tree.nodes:
            g_sum, h_sum, count_sum = totals[node.id]
            node.count = count_sum
            if node.is_leaf:
                weight = leaf_weight(g_sum, h_sum, self.rule)
                node.weight = (
                    [float(v) for v in np.ravel(weight)] if outputs > 1 else float(np.ravel(weight)[0])
                )
        server.send_result(tree.to_json(), f"{name}.tree")

    def _split(
        self,
        tree: Tree,
        node_id: int,
        histograms: tuple[np.ndarray, np.ndarray, np.ndarray],
        totals: dict[int, Totals],
        valid: np.ndarray,
        use_missing: bool,
    ) -> list[Any] | None:
        g, h, count = histograms
        bins = count.shape[1] - 1
        g_sum, h_sum, n = totals[node_id]
        missing = (g[valid, bins], h[valid, bins], count[valid, bins]) if use_missing else None
        best = best_split(
            g[valid, :bins], h[valid, :bins], count[valid, :bins], g_sum, h_sum, n, self.rule, missing=missing
        )
        if best is None:
            return None
        node = tree.nodes[node_id]
        left = tree.add(node.depth + 1, party="local")
        right = tree.add(node.depth + 1, party="local")
        node.is_leaf, node.feature, node.bin = False, int(valid[best.feature]), int(best.bin)
        node.missing_left, node.left, node.right, node.gain = best.missing_left, left.id, right.id, best.gain
        totals[left.id] = (best.left_g, best.left_h, best.left_count)
        totals[right.id] = (g_sum - best.left_g, h_sum - best.left_h, n - best.left_count)
        return [node_id, node.feature, node.bin, node.missing_left, left.id, right.id]
