"""The arbiter of HomoNN: it relays the clients' keys, sums their weighted states and decides convergence.

It sees no rows, no labels and no client's model: only the total aggregation weight, the averaged state
and the averaged loss of each round. Convergence is FATE's ``early_stop`` on the aggregated loss:
``diff`` when it changed by less than ``tol`` since the previous round, ``abs`` when it is below ``tol``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from accord.components.homo_lr.client import raise_problem
from accord.components.homo_lr.secure_aggregation import AggregationServer, clients_of
from accord.components.nn.homo.params import FedAvgParam, HomoNNParam
from accord.components.sdk import ComponentContext


def aggregation_round(epoch: int, trainer: FedAvgParam) -> bool:
    """FATE's rule: after every epoch, or after each ``aggregate_every_n_epoch``-th (0-based ``epoch``)."""
    every = trainer.aggregate_every_n_epoch
    return every is None or (epoch + 1) % every == 0


def converged(trainer: FedAvgParam, loss: float, previous: float | None) -> bool:
    if trainer.early_stop == "abs":
        return loss < trainer.tol
    if trainer.early_stop == "diff":
        return previous is not None and abs(loss - previous) < trainer.tol
    return False


def check_clients(setups: Sequence[dict[str, Any]], component: str) -> dict[str, Any] | None:
    """What is wrong with the clients' data or models, as a reply every party raises the same error from."""
    if (
        len({str(setup["header"]) for setup in setups}) > 1
        or len({int(setup["width"]) for setup in setups}) > 1
    ):
        return {
            "error": "mismatch",
            "problem": f"{component}: the clients' features differ; HomoNN needs the same features, in the "
            "same order, on every guest and host",
            "hint": "transform every party's data the same way (same DataTransform / FeatureScale settings)",
        }
    if len({int(setup["size"]) for setup in setups}) > 1:
        return {
            "error": "mismatch",
            "problem": f"{component}: the clients built models of different shapes",
            "hint": "give every guest and host the same nn_define",
        }
    return None


class ArbiterTrainer:
    def __init__(self, ctx: ComponentContext[HomoNNParam]) -> None:
        self.ctx = ctx
        self.trainer = ctx.params.fedavg(ctx.component)

    def fit(self) -> dict[str, Any]:
        ctx, trainer = self.ctx, self.trainer
        server = AggregationServer(ctx.transfer, clients_of(ctx.plan.roles))
        setups = server.collect_setup()
        problem = check_clients(setups, ctx.component)
        server.answer_setup(setups, problem or {})
        if problem is not None:
            raise_problem(problem)
        total = float(server.collect_sum("count", fraction_bits=0)[0])
        server.send_result(total, "count")

        losses: list[float] = []
        previous: float | None = None
        done, epoch = False, -1
        for epoch in range(trainer.epochs):
            ctx.check_cancelled()
            if not aggregation_round(epoch, trainer):
                continue
            summed = server.collect_sum(f"round.{epoch}")
            loss = float(summed[-1])
            done = converged(trainer, loss, previous)
            server.send_result({"model": summed[:-1], "loss": loss, "converged": done}, f"round.{epoch}")
            losses.append(loss)
            previous = loss
            ctx.tracker.log_metric("train", "loss", [[epoch, loss]], metric_type="LOSS")
            ctx.log.info(
                "epoch %d/%d: aggregated loss %.6g%s",
                epoch + 1,
                trainer.epochs,
                loss,
                ", converged" if done else "",
            )
            ctx.progress(epoch + 1, trainer.epochs, f"loss {loss:.6g}")
            if done:
                break
        ctx.tracker.log_metric(
            "train", "loss", [], metric_type="LOSS", meta={"unit_name": "epochs", "curve_name": "loss"}
        )
        return {"epochs": epoch + 1, "is_converged": done, "loss_history": losses}
