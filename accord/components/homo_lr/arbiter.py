"""The arbiter's side of HomoLR: it relays the clients' public keys, sums their masked vectors and
decides convergence.

It sees no rows, no labels and no client's weights: only the total row count, the weighted average
model and the weighted average loss of each aggregation round. Convergence follows FATE's
``early_stop``: ``diff`` when the aggregated loss changed by less than ``tol`` since the last round,
``abs`` when it is below ``tol``, ``weight_diff`` when the aggregated model moved by less than ``tol``
(Euclidean norm).
"""

from __future__ import annotations

import functools
import secrets
from collections.abc import Sequence
from typing import Any

import numpy as np

from accord.components.hetero_lr import warm
from accord.components.homo_lr.client import aggregation_round, raise_problem
from accord.components.homo_lr.params import HomoLRParam
from accord.components.homo_lr.secure_aggregation import AggregationServer, clients_of
from accord.components.sdk import ComponentContext


def check_clients(setups: Sequence[dict[str, Any]], component: str) -> dict[str, Any] | None:
    """What is wrong with the clients' data, as a reply every party raises the same error from."""
    widths = {int(setup["width"]) for setup in setups}
    headers = {str(setup["header"]) for setup in setups}
    if len(widths) > 1 or len(headers) > 1:
        return {
            "error": "mismatch",
            "problem": f"{component}: the clients' features differ (widths {sorted(widths)}); HomoLR needs "
            "the same features, in the same order, on every guest and host",
            "hint": "transform every party's data the same way (same DataTransform / FeatureScale settings)",
        }
    warm_problems = [str(setup["warm"]) for setup in setups if setup.get("warm")]
    if warm_problems:
        return {
            "error": "mismatch",
            "problem": warm_problems[0],
            "hint": "continue every client from the model of the same HomoLR component, on the same features",
        }
    starts = sorted({int(setup.get("start") or 0) for setup in setups})
    if len(starts) > 1:
        return {
            "error": "mismatch",
            "problem": f"{component}: the clients continue from models of {starts} iterations",
            "hint": "wire the model of the same training component into every guest and host",
        }
    if any(setup["labels"] is None for setup in setups):
        return {
            "error": "data",
            "problem": f"{component}: a client's train data has no label; HomoLR trains on labelled rows",
            "hint": "set with_label: true in DataTransform for every guest and host",
        }
    classes = sorted({float(label) for setup in setups for label in setup["labels"]})
    if len(classes) > 2:
        return {
            # Valid data HomoLR does not run yet: 10127, which a testsuite reports as "not supported".
            "error": "unsupported",
            "problem": f"{component}: the labels have {len(classes)} or more classes; "
            "one-vs-rest multi-class HomoLR is not supported",
            "hint": "train a binary task (labels 0 and 1)",
        }
    if not set(classes) <= {0.0, 1.0}:
        return {
            "error": "data",
            "problem": f"{component}: HomoLR is binary and needs labels 0 and 1, the data has {classes}",
            "hint": "map the labels to 0 and 1 in DataTransform",
        }
    return None


class ArbiterTrainer:
    def __init__(self, ctx: ComponentContext[HomoLRParam], meta: dict[str, Any] | None = None) -> None:
        self.ctx = ctx
        self.param = ctx.params
        # ModelCheckpoint (on aggregation rounds): ``meta`` is the model's meta, as the component saves it.
        self.checkpoints = warm.Checkpoints(ctx, meta or {})

    def fit(self) -> dict[str, Any]:
        ctx, param = self.ctx, self.param
        server = AggregationServer(ctx.transfer, clients_of(ctx.plan.roles))
        setups = server.collect_setup()
        problem = check_clients(setups, ctx.component)
        seed = param.init_param.random_seed
        reply = problem or {"seed": secrets.randbits(62) if seed is None else seed}
        server.answer_setup(setups, reply)
        if problem is not None:
            raise_problem(problem)

        total = round(float(server.collect_sum("count", fraction_bits=0)[0]))
        server.send_result(total, "count")

        # Warm start: every client continues from the same epoch; the arbiter's model has the losses.
        start = int(setups[0].get("start") or 0)
        resumed = warm.warm_model(ctx)
        warm.check_start(ctx, resumed, start)
        losses = [float(v) for v in resumed["param"].get("loss_history", [])] if resumed else []
        previous_loss: float | None = losses[-1] if losses else None
        previous_model: np.ndarray | None = None
        iterations, converged = start, False
        for epoch in range(start, param.max_iter):
            ctx.check_cancelled()
            iterations = epoch + 1
            if not aggregation_round(epoch, param):
                continue
            summed = server.collect_sum(f"round.{epoch}")
            model, loss = summed[:-1], float(summed[-1])
            converged = self._converged(loss, previous_loss, model, previous_model)
            server.send_result({"model": model, "loss": loss, "converged": converged}, f"round.{epoch}")
            losses.append(loss)
            ctx.tracker.log_metric("train", "loss", [[epoch, loss]], metric_type="LOSS")
            previous_loss, previous_model = loss, model
            ctx.log.info(
                "epoch %d/%d: aggregated loss %.6g%s",
                iterations,
                param.max_iter,
                loss,
                ", converged" if converged else "",
            )
            ctx.progress(iterations, param.max_iter, f"loss {loss:.6g}")
            self.checkpoints.after(epoch, functools.partial(_param, iterations, converged, list(losses)))
            if converged:
                break
        ctx.tracker.log_metric(
            "train", "loss", [], metric_type="LOSS", meta={"unit_name": "iters", "curve_name": "loss"}
        )
        return _param(iterations, converged, losses)

    def _converged(
        self, loss: float, previous: float | None, model: np.ndarray, previous_model: np.ndarray | None
    ) -> bool:
        tol = self.param.tol
        if self.param.early_stop == "weight_diff":
            return previous_model is not None and bool(np.linalg.norm(model - previous_model) < tol)
        if self.param.early_stop == "abs":
            return loss < tol
        return previous is not None and abs(loss - previous) < tol


def _param(iterations: int, converged: bool, losses: list[float]) -> dict[str, Any]:
    """The arbiter's model param: the epoch count, convergence and the aggregated loss of each round."""
    return {"iters": iterations, "is_converged": converged, "loss_history": losses}
