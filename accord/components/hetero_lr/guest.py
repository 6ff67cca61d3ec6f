"""The guest's side of HeteroLR: it holds the labels and the intercept and drives the batches.

Per batch it adds its plaintext part of the fore-gradient, 0.25·(X_g·w_g + b) - 0.5·y± (Taylor
approximation of the logistic loss), to the hosts' encrypted [[0.25·X_h·w_h]], sends the encrypted
fore-gradient to the hosts and its own encrypted gradient (and the loss, with one host) to the arbiter,
and applies the step the arbiter sends back. It never sees a host's features or weights in clear.
Every pass runs on the task's engine, partition by partition; ciphertexts cross to the hosts the same
way, and only the gradient (one ciphertext per feature) is ever whole.
"""

from __future__ import annotations

import functools
import os
from typing import Any

import numpy as np

from accord.components.evaluation.metrics import MetricResult, binary_metrics
from accord.components.hetero_lr import common, encoded, kernels, sqn, tables, warm
from accord.components.hetero_lr.early_stopping import EarlyStopping
from accord.components.hetero_lr.optimizer import penalty_gradient, penalty_loss
from accord.components.hetero_lr.params import HeteroLRParam
from accord.components.sdk import ComponentContext, DataTable
from accord.computing import BlockTable
from accord.crypto.vector import EncryptedVector
from accord.errors import AccordError, DataFormatError, DataMismatchError
from accord.federation.codec import public_key_from_dict


class GuestTrainer:
    """HeteroLR's guest. HeteroLinR's and HeteroPoisson's guests (accord.components.linear.guest) run the
    same protocol and override the hooks below: which columns are features and how rows are read, the
    plaintext part of the fore-gradient and loss, validation metrics, and the predictions."""

    def __init__(self, ctx: ComponentContext[Any], meta: dict[str, Any] | None = None) -> None:
        self.ctx = ctx
        self.param: HeteroLRParam = ctx.params
        # ModelCheckpoint: ``meta`` is the model's meta, as the component saves it.
        self.checkpoints = warm.Checkpoints(ctx, meta or {})
        self.transfer = ctx.transfer
        self.hosts = len(ctx.party_ids("host"))
        # The Taylor loss needs the square of the hosts' summed forward, which needs a single host.
        self.with_loss = self.hosts == 1
        self.driver = os.getpid()
        self.key: dict[str, str] = {}
        self.partitions = 0
        # The link's second derivative in the sqn Hessian-vector product (HeteroLR's Taylor loss: 0.25).
        self.hess_scale = 0.25

    def fit(self) -> dict[str, Any]:
        ctx, param = self.ctx, self.param
        train = tables.input_rows(ctx, "train_data", "data")
        if train is None:
            raise DataFormatError(
                f"{ctx.component} has no train_data input", hint="wire train_data in the DSL"
            )
        validate = tables.input_rows(ctx, "validate_data")
        header = self.feature_header(train)
        rows = self.prepare_rows(train)
        valid_rows = self.prepare_rows(validate) if validate is not None else None
        fit_intercept = param.init_param.fit_intercept
        # Warm start (warm.py): the guest decides where every party starts, and tells them in setup.
        start, warm_problem = 0, None
        try:
            model = warm.warm_model(ctx)
            start = warm.iterations_of(model)
            if model is not None:
                weights = warm.party_weights(model, header, ctx.component, fit_intercept=fit_intercept)
                ctx.log.info("warm start: continuing from a model of %d iterations", start)
        except AccordError as error:
            warm_problem, model = error, None
        if model is None:
            weights = common.initial_weights(len(header), param.init_param, with_intercept=fit_intercept)
        validate_every = param.validation_every if validate is not None else None
        info = tables.table_info(train)
        bounds = tables.offsets(info)
        count = int(bounds[-1])
        self.partitions = rows.partitions
        batching = common.Batches(count, param)  # type: ignore[arg-type, unused-ignore]

        self.key = self.transfer.get(role="arbiter", tag="public_key", index=0)
        setup = {
            "train": info,
            "validate": tables.table_info(validate) if validate is not None else None,
            "validate_every": validate_every,
            "with_loss": self.with_loss,
            "start": start,
            "warm_problem": None if warm_problem is None else warm_problem.message,
        }
        self.transfer.remote(setup, role="host", tag="setup")
        if warm_problem is not None:
            self.transfer.remote({**setup, "aborted": True}, role="arbiter", tag="setup", index=0)
            raise warm_problem
        problems = [self.transfer.get(role="host", tag=f"aligned.{i}", index=i) for i in range(self.hosts)]
        # A host whose own model does not fit a warm start (warm.py) says why in a dict.
        host_warm = next((problem for problem in problems if isinstance(problem, dict)), None)
        self.transfer.remote(
            {**setup, "aborted": any(problems), "warm_problem": host_warm and host_warm["warm"]},
            role="arbiter",
            tag="setup",
            index=0,
        )
        if host_warm is not None:
            raise DataMismatchError(str(host_warm["warm"]), hint=host_warm.get("hint"))
        if any(problems):
            raise DataMismatchError(
                f"{ctx.component}: a host's rows differ from the guest's "
                f"({', '.join(str(problem) for problem in problems if problem)})",
                hint="feed every party the output of the same Intersection component",
            )

        stopper = self.early_stopping()
        runs = sqn.WeightRuns(param.sqn_param.update_interval_L) if param.optimizer == "sqn" else None
        iterations, converged = start, False
        previous: list[np.ndarray] | None = None
        stats: list[encoded.Stats] = []
        for _ in range(start):
            # Random batches continue the draws of the run they resume, as one longer run draws them.
            batching.next_iteration()
        for iteration in range(start, param.max_iter):
            ctx.check_cancelled()
            batches = batching.next_iteration()
            positions = [None if len(b) == count else b for b in batches]
            if batches is previous:
                self.transfer.remote("same", role="host", tag=f"batches.{iteration}")
            else:
                self.transfer.remote(positions, role="host", tag=f"batches.{iteration}")
                stats = []
            previous = batches
            self.transfer.remote(len(batches), role="arbiter", tag=f"batches.{iteration}", index=0)
            for number, rows_of_batch in enumerate(positions):
                tag = f"{iteration}.{number}"
                chosen = tables.selections(rows_of_batch, bounds)
                if len(stats) <= number:
                    stats.append(tables.x_stats(rows, chosen))
                size = count if rows_of_batch is None else len(rows_of_batch)
                self._batch(tag, rows, chosen, size, stats[number], weights)
                before = weights
                weights = weights - self.transfer.get(role="arbiter", tag=f"step.{tag}", index=0)
                s = runs.add(iteration * len(positions) + number + 1, before) if runs else None
                if s is not None:
                    sqn.guest_product(self, tag, rows, rows_of_batch, bounds, s)
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
            if valid_rows is not None and validate_every and iterations % validate_every == 0:
                labels, scores = self._validation_scores(valid_rows, weights, f"validate.{iteration}")
                stop = stopper.update(
                    iteration, self.validation_metrics(labels, scores, stopper.metrics), ctx
                )
                self.transfer.remote(stop, role="host", tag=f"stop.{iteration}")
                self.transfer.remote(stop, role="arbiter", tag=f"stop.{iteration}", index=0)
            self.checkpoints.after(
                iteration,
                functools.partial(self._param, header, weights.copy(), iterations, converged, stopper),
            )
            if converged or stop:
                break

        outputs = [self._predictions(train, weights, "final.train", common.TRAIN)]
        if validate is not None:
            outputs.append(self._predictions(validate, weights, "final.validate", common.VALIDATE))
        ctx.save_table(DataTable(tables.Concatenated(outputs), "predict"))
        rows.unpersist()
        if valid_rows is not None:
            valid_rows.unpersist()
        return self._param(header, weights, iterations, converged, stopper)

    def _param(
        self, header: list[str], weights: np.ndarray, iterations: int, converged: bool, stopper: Any
    ) -> dict[str, Any]:
        """The guest's model param after ``iterations`` iterations in all (a warm start's included)."""
        fit_intercept = self.param.init_param.fit_intercept
        coef = weights[:-1] if fit_intercept else weights
        return {
            "header": header,
            "weight": {name: float(value) for name, value in zip(header, coef, strict=True)},
            "intercept": float(weights[-1]) if fit_intercept else 0.0,
            "fit_intercept": fit_intercept,
            "iters": iterations,
            "is_converged": converged,
            "best_iteration": stopper.best_iteration
            if stopper.best_iteration is not None
            else iterations - 1,
        }

    def _split(self, weights: np.ndarray) -> tuple[np.ndarray, float | None]:
        if self.param.init_param.fit_intercept:
            return weights[:-1], float(weights[-1])
        return weights, None

    def _batch(
        self,
        tag: str,
        rows: BlockTable,
        chosen: kernels.Selections,
        count: int,
        stats: encoded.Stats,
        weights: np.ndarray,
    ) -> None:
        ctx, param, key = self.ctx, self.param, self.key
        public_key = public_key_from_dict(key)
        coef, intercept = self._split(weights)
        forwards = [
            tables.receive_table(
                ctx, role="host", tag=f"forward.{i}.{tag}", index=i, partitions=self.partitions
            )
            for i in range(self.hosts)
        ]
        host_forward = tables.zip_all(forwards, functools.partial(kernels.add_forwards, self.driver, key))
        plain, loss_stats = 0.0, None
        if self.with_loss:
            nothing: tuple[float, encoded.Stats | None] = (0.0, None)
            plain, loss_stats = rows.aggregate(
                nothing, self.stats_kernel(coef, intercept, chosen), kernels.add_loss_parts
            )
        fore_fn = self.fore_kernel(coef, intercept, chosen, loss_stats)
        fore = rows.zip_partitions(host_forward, fore_fn).persist()
        fore_only = fore.map_partitions_with_index(kernels.fore_only)
        tables.send_table(ctx, fore_only, role="host", tag=f"fore_gradient.{tag}", index="all")
        gradient_fn = functools.partial(
            kernels.guest_gradient, self.driver, key, chosen, stats, param.dot_precision
        )
        parts = [encoded.unpack(blob) for blob in tables.collect(rows.zip_partitions(fore, gradient_fn))]
        fore.unpersist()
        scale = 1.0 / count
        gradient = encoded.total([encoded.data(p, "gradient") for p in parts], public_key) * scale
        gradient = gradient + penalty_gradient(coef, param.penalty, param.alpha)
        summed = encoded.total([encoded.data(p, "sum") for p in parts], public_key)
        if intercept is not None:
            gradient = EncryptedVector.concatenate([gradient, summed * scale])
        self.transfer.remote(gradient, role="arbiter", tag=f"gradient.guest.{tag}", index=0)
        if self.with_loss:
            host_penalty = self.transfer.get(role="host", tag=f"forward_loss.{tag}", index=0)
            loss = self.encrypted_loss(parts, summed, plain, public_key) * scale
            loss = loss + host_penalty + penalty_loss(coef, param.penalty, param.alpha)
            self.transfer.remote(loss, role="arbiter", tag=f"loss.{tag}", index=0)

    # ---- what HeteroLinR and HeteroPoisson override ------------------------------------------------

    def feature_header(self, train: DataTable) -> list[str]:
        """The model's features, in the order of its weights."""
        return list(train.header)

    def prepare_rows(self, data: DataTable) -> BlockTable:
        """The rows as numbers with their labels, once checked to be binary."""
        return _labelled(data, self.ctx.component)

    def early_stopping(self) -> Any:
        param = self.param
        return EarlyStopping.classification(
            param.stopping_rounds, param.validation_metrics, first_only=param.first_metric_only
        )

    def validation_metrics(
        self, labels: np.ndarray, scores: np.ndarray, metrics: list[str]
    ) -> dict[str, MetricResult]:
        return binary_metrics(labels, scores, metrics=metrics)

    def stats_kernel(self, coef: np.ndarray, intercept: float | None, chosen: Any) -> Any:
        """Partition function: the guest's plaintext part of the loss and its statistics."""
        return functools.partial(kernels.guest_stats, coef, intercept, chosen)

    def fore_kernel(self, coef: np.ndarray, intercept: float | None, chosen: Any, loss_stats: Any) -> Any:
        """Partition function: the encrypted fore-gradient from the hosts' summed forward."""
        return functools.partial(
            kernels.guest_fore,
            self.driver,
            self.key,
            coef,
            intercept,
            chosen,
            loss_stats,
            self.param.dot_precision,
        )

    def encrypted_loss(self, parts: list[Any], summed: Any, plain: float, public_key: Any) -> Any:
        """The batch's summed loss under encryption (scaled by 1/n by the caller).

        Logistic (Taylor): Σ(log 2 - 0.5·y±·u + 0.125·u²) with u = wx_g + wx_h, where the host's parts
        stay encrypted: the cross terms are one ciphertext·plaintext product with [[0.25·wx_h]].
        """
        cross = encoded.total([encoded.data(p, "cross") for p in parts], public_key)
        square = encoded.total([encoded.data(p, "square") for p in parts], public_key)
        return cross + square * 0.125 + plain

    def scored_kernel(self, coef: np.ndarray, intercept: float) -> Any:
        """Partition function: labels and scores of validation rows given the hosts' X_h·w_h."""
        return functools.partial(kernels.scored_labels, coef, intercept)

    def predictions_kernel(self, data: DataTable, coef: np.ndarray, intercept: float, data_type: str) -> Any:
        """Partition function: FATE's predict-result rows given the hosts' X_h·w_h."""
        return functools.partial(
            kernels.predictions,
            data.meta(),
            coef,
            intercept,
            False,
            self.param.predict_param.threshold,
            data_type,
        )

    def _host_wx(self, tag: str, partitions: int) -> BlockTable:
        received = [
            tables.receive_table(self.ctx, role="host", tag=f"wx.{i}.{tag}", index=i, partitions=partitions)
            for i in range(self.hosts)
        ]
        return tables.zip_all(received, kernels.add_wx)

    def _validation_scores(
        self, rows: BlockTable, weights: np.ndarray, tag: str
    ) -> tuple[np.ndarray, np.ndarray]:
        """Labels and scores of the validation rows: the hosts send X_h·w_h in clear, as in FATE."""
        coef, intercept = self._split(weights)
        fn = self.scored_kernel(coef, intercept or 0.0)
        parts = [
            encoded.unpack(blob)
            for blob in tables.collect(rows.zip_partitions(self._host_wx(tag, rows.partitions), fn))
        ]
        labels = np.concatenate([encoded.array(p, "y") for p in parts])
        scores = np.concatenate([encoded.array(p, "score") for p in parts])
        return labels, scores

    def _predictions(self, data: DataTable, weights: np.ndarray, tag: str, data_type: str) -> BlockTable:
        coef, intercept = self._split(weights)
        fn = self.predictions_kernel(data, coef, intercept or 0.0, data_type)
        return data.table.zip_partitions(self._host_wx(tag, data.table.partitions), fn)


def _labelled(data: DataTable, component: str) -> BlockTable:
    """The rows as numbers with their labels, once checked to be binary."""
    rows = tables.prepared(data, with_label=True)
    nothing: list[set[float] | None] = []
    classes = kernels.classes_of(rows.aggregate(nothing, kernels.label_classes, kernels.concat))
    if classes is None:
        rows.unpersist()
        raise DataFormatError(
            f"{component}: the guest's data has no label",
            hint="set with_label: true for the guest in DataTransform",
        )
    common.check_binary(classes, component)
    return rows
