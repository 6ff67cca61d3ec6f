"""The arbiter's side of HeteroLR: it holds the Paillier private key and the optimizer.

It decrypts each batch's gradients (never features, weights or labels), turns them into steps with
the optimizer, and decides convergence from the decrypted loss (diff / abs) or the size of an
iteration's steps (weight_diff).
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np

from accord.components.hetero_lr import sqn, warm
from accord.components.hetero_lr.optimizer import Optimizer
from accord.components.hetero_lr.params import HeteroLRParam
from accord.components.sdk import ComponentContext
from accord.crypto import generate_keypair
from accord.errors import DataMismatchError


class ArbiterTrainer:
    def __init__(self, ctx: ComponentContext[HeteroLRParam], meta: dict[str, Any] | None = None) -> None:
        self.ctx = ctx
        self.param = ctx.params
        self.transfer = ctx.transfer
        # ModelCheckpoint: ``meta`` is the model's meta, as the component saves it.
        self.checkpoints = warm.Checkpoints(ctx, meta or {})

    def fit(self) -> dict[str, Any]:
        ctx, param = self.ctx, self.param
        hosts = len(ctx.party_ids("host"))
        public_key, private_key = generate_keypair(param.encrypt_param.key_length)
        self.transfer.remote(public_key.to_dict(), role="guest", tag="public_key")
        self.transfer.remote(public_key.to_dict(), role="host", tag="public_key")
        setup = self.transfer.get(role="guest", tag="setup", index=0)
        if setup.get("warm_problem"):
            raise DataMismatchError(
                f"{ctx.component}: a party cannot continue from its model: {setup['warm_problem']}",
                hint="fix the warm start where it failed (that party's error says how)",
            )
        if setup.get("aborted"):
            raise DataMismatchError(
                f"{ctx.component}: the guest and a host hold different rows; training did not start",
                hint="feed every party the output of the same Intersection component",
            )
        optimizer = Optimizer(
            param.optimizer, param.learning_rate, decay=param.decay, decay_sqrt=param.decay_sqrt
        )
        hessian = sqn.InverseHessian(param.sqn_param) if param.optimizer == "sqn" else None
        # Warm start: the guest says where every party starts; the arbiter's model holds the earlier losses.
        start = int(setup.get("start") or 0)
        model = warm.warm_model(ctx)
        warm.check_start(ctx, model, start)
        losses: list[float] = [float(v) for v in model["param"].get("loss_history", [])] if model else []
        # Convergence by diff compares with the last loss of the run being continued, as one run would.
        previous_loss: float | None = losses[-1] if losses else None
        iterations, converged = start, False
        for iteration in range(start, param.max_iter):
            ctx.check_cancelled()
            batch_count = int(self.transfer.get(role="guest", tag=f"batches.{iteration}", index=0))
            batch_losses: list[float] = []
            steps: list[np.ndarray] = []
            for number in range(batch_count):
                tag = f"{iteration}.{number}"
                guest = private_key.decrypt(
                    self.transfer.get(role="guest", tag=f"gradient.guest.{tag}", index=0)
                )
                host_parts = [
                    private_key.decrypt(
                        self.transfer.get(role="host", tag=f"gradient.host.{index}.{tag}", index=index)
                    )
                    for index in range(hosts)
                ]
                sizes = [len(guest), *(len(part) for part in host_parts)]
                gradient = np.concatenate([guest, *host_parts])
                step = optimizer.step(hessian.direction(gradient) if hessian else gradient, iteration)
                steps.append(step)
                pieces = np.split(step, np.cumsum(sizes)[:-1])
                self.transfer.remote(pieces[0], role="guest", tag=f"step.{tag}", index=0)
                for index in range(hosts):
                    self.transfer.remote(pieces[index + 1], role="host", tag=f"step.{tag}", index=index)
                if setup["with_loss"]:
                    decrypted = private_key.decrypt(
                        self.transfer.get(role="guest", tag=f"loss.{tag}", index=0)
                    )
                    batch_losses.append(float(decrypted[0]))
                s = hessian.after_step(iteration * batch_count + number + 1, step) if hessian else None
                if s is not None and hessian is not None:
                    hessian.update(s, sqn.arbiter_product(ctx, private_key, tag, hosts))
            iterations = iteration + 1
            loss = float(np.mean(batch_losses)) if batch_losses else None
            if loss is not None:
                losses.append(loss)
                ctx.tracker.log_metric("train", "loss", [[iteration, loss]], metric_type="LOSS")
            converged = self._converged(loss, previous_loss, np.sum(steps, axis=0))
            previous_loss = loss
            note = "" if loss is None else f"loss {loss:.6g}"
            ctx.log.info(
                "iteration %d/%d%s%s",
                iterations,
                param.max_iter,
                f": {note}" if note else "",
                ", converged" if converged else "",
            )
            ctx.progress(iterations, param.max_iter, note)
            self.transfer.remote(converged, role="guest", tag=f"converged.{iteration}", index=0)
            self.transfer.remote(converged, role="host", tag=f"converged.{iteration}")
            stop = False
            every = setup["validate_every"]
            if setup["validate"] is not None and every and iterations % every == 0:
                stop = bool(self.transfer.get(role="guest", tag=f"stop.{iteration}", index=0))
            self.checkpoints.after(
                iteration,
                functools.partial(_param, iterations, converged, list(losses)),
            )
            if converged or stop:
                break
        ctx.tracker.log_metric(
            "train", "loss", [], metric_type="LOSS", meta={"unit_name": "iters", "curve_name": "loss"}
        )
        return _param(iterations, converged, losses)

    def _converged(self, loss: float | None, previous: float | None, iteration_step: np.ndarray) -> bool:
        early_stop, tol = self.param.early_stop, self.param.tol
        if early_stop == "weight_diff" or loss is None:
            return bool(np.linalg.norm(iteration_step) < tol)
        if early_stop == "abs":
            return loss < tol
        return previous is not None and abs(loss - previous) < tol


def _param(iterations: int, converged: bool, losses: list[float]) -> dict[str, Any]:
    """The arbiter's model param: the iteration count, convergence and the loss of every iteration."""
    return {"iters": iterations, "is_converged": converged, "loss_history": losses}
