"""A HomoNN client (every guest and host): local epochs of FATE's FedAVGTrainer, then aggregation.

Every client draws the same initial model from ``torch_seed``. Each epoch walks its rows in batches
(shuffled with a generator seeded from ``torch_seed`` when ``shuffle``); after every
``aggregate_every_n_epoch``-th epoch (every epoch when null; as in FATE, a tail of epochs after the
last multiple is not aggregated) it sends its model state and epoch loss, scaled by its aggregation
weight (its row count over all clients' rows when ``weighted_aggregation``, else one over the client
count), through secure aggregation, and continues from the average the arbiter sends back, with the
arbiter's convergence verdict. Optimizer state (Adam's moments) stays local, as in FATE.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from accord.components.evaluation.metrics import EvaluateParam, evaluate
from accord.components.hetero_lr import common
from accord.components.homo_lr.client import header_digest, raise_problem
from accord.components.homo_lr.secure_aggregation import (
    AggregationClient,
    clients_of,
    encode,
    job_context,
    masked_tag,
)
from accord.components.nn import portable
from accord.components.nn.homo import network
from accord.components.nn.homo.arbiter import aggregation_round
from accord.components.nn.homo.model import model_meta, predictions
from accord.components.nn.homo.params import HomoNNParam
from accord.components.sdk import ComponentContext
from accord.errors import DataFormatError

_VALIDATION_METRICS = {
    "binary": ("auc", "ks"),
    "multi": ("accuracy", "precision", "recall"),
    "regression": (),
}


class Aggregator:
    """Sums through the arbiter: masked (secure_aggregate) or in the clear, the arbiter sums alike."""

    def __init__(self, ctx: ComponentContext[HomoNNParam], secure: bool) -> None:
        self.ctx = ctx
        self.secure = secure
        self.client = AggregationClient(
            ctx.transfer,
            clients_of(ctx.plan.roles),
            job_context(ctx.job_id, ctx.component, ctx.task.task_version),
        )

    def send(self, values: np.ndarray, name: str, fraction_bits: int = 40) -> None:
        if self.secure:
            self.client.send(values, name, fraction_bits)
        else:
            self.ctx.transfer.remote(
                encode(values, fraction_bits), role="arbiter", tag=masked_tag(name), index=0
            )


class ClientTrainer:
    def __init__(self, ctx: ComponentContext[HomoNNParam]) -> None:
        self.ctx = ctx
        self.param = ctx.params
        self.trainer = ctx.params.fedavg(ctx.component)
        self.table = ctx.params.table(ctx.component)

    def fit(self) -> dict[str, Any]:
        ctx, param, trainer = self.ctx, self.param, self.trainer
        torch.set_num_threads(1)  # parties share a small machine; one thread each is also reproducible
        train_data = ctx.first_dataset("train_data", "data")
        if train_data is None:
            raise DataFormatError(
                f"{ctx.component} has no train_data input", hint="wire train_data in the DSL"
            )
        validate_data = ctx.input_dataset("validate_data")
        rows = network.rows_of(train_data, self.table, ctx.component, need_label=True)
        valid = (
            network.rows_of(validate_data, self.table, ctx.component, need_label=False)
            if validate_data is not None
            else None
        )
        assert param.nn_define is not None and param.optimizer is not None and param.loss is not None
        model, optimizer, loss_fn = network.build(
            param.nn_define, param.optimizer, param.loss, param.torch_seed
        )
        names = network.aggregated_names(model)
        count = len(rows.features)

        aggregator = Aggregator(ctx, trainer.secure_aggregate)
        reply = aggregator.client.setup(
            {"header": header_digest(train_data.header), "width": len(train_data.header), "size": len(names)}
        )
        raise_problem(reply)
        weight = float(count) if trainer.weighted_aggregation else 1.0
        aggregator.send(np.array([weight]), "count", fraction_bits=0)
        share = weight / float(aggregator.client.receive("count"))

        generator = torch.Generator().manual_seed(param.torch_seed)
        history: list[float] = []
        summary: dict[str, Any] = {}
        converged, epoch = False, -1
        for epoch in range(trainer.epochs):
            ctx.check_cancelled()
            order = torch.randperm(count, generator=generator) if trainer.shuffle else None
            loss = network.train_epoch(model, optimizer, loss_fn, rows, trainer.batch_size, order)
            history.append(loss)
            ctx.tracker.log_metric("train", "loss", [[epoch, loss]], metric_type="LOSS")
            if aggregation_round(epoch, trainer):
                vector = np.append(network.flat_state(model, names), loss) * share
                aggregator.send(vector, f"round.{epoch}")
                result = aggregator.client.receive(f"round.{epoch}")
                network.load_flat_state(model, names, np.asarray(result["model"], dtype=np.float64))
                converged = bool(result["converged"])
            ctx.log.info(
                "epoch %d/%d: local loss %.6g%s",
                epoch + 1,
                trainer.epochs,
                loss,
                ", converged" if converged else "",
            )
            ctx.progress(epoch + 1, trainer.epochs, f"loss {loss:.6g}")
            if trainer.validation_freqs and (epoch + 1) % trainer.validation_freqs == 0:
                summary = self._validate(model, rows, epoch, "train")
                if valid is not None and valid.labels is not None:
                    summary = self._validate(model, valid, epoch, "validate")
            every = trainer.checkpoint_save_freqs
            if every and (epoch + 1) % every == 0:
                # FATE's checkpoint_save_freqs: the model as it stands, kept as a checkpoint of the task.
                ctx.save_checkpoint(
                    epoch, self._model(model, rows, train_data.header, epoch + 1, converged, history)
                )
            if converged:
                break

        train_scores = network.outputs(model, rows.features)
        task_type = self._task_type(rows, train_scores)
        classes = _classes(task_type, train_scores)
        parts = [predictions(rows.dataset, train_scores, task_type, classes, common.TRAIN)]
        if valid is not None:
            scores = network.outputs(model, valid.features)
            parts.append(predictions(valid.dataset, scores, task_type, classes, common.VALIDATE))
        ctx.save_data(common.concatenate(parts))
        learned = self._model(model, rows, train_data.header, epoch + 1, converged, history, train_scores)
        ctx.tracker.set_summary(
            {
                "best_epoch": learned["param"]["best_epoch"],
                "loss_history": history,
                "need_stop": converged,
                "metrics_summary": summary,
            }
        )
        return learned

    def _model(
        self,
        model: torch.nn.Module,
        rows: network.Rows,
        header: tuple[str, ...],
        epochs: int,
        converged: bool,
        history: list[float],
        scores: np.ndarray | None = None,
    ) -> dict[str, Any]:
        """The client's model after ``epochs`` epochs: definitions, task, and the portable state."""
        scores = network.outputs(model, rows.features) if scores is None else scores
        task_type = self._task_type(rows, scores)
        return {
            "meta": model_meta(
                self.param, self.trainer, self.table, header, task_type, _classes(task_type, scores)
            ),
            "param": {
                "state": portable.module_state(model),
                "epochs": epochs,
                "is_converged": converged,
                "loss_history": list(history),
                "best_epoch": int(np.argmin(history)) if history else -1,
            },
        }

    def _task_type(self, rows: network.Rows, scores: np.ndarray) -> str:
        if self.trainer.task_type != "auto":
            return self.trainer.task_type
        labels = rows.labels.numpy().astype(np.float64).ravel() if rows.labels is not None else None
        # FATE skips the output when it cannot tell; rows of several non-probability outputs are scored
        # as multi-class here (the predicted class is the largest output).
        return network.infer_task(labels, scores) or "multi"

    def _validate(self, model: torch.nn.Module, rows: network.Rows, epoch: int, kind: str) -> dict[str, Any]:
        """FATE's validation: the metrics of the task type on ``kind`` data, logged per epoch."""
        assert rows.labels is not None
        scores = network.outputs(model, rows.features)
        labels = rows.labels.numpy().astype(np.float64).ravel()
        task = self._task_type(rows, scores)
        if task == "binary":
            if len(np.unique(labels)) < 2:
                return {}
            predicted: np.ndarray = scores[:, -1]
        elif task == "multi":
            predicted = scores.argmax(axis=1).astype(np.float64)
        else:
            predicted = scores[:, 0]
        param = EvaluateParam(eval_type=task, metrics=list(_VALIDATION_METRICS[task]))
        found: dict[str, Any] = {}
        for name, result in evaluate(param, labels, predicted).items():
            if isinstance(result.value, int | float):
                found[name] = float(result.value)
                self.ctx.tracker.log_metric(
                    kind, name, [[epoch, float(result.value)]], metric_type="VALIDATION_EVALUATION"
                )
        return {kind: found}


def _classes(task_type: str, scores: np.ndarray) -> list[float]:
    if task_type == "binary":
        return [0.0, 1.0]
    if task_type == "multi":
        return [float(index) for index in range(scores.shape[1])]
    return []
