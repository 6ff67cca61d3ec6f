"""FATE's SSHE training protocol, one class for both parties (the protocol is symmetric).

Every weight vector is held as additive shares in a canonical order, the guest's weights (its
intercept last when it fits one) then the host's. Per batch:

1. ``z = X_g·w_g + X_h·w_h`` on shares: each party multiplies its features by its own share locally and,
   unless weights are revealed every iteration (then the other party's share of a party's weights is
   zero), by the other party's share with the HE share product.
2. The error on shares: LR ``0.25·z + 0.5 - y`` (FATE's Taylor sigmoid), LinR ``z - y``; the guest adds
   the label term to its share.
3. The gradient ``X^T·e / n`` on shares, the same way (each party's features times the other's error
   share under HE).
4. reveal_every_iter: each gradient is revealed to its owner only, who steps its own weights with the
   optimizer in the clear. Otherwise the step runs on the shares (sgd or Nesterov, linear in the
   gradient; L2 folded in).

Loss (early_stop diff / abs) and the weight difference (weight_diff) are revealed to the guest as
single numbers, as FATE does. At the end the weights are revealed to their owner ("respectively"), or
the host's stay encrypted under the guest's key ("encrypted_reveal_in_host").
"""

from __future__ import annotations

import functools
import math
from typing import Any

import numpy as np

from accord.components.evaluation.metrics import binary_metrics
from accord.components.evaluation.regression import regression_metrics
from accord.components.hetero_lr import common, warm
from accord.components.hetero_lr.early_stopping import EarlyStopping
from accord.components.hetero_lr.optimizer import _NESTEROV_MOMENTUM, Optimizer, penalty_gradient
from accord.components.sdk import ComponentContext
from accord.components.sshe import rows as row_ops
from accord.components.sshe import shares
from accord.components.sshe.params import SSHEParam, model_meta
from accord.components.sshe.rows import LOGISTIC, Rows
from accord.components.sshe.shares import (
    FRACTION_BITS,
    RING,
    ShareSession,
    decode,
    encode,
    matmul,
    plain_matrix,
)
from accord.errors import ComponentFeatureUnsupported, DataFormatError


class SSHETrainer:
    def __init__(self, ctx: ComponentContext[Any], link: str) -> None:
        self.ctx = ctx
        self.link = link
        self.param: SSHEParam = ctx.params
        self.guest = ctx.role == "guest"
        hosts = len(ctx.party_ids("host"))
        if hosts != 1:
            raise ComponentFeatureUnsupported(
                f"{ctx.component}: role.host has {hosts} parties; FATE's SSHE models take exactly one host",
                hint="run the job with a single host",
            )
        self.reveal = self.param.reveal_every_iter
        self.fit_intercept = self.param.init_param.fit_intercept

    # ---- set-up ---------------------------------------------------------------------------------

    def _load(self) -> tuple[Rows, Rows | None]:
        ctx = self.ctx
        slot = "train_data" if "train_data" in ctx.data_slots() else "data"
        train = row_ops.load(ctx, slot, link=self.link, need_labels=True)
        if train is None:
            raise DataFormatError(f"{ctx.component} trains but has no train_data input")
        validate = row_ops.load(ctx, "validate_data", link=self.link, need_labels=True)
        row_ops.agree_count(ctx, train, "train")
        row_ops.agree_count(ctx, validate, "validate")
        return train, validate

    def fit(self) -> dict[str, Any]:
        ctx, param = self.ctx, self.param
        train, validate = self._load()
        own_intercept = self.guest and self.fit_intercept
        x = row_ops.design(train.features, own_intercept)
        session = ShareSession(ctx, param.encrypt_param.key_length)
        session.send(x.shape[1], "width")
        peer_width = int(session.receive("width"))
        widths = (x.shape[1], peer_width) if self.guest else (peer_width, x.shape[1])
        self.own = slice(0, widths[0]) if self.guest else slice(widths[0], sum(widths))
        self.other = slice(widths[0], sum(widths)) if self.guest else slice(0, widths[0])
        # 1 for a weight the penalty applies to, 0 for the intercept.
        self.penalized = np.ones(sum(widths))
        if self.fit_intercept:
            self.penalized[widths[0] - 1] = 0.0

        header = list(train.data.header)
        if self.guest:
            self.weighted = train.weights is not None
            session.send(self.weighted, "weighted")
            session.next_step()
        else:
            self.weighted = bool(session.receive("weighted"))
        warm_from = self._warm_start(session)
        if warm_from is None:
            weights = common.initial_weights(
                train.features.shape[1], param.init_param, with_intercept=own_intercept
            )
        else:
            weights = warm.party_weights(warm_from, header, ctx.component, fit_intercept=own_intercept)
        shared = shares.zeros(sum(widths))
        shared[self.own] = encode(weights)
        if not self.reveal:
            # Share the initial weights: the owner keeps w - m and hands the random m to the other party.
            mask = shares.random_ring(len(weights))
            session.send([int(v) for v in mask], "init")
            received = np.array([int(v) for v in session.receive("init")], dtype=object)
            shared[self.own] = (shared[self.own] - mask) % RING
            shared[self.other] = received
        optimizer = Optimizer(
            param.optimizer, param.learning_rate, decay=param.decay, decay_sqrt=param.decay_sqrt
        )
        velocity = shares.zeros(sum(widths))
        size = len(train) if param.batch_size == -1 else min(param.batch_size, len(train))
        batches = [np.arange(start, min(start + size, len(train))) for start in range(0, len(train), size)]
        validate_every = param.validation_every if validate is not None and self.reveal else None
        stopper = self._stopper()
        start = warm.iterations_of(warm_from)
        history = warm_from["param"].get("loss_history", []) if warm_from is not None and self.guest else []
        losses: list[float] = [float(v) for v in history]
        checkpoints = warm.Checkpoints(ctx, model_meta(param))
        converged, iterations = False, start
        for iteration in range(start, param.max_iter):
            ctx.check_cancelled()
            before = shared.copy()
            total_loss = 0.0
            for rows in batches:
                loss, gradient = self._batch(session, x[rows], train, rows, shared)
                if loss is not None:
                    total_loss += loss * len(rows)
                if self.reveal:
                    weights = self._revealed_step(session, gradient, weights, optimizer, iteration)
                    shared = shares.zeros(sum(widths))
                    shared[self.own] = encode(weights)
                else:
                    shared, velocity = self._shared_step(
                        session, shared, gradient, velocity, optimizer, iteration
                    )
            iterations = iteration + 1
            converged = self._converged(session, iteration, total_loss / len(train), losses, before, shared)
            ctx.progress(iterations, param.max_iter, f"loss {losses[-1]:.6g}" if losses else "")
            stop = False
            if validate is not None and validate_every and iterations % validate_every == 0:
                stop = self._validate(validate, weights, iteration, stopper)
            if checkpoints.every and iteration % checkpoints.every == 0:
                own = weights if self.reveal else self._revealed_own(session, shared)
                state = {"iters": iterations, "is_converged": converged, "loss_history": list(losses)}
                checkpoints.after(iteration, functools.partial(self.plain_param, header, own, state))
            if converged or stop:
                break
        return self._finish(session, train, validate, shared, weights, iterations, converged, losses)

    def _warm_start(self, session: ShareSession) -> dict[str, Any] | None:
        """The model this run continues from (FATE's warm start); both parties must have one, of the
        same number of iterations."""
        model = warm.warm_model(self.ctx)
        if model is not None and "encrypted_weight" in model["param"]:
            raise ComponentFeatureUnsupported(
                f"{self.ctx.component}: warm start from a model whose host weights are encrypted "
                "(reveal_strategy encrypted_reveal_in_host) is not supported",
                hint="continue from a model trained with reveal_strategy respectively",
            )
        if self.guest:
            session.send(warm.iterations_of(model), "start")
            session.next_step()
        else:
            warm.check_start(self.ctx, model, int(session.receive("start")))
        return model

    def _revealed_own(self, session: ShareSession, shared: np.ndarray) -> np.ndarray:
        """Each party's own weights from the shares (the other party learns nothing)."""
        guest_block, host_block = (self.own, self.other) if self.guest else (self.other, self.own)
        first = session.reveal(shared[guest_block], "guest")
        second = session.reveal(shared[host_block], "host")
        mine = first if self.guest else second
        assert mine is not None
        return decode(mine)

    def plain_param(self, header: list[str], weights: np.ndarray, state: dict[str, Any]) -> dict[str, Any]:
        """A model param of revealed weights: the guest's with its intercept, a host's weights only."""
        param: dict[str, Any] = {"header": header, "reveal_strategy": self.param.reveal_strategy, **state}
        if self.guest and self.fit_intercept:
            param["intercept"] = float(weights[-1])
            weights = weights[:-1]
        elif self.guest:
            param["intercept"] = 0.0
        param["weight"] = dict(zip(header, (float(v) for v in weights), strict=True))
        if not self.guest:
            param.pop("loss_history", None)
        return param

    # ---- one batch ------------------------------------------------------------------------------

    def _batch(
        self, session: ShareSession, x: np.ndarray, train: Rows, rows: np.ndarray, shared: np.ndarray
    ) -> tuple[float | None, np.ndarray]:
        count = len(rows)
        matrix = plain_matrix(x)
        z2 = matmul(matrix, shared[self.own])
        if not self.reveal:
            held, mine = session.products(matrix, shared[self.other])
            assert held is not None and mine is not None
            z2 = (z2 + held + mine) % RING
        z = session.truncate(z2)
        labels = train.labels[rows] if self.guest and train.labels is not None else None
        if self.link == LOGISTIC:
            error = session.truncate(z2, FRACTION_BITS + 2)
            if labels is not None:
                error = (error + encode(0.5 - labels)) % RING
        else:
            error = z if labels is None else (z + encode(-labels)) % RING
        loss = self._loss(session, z, labels, count) if self.param.early_stop != "weight_diff" else None
        if self.weighted:
            # FATE weighs the error of each row by its sample weight (the loss stays unweighted).
            factors = train.weights[rows] if train.weights is not None else None
            error = session.weighted(error, factors)
        transposed = plain_matrix(x / count).T
        held, mine = session.products(transposed, error)
        assert held is not None and mine is not None
        own = (matmul(transposed, error) + held) % RING
        gradient = np.concatenate([own, mine] if self.guest else [mine, own])
        return loss, session.truncate(gradient)

    def _loss(
        self, session: ShareSession, z: np.ndarray, labels: np.ndarray | None, count: int
    ) -> float | None:
        """FATE's loss of the batch, revealed to the guest: LR's Taylor log loss, LinR's squared error / 2."""
        if self.link == LOGISTIC:
            if labels is not None:
                local = int(np.sum(encode(4 - 8 * labels) * z + z * z) % RING)
                coefficients = (2 * z - encode(8 * labels)) % RING
            else:
                local, coefficients = int(np.sum(encode(np.full(len(z), 4.0)) * z + z * z) % RING), z
            total = session.reveal_sum_to_guest(local, coefficients)
            return None if total is None else math.log(2) + _real(total) / (8 * count)
        residual = z if labels is None else (z + encode(-labels)) % RING
        local = int(np.sum(residual * residual) % RING)
        total = session.reveal_sum_to_guest(local, (2 * residual) % RING if labels is not None else residual)
        return None if total is None else _real(total) / (2 * count)

    def _square_sum(self, session: ShareSession, vector: np.ndarray) -> float | None:
        local = int(np.sum(vector * vector) % RING)
        total = session.reveal_sum_to_guest(local, (2 * vector) % RING if self.guest else vector)
        return None if total is None else _real(total)

    # ---- steps ----------------------------------------------------------------------------------

    def _revealed_step(
        self,
        session: ShareSession,
        gradient: np.ndarray,
        weights: np.ndarray,
        optimizer: Optimizer,
        iteration: int,
    ) -> np.ndarray:
        first, second = (self.own, self.other) if self.guest else (self.other, self.own)
        mine_first = session.reveal(gradient[first], "guest")
        mine_second = session.reveal(gradient[second], "host")
        plain = decode(mine_first if self.guest else mine_second)  # type: ignore[arg-type]
        mask = self.penalized[self.own]
        plain = plain + mask * penalty_gradient(weights, self.param.penalty, self.param.alpha)
        updated: np.ndarray = weights - optimizer.step(plain, iteration)
        return updated

    def _shared_step(
        self,
        session: ShareSession,
        shared: np.ndarray,
        gradient: np.ndarray,
        velocity: np.ndarray,
        optimizer: Optimizer,
        iteration: int,
    ) -> tuple[np.ndarray, np.ndarray]:
        rate = optimizer.rate(iteration)
        alpha = self.param.alpha if self.param.penalty == "L2" else 0.0
        decay = rate * alpha * self.penalized
        if self.param.optimizer == "sgd":
            return session.scale([shared, gradient], [1.0 - decay, np.asarray(-rate)]), velocity
        momentum = _NESTEROV_MOMENTUM
        fresh = session.scale([velocity, gradient, shared], [np.asarray(momentum), np.asarray(-rate), -decay])
        moved = session.scale(
            [shared, velocity, fresh], [np.asarray(1.0), np.asarray(-momentum), np.asarray(1 + momentum)]
        )
        return moved, fresh

    def _converged(
        self,
        session: ShareSession,
        iteration: int,
        loss: float,
        losses: list[float],
        before: np.ndarray,
        after: np.ndarray,
    ) -> bool:
        param, ctx = self.param, self.ctx
        converged = False
        if param.early_stop == "weight_diff":
            squared = self._square_sum(session, (after - before) % RING)
            if squared is not None:
                converged = math.sqrt(max(squared, 0.0)) < param.tol
        elif self.guest:
            loss += self._penalty_loss(session, before)
            converged = (
                (loss < param.tol)
                if param.early_stop == "abs"
                else (bool(losses) and abs(losses[-1] - loss) < param.tol)
            )
            losses.append(loss)
            ctx.tracker.log_metric("train", "loss", [[iteration, loss]], metric_type="LOSS")
        else:
            self._penalty_loss(session, before)
        if self.guest:
            session.send(bool(converged), "converged")
            session.next_step()
            ctx.log.info(
                "iteration %d: %s%s",
                iteration + 1,
                f"loss {losses[-1]:.6g}" if losses else "",
                ", converged" if converged else "",
            )
            return bool(converged)
        return bool(session.receive("converged"))

    def _penalty_loss(self, session: ShareSession, shared: np.ndarray) -> float:
        """The penalty's part of the loss at ``shared`` (the guest's value; 0 on the host)."""
        param = self.param
        if param.penalty == "L2":
            masked = np.array(
                [v if m else 0 for v, m in zip(shared, self.penalized, strict=True)], dtype=object
            )
            squared = self._square_sum(session, masked)
            return 0.5 * param.alpha * squared if squared is not None else 0.0
        if param.penalty == "L1":
            own = np.abs(decode(shared[self.own])) * self.penalized[self.own]
            if not self.guest:
                session.send(float(param.alpha * own.sum()), "l1")
                session.next_step()
                return 0.0
            return float(param.alpha * own.sum()) + float(session.receive("l1"))
        return 0.0

    def _stopper(self) -> EarlyStopping:
        param = self.param
        if self.link == LOGISTIC:
            return EarlyStopping.classification(
                param.stopping_rounds, param.validation_metrics, first_only=param.first_metric_only
            )
        return EarlyStopping.regression(
            param.stopping_rounds, param.validation_metrics, first_only=param.first_metric_only
        )

    def _validate(self, validate: Rows, weights: np.ndarray, iteration: int, stopper: EarlyStopping) -> bool:
        ctx = self.ctx
        tag = f"validate.{iteration}"
        if not self.guest:
            row_ops.send_plain_partial(ctx, validate.features, weights, tag)
            return bool(ctx.transfer.get(role="guest", tag=f"stop.{iteration}", index=0))
        linear = row_ops.design(validate.features, self.fit_intercept) @ weights
        linear = linear + row_ops.receive_partial(ctx, len(validate), tag, None)
        values = row_ops.scores(self.link, linear)
        assert validate.labels is not None
        if self.link == LOGISTIC:
            results = binary_metrics(validate.labels, values, metrics=stopper.metrics)
        else:
            results = regression_metrics(validate.labels, values, metrics=stopper.metrics)
        stop = stopper.update(iteration, results, ctx)
        ctx.transfer.remote(stop, role="host", tag=f"stop.{iteration}", index=0)
        return stop

    # ---- the end --------------------------------------------------------------------------------

    def _finish(
        self,
        session: ShareSession,
        train: Rows,
        validate: Rows | None,
        shared: np.ndarray,
        weights: np.ndarray,
        iterations: int,
        converged: bool,
        losses: list[float],
    ) -> dict[str, Any]:
        from accord.components.sshe import model

        return model.finish(self, session, train, validate, shared, weights, iterations, converged, losses)


def _real(value: int) -> float:
    return shares.signed(value) / float(1 << (2 * FRACTION_BITS))
