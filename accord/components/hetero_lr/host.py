"""A host's side of HeteroLR: it holds features and weights only, and sees nothing but ciphertexts.

Per batch it sends [[0.25·X_h·w_h]] partition by partition (and, for the guest's loss,
[[Σ(X_h·w_h)²]] and its encrypted penalty) to the guest, turns the guest's encrypted fore-gradient,
received the same way, into its encrypted gradient [[X_hᵀ·d]]/n + penalty (a partial per partition,
added up), and applies the step the arbiter sends back. Every pass runs on the task's engine.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from typing import Any

import numpy as np

from accord.components.hetero_lr import common, encoded, kernels, sqn, tables, warm
from accord.components.hetero_lr.optimizer import penalty_gradient, penalty_loss
from accord.components.hetero_lr.params import HeteroLRParam
from accord.components.sdk import ComponentContext, DataTable
from accord.errors import AccordError, DataFormatError, DataMismatchError
from accord.federation.codec import public_key_from_dict


class HostTrainer:
    """HeteroLR's host; HeteroLinR's and HeteroPoisson's hosts differ only in :meth:`forward_kernel`."""

    def __init__(self, ctx: ComponentContext[Any], meta: dict[str, Any] | None = None) -> None:
        self.ctx = ctx
        self.param: HeteroLRParam = ctx.params
        # ModelCheckpoint: ``meta`` is the model's meta, as the component saves it.
        self.checkpoints = warm.Checkpoints(ctx, meta or {})
        self.transfer = ctx.transfer
        self.driver = os.getpid()

    def forward_kernel(
        self, key: Any, weights: np.ndarray, chosen: Any, with_loss: bool
    ) -> Callable[[int, Any], Any]:
        """The partition function of what this host sends the guest per batch: [[0.25·X_h·w_h]]."""
        return functools.partial(kernels.host_forward, self.driver, key, weights, chosen, with_loss)

    def fit(self) -> dict[str, Any]:
        ctx, param = self.ctx, self.param
        train = tables.input_rows(ctx, "train_data", "data")
        if train is None:
            raise DataFormatError(
                f"{ctx.component} has no train_data input", hint="wire train_data in the DSL"
            )
        validate = tables.input_rows(ctx, "validate_data")
        header = list(train.header)
        key = self.transfer.get(role="arbiter", tag="public_key", index=0)
        public_key = public_key_from_dict(key)
        setup = self.transfer.get(role="guest", tag="setup", index=0)
        if setup.get("warm_problem"):
            raise DataMismatchError(
                f"{ctx.component}: the guest cannot continue from its model: {setup['warm_problem']}",
                hint="fix the warm start on the guest (its error says how)",
            )
        info = tables.table_info(train)
        validate_info = tables.table_info(validate) if validate is not None else None
        problem = _alignment(setup, info, validate, validate_info)
        start, weights, warm_problem = self._warm_start(header, int(setup.get("start") or 0))
        sent = problem if problem is not None or warm_problem is None else warm_problem
        self.transfer.remote(sent, role="guest", tag=f"aligned.{ctx.party_index}", index=0)
        if problem == "no_validate":
            raise DataFormatError(
                f"{ctx.component}: the guest validates but this party has no validate_data",
                hint="wire validate_data on every party",
            )
        if problem is not None:
            tables.check_same_rows(info, setup["train"], "train", ctx.component)
            tables.check_same_rows(validate_info or [], setup["validate"], "validate", ctx.component)
        if warm_problem is not None:
            raise DataMismatchError(warm_problem["warm"], hint=warm_problem["hint"])
        validate_every = setup["validate_every"]
        bounds = tables.offsets(info)
        rows = tables.prepared(train, with_label=False)
        partitions = rows.partitions
        me = ctx.party_index

        batches: list[np.ndarray | None] = []
        stats: list[encoded.Stats] = []
        runs = sqn.WeightRuns(param.sqn_param.update_interval_L) if param.optimizer == "sqn" else None
        iterations, converged = start, False
        for iteration in range(start, param.max_iter):
            ctx.check_cancelled()
            sent = self.transfer.get(role="guest", tag=f"batches.{iteration}", index=0)
            if sent != "same":
                batches = [None if item is None else np.asarray(item, dtype=np.int64) for item in sent]
                stats = []
            for number, positions in enumerate(batches):
                tag = f"{iteration}.{number}"
                chosen = tables.selections(positions, bounds)
                count = int(bounds[-1]) if positions is None else len(positions)
                if len(stats) <= number:
                    stats.append(tables.x_stats(rows, chosen))
                with_loss = bool(setup["with_loss"])
                forward = rows.map_partitions_with_index(self.forward_kernel(key, weights, chosen, with_loss))
                tables.send_table(ctx, forward, role="guest", tag=f"forward.{me}.{tag}", index=0)
                if with_loss:
                    penalty = public_key.encrypt(
                        np.array([penalty_loss(weights, param.penalty, param.alpha)])
                    )
                    self.transfer.remote(penalty, role="guest", tag=f"forward_loss.{tag}", index=0)
                fore = tables.receive_table(
                    ctx, role="guest", tag=f"fore_gradient.{tag}", index=0, partitions=partitions
                )
                fn = functools.partial(
                    kernels.host_gradient, self.driver, key, chosen, stats[number], param.dot_precision
                )
                partials = tables.collect(rows.zip_partitions(fore, fn))
                gradient = encoded.total(partials, public_key) * (1.0 / count)
                gradient = gradient + penalty_gradient(weights, param.penalty, param.alpha)
                self.transfer.remote(gradient, role="arbiter", tag=f"gradient.host.{me}.{tag}", index=0)
                before = weights
                weights = weights - self.transfer.get(role="arbiter", tag=f"step.{tag}", index=0)
                s = runs.add(iteration * len(batches) + number + 1, before) if runs else None
                if s is not None:
                    sqn.host_product(self, tag, rows, bounds, key, s)
            converged = bool(self.transfer.get(role="arbiter", tag=f"converged.{iteration}", index=0))
            iterations = iteration + 1
            ctx.log.info(
                "iteration %d/%d: %d batches%s",
                iterations,
                param.max_iter,
                len(batches),
                ", converged" if converged else "",
            )
            ctx.progress(iteration + 1, param.max_iter)
            stop = False
            if validate is not None and validate_every and (iteration + 1) % validate_every == 0:
                self._send_wx(validate, weights, f"validate.{iteration}")
                stop = bool(self.transfer.get(role="guest", tag=f"stop.{iteration}", index=0))
            self.checkpoints.after(
                iteration, functools.partial(self._param, header, weights.copy(), iterations, converged)
            )
            if converged or stop:
                break

        self._send_wx(train, weights, "final.train")
        if setup["validate"] is not None and validate is not None:
            self._send_wx(validate, weights, "final.validate")
        rows.unpersist()
        ctx.save_data(common.empty_predictions())
        return self._param(header, weights, iterations, converged)

    def _param(
        self, header: list[str], weights: np.ndarray, iterations: int, converged: bool
    ) -> dict[str, Any]:
        """A host's model param: its own features' weights (no intercept) and the iteration count."""
        return {
            "header": header,
            "weight": {name: float(value) for name, value in zip(header, weights, strict=True)},
            "iters": iterations,
            "is_converged": converged,
        }

    def _warm_start(self, header: list[str], start: int) -> tuple[int, np.ndarray, dict[str, Any] | None]:
        """Where this host starts (the guest's iteration count, its own weights of the model input), or
        what is wrong with its model, as a problem it tells the guest."""
        ctx = self.ctx
        try:
            model = warm.warm_model(ctx)
            warm.check_start(ctx, model, start)
            if model is not None:
                return start, warm.party_weights(model, header, ctx.component, fit_intercept=False), None
        except AccordError as error:
            return 0, np.zeros(len(header)), {"warm": error.message, "hint": error.hint}
        return 0, common.initial_weights(len(header), self.param.init_param, with_intercept=False), None

    def _send_wx(self, data: DataTable, weights: np.ndarray, tag: str) -> None:
        """X_h·w_h of every row, in clear, partition by partition (as FATE's predict sends it)."""
        fn = functools.partial(kernels.rows_wx, data.meta(), weights)
        wx = data.table.map_partitions_with_index(fn)
        tables.send_table(self.ctx, wx, role="guest", tag=f"wx.{self.ctx.party_index}.{tag}", index=0)


def _alignment(
    setup: dict[str, Any], info: tables.Info, validate: DataTable | None, validate_info: tables.Info | None
) -> str | None:
    """Why this party's rows cannot pair with the guest's by position (None: they can)."""
    if [list(item) for item in info] != [list(item) for item in setup["train"]]:
        return "train"
    if setup["validate"] is not None:
        if validate is None:
            return "no_validate"
        if validate_info is None or [list(i) for i in validate_info] != [list(i) for i in setup["validate"]]:
            return "validate"
    return None
