"""The guest's side of HeteroLR: it holds the labels and the intercept and drives the batches.

Per batch it adds its plaintext part of the fore-gradient, 0.25·(X_g·w_g + b) - 0.5·y± (Taylor
approximation of the logistic loss), to the hosts' encrypted [[0.25·X_h·w_h]], sends the encrypted
fore-gradient to the hosts and its own encrypted gradient (and the loss, with one host) to the arbiter,
and applies the step the arbiter sends back. It never sees a host's features or weights in clear.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from accord.components.evaluation.metrics import binary_metrics
from accord.components.hetero_lr import common
from accord.components.hetero_lr.optimizer import penalty_gradient, penalty_loss
from accord.components.hetero_lr.params import HeteroLRParam
from accord.components.sdk import ComponentContext, Dataset
from accord.federation.codec import public_key_from_dict

_LOG2 = math.log(2.0)


class GuestTrainer:
    def __init__(self, ctx: ComponentContext[HeteroLRParam]) -> None:
        self.ctx = ctx
        self.param = ctx.params
        self.transfer = ctx.transfer
        self.hosts = len(ctx.party_ids("host"))
        # The Taylor loss needs the square of the hosts' summed forward, which needs a single host.
        self.with_loss = self.hosts == 1

    def fit(self) -> dict[str, Any]:
        ctx, param = self.ctx, self.param
        train = _require(ctx.first_dataset("train_data", "data"), ctx.component)
        validate = ctx.input_dataset("validate_data")
        features, labels = train.features(), common.binary_labels(train, ctx.component)
        signed = 2.0 * labels - 1.0
        fit_intercept = param.init_param.fit_intercept
        weights = common.initial_weights(features.shape[1], param.init_param, with_intercept=fit_intercept)
        validate_every = param.validation_every if validate is not None else None
        batching = common.Batches(len(train), param)

        public_key = public_key_from_dict(self.transfer.get(role="arbiter", tag="public_key", index=0))
        setup = {
            "train": common.ids_digest(train.ids()),
            "validate": common.ids_digest(validate.ids()) if validate is not None else None,
            "validate_every": validate_every,
            "with_loss": self.with_loss,
        }
        self.transfer.remote(setup, role="host", tag="setup")
        self.transfer.remote(setup, role="arbiter", tag="setup", index=0)

        stopper = _EarlyStopping(param.stopping_rounds, param.validation_metrics)
        iterations, converged = 0, False
        for iteration in range(param.max_iter):
            ctx.check_cancelled()
            batches = batching.next_iteration()
            self.transfer.remote(batches, role="host", tag=f"batches.{iteration}")
            self.transfer.remote(len(batches), role="arbiter", tag=f"batches.{iteration}", index=0)
            for number, rows in enumerate(batches):
                tag = f"{iteration}.{number}"
                x, y = features[rows], signed[rows]
                self._batch(tag, x, y, weights, public_key, fit_intercept)
                step = self.transfer.get(role="arbiter", tag=f"step.{tag}", index=0)
                weights = weights - step
            iterations = iteration + 1
            converged = bool(self.transfer.get(role="arbiter", tag=f"converged.{iteration}", index=0))
            ctx.log.info(
                "iteration %d/%d: %d batches%s",
                iterations,
                param.max_iter,
                len(batches),
                ", converged" if converged else "",
            )
            ctx.progress(iterations, param.max_iter)
            stop = False
            if validate is not None and validate_every and iterations % validate_every == 0:
                scores = self._scores(validate, weights, f"validate.{iteration}")
                results = binary_metrics(
                    common.binary_labels(validate, ctx.component), scores, metrics=stopper.metrics
                )
                stop = stopper.update(iteration, results, ctx)
                self.transfer.remote(stop, role="host", tag=f"stop.{iteration}")
                self.transfer.remote(stop, role="arbiter", tag=f"stop.{iteration}", index=0)
            if converged or stop:
                break

        outputs = [
            common.predictions(
                train, self._scores(train, weights, "final.train"), self._threshold, common.TRAIN
            )
        ]
        if validate is not None:
            scores = self._scores(validate, weights, "final.validate")
            outputs.append(common.predictions(validate, scores, self._threshold, common.VALIDATE))
        ctx.save_data(common.concatenate(outputs))
        coef = weights[:-1] if fit_intercept else weights
        return {
            "header": list(train.header),
            "weight": {name: float(value) for name, value in zip(train.header, coef, strict=True)},
            "intercept": float(weights[-1]) if fit_intercept else 0.0,
            "fit_intercept": fit_intercept,
            "iters": iterations,
            "is_converged": converged,
            "best_iteration": stopper.best_iteration
            if stopper.best_iteration is not None
            else iterations - 1,
        }

    @property
    def _threshold(self) -> float:
        return self.param.predict_param.threshold

    def _batch(
        self,
        tag: str,
        x: np.ndarray,
        y: np.ndarray,
        weights: np.ndarray,
        public_key: Any,
        fit_intercept: bool,
    ) -> None:
        coef = weights[:-1] if fit_intercept else weights
        wx = x @ coef + (weights[-1] if fit_intercept else 0.0)
        count = len(y)
        forwards = self.transfer.get(role="host", tag=f"forward.{tag}")
        host_forward = forwards[0]["forward"]
        for extra in forwards[1:]:
            host_forward = host_forward + extra["forward"]
        fore_gradient = host_forward + (0.25 * wx - 0.5 * y)
        self.transfer.remote(fore_gradient, role="host", tag=f"fore_gradient.{tag}")
        gradient = fore_gradient.dot(x, self.param.dot_precision) * (1.0 / count)
        gradient = gradient + penalty_gradient(coef, self.param.penalty, self.param.alpha)
        if fit_intercept:
            gradient = type(gradient).concatenate([gradient, fore_gradient.sum() * (1.0 / count)])
        self.transfer.remote(gradient, role="arbiter", tag=f"gradient.guest.{tag}", index=0)
        if self.with_loss:
            self._loss(tag, forwards[0], wx, y, coef)

    def _loss(
        self, tag: str, forward: dict[str, Any], wx: np.ndarray, y: np.ndarray, coef: np.ndarray
    ) -> None:
        # mean(log 2 - 0.5·y±·u + 0.125·u²) with u = wx_g + wx_h, where the host's parts stay encrypted:
        # the cross terms are one ciphertext·plaintext product with the host's [[0.25·wx_h]].
        count = len(y)
        plain = float(np.sum(_LOG2 - 0.5 * y * wx + 0.125 * wx**2))
        coefficients = (4.0 * (-0.5 * y + 0.25 * wx))[:, None]
        cross = forward["forward"].dot(coefficients, self.param.dot_precision)
        total = (cross + forward["square_sum"] * 0.125 + plain) * (1.0 / count)
        total = total + forward["penalty"] + penalty_loss(coef, self.param.penalty, self.param.alpha)
        self.transfer.remote(total, role="arbiter", tag=f"loss.{tag}", index=0)

    def _scores(self, dataset: Dataset, weights: np.ndarray, tag: str) -> np.ndarray:
        """Scores of ``dataset``'s rows: the hosts send X_h·w_h for them in clear, as in FATE's predict."""
        fit_intercept = self.param.init_param.fit_intercept
        coef = weights[:-1] if fit_intercept else weights
        wx = dataset.features() @ coef + (weights[-1] if fit_intercept else 0.0)
        for host_wx in self.transfer.get(role="host", tag=f"wx.{tag}"):
            wx = wx + host_wx
        return common.sigmoid(wx)


def _require(dataset: Dataset | None, component: str) -> Dataset:
    if dataset is None:
        from accord.errors import DataFormatError

        raise DataFormatError(f"{component} has no train_data input", hint="wire train_data in the DSL")
    return dataset


class _EarlyStopping:
    """FATE's EarlyStopping callback: stop when no validation metric improved for ``rounds`` checks."""

    def __init__(self, rounds: int | None, metrics: list[str]) -> None:
        self.rounds = rounds
        self.metrics = [name for name in metrics if name in ("auc", "ks")] or ["auc"]
        self.best: dict[str, float] = {}
        self.best_iteration: int | None = None
        self.stale = 0

    def update(self, iteration: int, results: dict[str, Any], ctx: ComponentContext[HeteroLRParam]) -> bool:
        improved = False
        for name in self.metrics:
            value = float(results[name].value)
            ctx.tracker.log_metric(
                "validate",
                f"{ctx.component}.{name}",
                [[iteration, value]],
                metric_type="VALIDATION_EVALUATION",
            )
            if value > self.best.get(name, -math.inf):
                self.best[name] = value
                improved = True
        if improved:
            self.best_iteration, self.stale = iteration, 0
        else:
            self.stale += 1
        return self.rounds is not None and self.stale >= self.rounds
