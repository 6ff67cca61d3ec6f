"""A client's side of HomoLR (every guest and every host): local epochs, then secure aggregation.

Each epoch walks the local rows in batches of ``batch_size`` (in data order, as FATE 1.11's FedAVG
trainer does), and steps the weights with the exact logistic-loss gradient plus the penalty (and
FedProx's proximal term when ``use_proximal``). Every ``aggregate_iters`` epochs, and after the last,
the client sends its weights and its epoch loss, both scaled by its share of all rows, masked, to the
arbiter; it continues from the weighted average the arbiter sends back with the convergence verdict.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

import numpy as np

from accord.components.evaluation.metrics import binary_metrics
from accord.components.hetero_lr import common
from accord.components.hetero_lr.optimizer import Optimizer, penalty_gradient
from accord.components.homo_lr.params import HomoLRParam
from accord.components.homo_lr.secure_aggregation import AggregationClient, clients_of, job_context
from accord.components.sdk import ComponentContext, Dataset
from accord.errors import AccordError, ComponentParameterError, DataFormatError, DataMismatchError

_LABEL_SAMPLE = 11
_ERRORS: dict[str, type[AccordError]] = {
    "mismatch": DataMismatchError,
    "data": DataFormatError,
    "param": ComponentParameterError,
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
    def __init__(self, ctx: ComponentContext[HomoLRParam]) -> None:
        self.ctx = ctx
        self.param = ctx.params

    def fit(self) -> dict[str, Any]:
        ctx, param = self.ctx, self.param
        train = ctx.first_dataset("train_data", "data")
        if train is None:
            raise DataFormatError(
                f"{ctx.component} has no train_data input", hint="wire train_data in the DSL"
            )
        validate = ctx.input_dataset("validate_data")
        features, labels = train.features(), train.labels()
        aggregator = AggregationClient(
            ctx.transfer,
            clients_of(ctx.plan.roles),
            job_context(ctx.job_id, ctx.component, ctx.task.task_version),
        )
        reply = aggregator.setup(
            {
                "header": header_digest(train.header),
                "width": features.shape[1],
                "labels": None if labels is None else np.unique(labels)[:_LABEL_SAMPLE].tolist(),
            }
        )
        raise_problem(reply)
        assert labels is not None  # the arbiter refused label-less clients above
        sample_weights = train.weights()
        init = param.init_param.model_copy(update={"random_seed": reply["seed"]})
        weights = common.initial_weights(features.shape[1], init, with_intercept=param.fit_intercept)

        # Each client's share of all rows: the arbiter only ever learns the total.
        aggregator.send(np.array([len(train)], dtype=np.float64), "count", fraction_bits=0)
        share = len(train) / float(aggregator.receive("count"))

        optimizer = Optimizer(
            param.optimizer, param.learning_rate, decay=param.decay, decay_sqrt=param.decay_sqrt
        )
        anchor = weights.copy()
        history: list[float] = []
        iterations, converged = 0, False
        for epoch in range(param.max_iter):
            ctx.check_cancelled()
            loss = self._epoch(features, labels, sample_weights, weights, anchor, optimizer, epoch)
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
            if validate is not None and every and iterations % every == 0:
                self._validate(validate, weights, epoch)
            if converged:
                break

        threshold = param.predict_param.threshold
        outputs = [common.predictions(train, self.scores(train, weights), threshold, common.TRAIN)]
        if validate is not None:
            outputs.append(
                common.predictions(validate, self.scores(validate, weights), threshold, common.VALIDATE)
            )
        ctx.save_data(common.concatenate(outputs))
        coef = weights[:-1] if param.fit_intercept else weights
        return {
            "header": list(train.header),
            "weight": {name: float(value) for name, value in zip(train.header, coef, strict=True)},
            "intercept": float(weights[-1]) if param.fit_intercept else 0.0,
            "fit_intercept": param.fit_intercept,
            "iters": iterations,
            "is_converged": converged,
            "loss_history": history,
            "best_iteration": int(np.argmin(history)),
        }

    def _batches(self, count: int) -> list[np.ndarray]:
        size = count if self.param.batch_size == -1 else min(self.param.batch_size, count)
        return [np.arange(start, min(start + size, count)) for start in range(0, count, size)]

    def _epoch(
        self,
        features: np.ndarray,
        labels: np.ndarray,
        sample_weights: np.ndarray | None,
        weights: np.ndarray,
        anchor: np.ndarray,
        optimizer: Optimizer,
        epoch: int,
    ) -> float:
        """One local epoch, updating ``weights`` in place; the mean loss over the epoch's batches."""
        param, fit_intercept = self.param, self.param.fit_intercept
        total = 0.0
        for rows in self._batches(len(labels)):
            x, y = features[rows], labels[rows]
            row_weight = np.ones(len(rows)) if sample_weights is None else sample_weights[rows]
            coef = weights[:-1] if fit_intercept else weights
            z = x @ coef + (weights[-1] if fit_intercept else 0.0)
            # log(1 + e^z) - y·z: the logistic loss, computed without overflow.
            total += float(np.sum(row_weight * (np.logaddexp(0.0, z) - y * z)))
            residual = row_weight * (common.sigmoid(z) - y)
            gradient = x.T @ residual / len(rows) + penalty_gradient(coef, param.penalty, param.alpha)
            if fit_intercept:
                gradient = np.append(gradient, residual.mean())
            if param.use_proximal:
                gradient = gradient + param.mu * (weights - anchor)
            weights -= optimizer.step(gradient, epoch)
        return total / len(labels)

    def scores(self, dataset: Dataset, weights: np.ndarray) -> np.ndarray:
        fit_intercept = self.param.fit_intercept
        coef = weights[:-1] if fit_intercept else weights
        return common.sigmoid(dataset.features() @ coef + (weights[-1] if fit_intercept else 0.0))

    def _validate(self, validate: Dataset, weights: np.ndarray, epoch: int) -> None:
        labels = validate.labels()
        if labels is None or len(np.unique(labels)) < 2:
            return
        results = binary_metrics(
            labels, self.scores(validate, weights), metrics=self.param.validation_metrics
        )
        for name, result in results.items():
            if result.value is None:
                continue
            self.ctx.tracker.log_metric(
                "validate",
                f"{self.ctx.component}.{name}",
                [[epoch, float(result.value)]],
                metric_type="VALIDATION_EVALUATION",
            )
