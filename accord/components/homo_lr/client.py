"""A client's side of HomoLR (every guest and every host): local epochs, then secure aggregation.

Each epoch walks the local rows in batches of ``batch_size`` (in data order, as FATE 1.11's FedAVG
trainer does), and steps the weights with the exact logistic-loss gradient plus the penalty (and
FedProx's proximal term when ``use_proximal``). Every ``aggregate_iters`` epochs, and after the last,
the client sends its weights and its epoch loss, both scaled by its share of all rows, masked, to the
arbiter; it continues from the weighted average the arbiter sends back with the convergence verdict.
"""

from __future__ import annotations

import functools
import hashlib
import json
from typing import Any

import numpy as np

from accord.components.evaluation.metrics import binary_metrics
from accord.components.hetero_lr import common, kernels, tables, warm
from accord.components.hetero_lr.optimizer import Optimizer, penalty_gradient
from accord.components.hetero_lr.tables import Concatenated
from accord.components.homo_lr import blocks
from accord.components.homo_lr.params import HomoLRParam
from accord.components.homo_lr.secure_aggregation import AggregationClient, clients_of, job_context
from accord.components.sdk import ComponentContext, DataTable
from accord.computing import BlockTable
from accord.errors import (
    AccordError,
    ComponentFeatureUnsupported,
    ComponentParameterError,
    DataFormatError,
    DataMismatchError,
)

_LABEL_SAMPLE = 11
_ERRORS: dict[str, type[AccordError]] = {
    "mismatch": DataMismatchError,
    "data": DataFormatError,
    "param": ComponentParameterError,
    "unsupported": ComponentFeatureUnsupported,
}


def header_digest(header: tuple[str, ...] | list[str]) -> str:
    return hashlib.sha256(json.dumps(list(header)).encode()).hexdigest()


def aggregation_round(epoch: int, param: HomoLRParam) -> bool:
    """Whether the clients aggregate after ``epoch`` (0-based): every aggregate_iters, and the last."""
    return (epoch + 1) % param.aggregate_iters == 0 or epoch == param.max_iter - 1


def raise_problem(reply: dict[str, Any]) -> None:
    if reply.get("problem"):
        error = _ERRORS.get(str(reply.get("error")), DataMismatchError)
        raise error(str(reply["problem"]), hint=reply.get("hint"))


class ClientTrainer:
    def __init__(self, ctx: ComponentContext[HomoLRParam], meta: dict[str, Any] | None = None) -> None:
        self.ctx = ctx
        self.param = ctx.params
        # ModelCheckpoint: ``meta`` is the model's meta, as the component saves it.
        self.checkpoints = warm.Checkpoints(ctx, meta or {})

    def fit(self) -> dict[str, Any]:
        ctx, param = self.ctx, self.param
        train = tables.input_rows(ctx, "train_data", "data")
        if train is None:
            raise DataFormatError(
                f"{ctx.component} has no train_data input", hint="wire train_data in the DSL"
            )
        validate = tables.input_rows(ctx, "validate_data")
        rows = blocks.prepared(train)
        count = int(rows.aggregate(0, blocks.row_count, blocks.add))
        width = len(train.header)
        nothing: list[set[float] | None] = []
        classes = kernels.classes_of(rows.aggregate(nothing, kernels.label_classes, kernels.concat))
        labels = None if classes is None else sorted(classes)[:_LABEL_SAMPLE]
        aggregator = AggregationClient(
            ctx.transfer,
            clients_of(ctx.plan.roles),
            job_context(ctx.job_id, ctx.component, ctx.task.task_version),
        )
        # Warm start (hetero_lr/warm.py): what is wrong with a client's model goes through the setup,
        # so that every party stops with the same error.
        start, before, resumed, problem = 0, [], None, None
        try:
            model = warm.warm_model(ctx)
            if model is not None:
                header = list(train.header)
                resumed = warm.party_weights(model, header, ctx.component, fit_intercept=param.fit_intercept)
                start, before = warm.iterations_of(model), list(model["param"].get("loss_history", []))
        except AccordError as error:
            problem = error.message
        reply = aggregator.setup(
            {
                "header": header_digest(train.header),
                "width": width,
                "labels": labels,
                "start": start,
                "warm": problem,
            }
        )
        raise_problem(reply)
        init = param.init_param.model_copy(update={"random_seed": reply["seed"]})
        weights = common.initial_weights(width, init, with_intercept=param.fit_intercept)
        if resumed is not None:
            weights = resumed
            ctx.log.info("warm start: continuing from a model of %d epochs", start)

        # Each client's share of all rows: the arbiter only ever learns the total.
        aggregator.send(np.array([count], dtype=np.float64), "count", fraction_bits=0)
        share = count / float(aggregator.receive("count"))

        optimizer = Optimizer(
            param.optimizer, param.learning_rate, decay=param.decay, decay_sqrt=param.decay_sqrt
        )
        anchor = weights.copy()
        history: list[float] = [float(loss) for loss in before]
        iterations, converged = start, False
        valid_rows = blocks.prepared(validate) if validate is not None else None
        for epoch in range(start, param.max_iter):
            ctx.check_cancelled()
            loss = self._epoch(rows, count, weights, anchor, optimizer, epoch)
            history.append(loss)
            ctx.tracker.log_metric("train", "local_loss", [[epoch, loss]], metric_type="LOSS")
            iterations = epoch + 1
            if aggregation_round(epoch, param):
                aggregator.send(np.append(weights, loss) * share, f"round.{epoch}")
                result = aggregator.receive(f"round.{epoch}")
                weights = np.asarray(result["model"], dtype=np.float64)
                anchor = weights.copy()
                converged = bool(result["converged"])
            ctx.log.info(
                "epoch %d/%d: local loss %.6g%s",
                iterations,
                param.max_iter,
                loss,
                ", converged" if converged else "",
            )
            ctx.progress(iterations, param.max_iter, f"loss {loss:.6g}")
            every = param.validation_every
            if valid_rows is not None and every and iterations % every == 0:
                self._validate(valid_rows, weights, epoch)
            self.checkpoints.after(
                epoch,
                functools.partial(
                    self._param, list(train.header), weights.copy(), iterations, converged, list(history)
                ),
            )
            if converged:
                break

        threshold = param.predict_param.threshold
        coef, intercept = self._split(weights)
        outputs = [blocks.predicted(train, coef, intercept, threshold, common.TRAIN)]
        if validate is not None:
            outputs.append(blocks.predicted(validate, coef, intercept, threshold, common.VALIDATE))
        ctx.save_table(DataTable(Concatenated(outputs), "predict"))
        rows.unpersist()
        if valid_rows is not None:
            valid_rows.unpersist()
        return self._param(list(train.header), weights, iterations, converged, history)

    def _param(
        self, header: list[str], weights: np.ndarray, iterations: int, converged: bool, history: list[float]
    ) -> dict[str, Any]:
        """The client's model param after ``iterations`` epochs in all (a warm start's included)."""
        coef, _ = self._split(weights)
        return {
            "header": header,
            "weight": {name: float(value) for name, value in zip(header, coef, strict=True)},
            "intercept": float(weights[-1]) if self.param.fit_intercept else 0.0,
            "fit_intercept": self.param.fit_intercept,
            "iters": iterations,
            "is_converged": converged,
            "loss_history": history,
            "best_iteration": int(np.argmin(history)) if history else -1,
        }

    def _split(self, weights: np.ndarray) -> tuple[np.ndarray, float]:
        if self.param.fit_intercept:
            return weights[:-1], float(weights[-1])
        return weights, 0.0

    def _epoch(
        self,
        rows: BlockTable,
        count: int,
        weights: np.ndarray,
        anchor: np.ndarray,
        optimizer: Optimizer,
        epoch: int,
    ) -> float:
        """One local epoch, updating ``weights`` in place; the mean loss over the epoch's batches."""
        param, fit_intercept = self.param, self.param.fit_intercept
        size = count if param.batch_size == -1 else min(param.batch_size, count)
        if size >= count:
            # One batch: the partitions' sums at the same weights, computed on the engine.
            nothing: blocks.Sums | None = None
            fn = functools.partial(blocks.partition_sums, weights.copy(), fit_intercept)
            found = rows.aggregate(nothing, fn, blocks.add_sums)
            batches = iter([found] if found is not None and found.rows else [])
        else:
            batches = (
                functools.reduce(
                    blocks.Sums.__add__,
                    (blocks.piece(x, y, w, weights, fit_intercept) for x, y, w in batch),
                )
                for batch in blocks.pieces(rows, size)
            )
        total = 0.0
        for sums in batches:
            coef = weights[:-1] if fit_intercept else weights
            total += sums.loss
            gradient = sums.gradient / sums.rows + penalty_gradient(coef, param.penalty, param.alpha)
            if fit_intercept:
                gradient = np.append(gradient, sums.residual / sums.rows)
            if param.use_proximal:
                gradient = gradient + param.mu * (weights - anchor)
            weights -= optimizer.step(gradient, epoch)
        return total / count

    def _validate(self, rows: BlockTable, weights: np.ndarray, epoch: int) -> None:
        coef, intercept = self._split(weights)
        nothing: list[np.ndarray] = []
        parts = rows.aggregate(nothing, functools.partial(blocks.scores_of, coef, intercept), blocks.concat)
        joined = np.concatenate(parts, axis=1) if parts else np.zeros((2, 0))
        labels, scores = joined[0], joined[1]
        if len(np.unique(labels)) < 2:
            return
        results = binary_metrics(labels, scores, metrics=self.param.validation_metrics)
        for name, result in results.items():
            if result.value is None:
                continue
            self.ctx.tracker.log_metric(
                "validate",
                f"{self.ctx.component}.{name}",
                [[epoch, float(result.value)]],
                metric_type="VALIDATION_EVALUATION",
            )
