"""The Evaluation component: metrics of each upstream model's predictions, per data split.

It runs where the labels are (the guest, or a local party); on other parties the predictions it gets
are empty and it records nothing. Scalar metrics of a split go into one ``EVALUATION_SUMMARY`` metric
named after the upstream component (namespace = the split: train, validate, test, predict), curves
into their own metrics named ``<component>_<metric>``, as FATE-Board reads them. The predictions are
read on the task's engine, which projects the few columns the metrics need.
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np

from accord.components.evaluation import clustering
from accord.components.evaluation.metrics import EvaluateParam, MetricResult, evaluate
from accord.components.evaluation.params import BINARY, CLUSTERING
from accord.components.sdk import ComponentBase, ComponentContext, Dataset, DataTable
from accord.computing import Block
from accord.errors import DataFormatError

_SPLIT_ORDER = ("train", "validate", "test", "predict")
_EVALUATED = ("sid", "label", "predict_result", "predict_score", "type")
# Five numbers per row: 50M rows is about 2 GB, beyond which a split is refused, not swapped to death.
MAX_EVALUATED_ROWS = 50_000_000


class Evaluation(ComponentBase[EvaluateParam]):
    params = EvaluateParam

    def fit(self, ctx: ComponentContext[EvaluateParam]) -> None:
        if not ctx.params.need_run:
            # FATE runs nothing for need_run false (a host's Evaluation beside the guest's baseline
            # sees the host's unscored rows).
            return
        summary: dict[str, dict[str, dict[str, Any]]] = {}
        refs = [ref for ref in ctx.inputs("data") if ref.slot == "data"]
        if ctx.params.eval_type == CLUSTERING:
            inputs = [(ref.component, data) for ref, data in zip(refs, ctx.input_tables("data"), strict=True)]
            summary = clustering.evaluate(ctx, inputs)
            if summary:
                ctx.tracker.set_summary(summary)
            return
        for ref, data in zip(refs, ctx.input_tables("data"), strict=True):
            if data.table.count() == 0:
                continue
            if data.kind != "predict":
                raise DataFormatError(
                    f"{ctx.component} evaluates predictions, but {ref.reference} holds {data.kind} rows",
                    hint="connect the data output of a model component (e.g. hetero_lr_0.data)",
                )
            for split, rows in _splits(_evaluated_columns(data)):
                results = self._evaluate(ctx.params, rows)
                summary.setdefault(ref.component, {})[split] = _record(ctx, ref.component, split, results)
        if summary:
            ctx.tracker.set_summary(summary)

    def predict(self, ctx: ComponentContext[EvaluateParam]) -> None:
        self.fit(ctx)

    @staticmethod
    def _evaluate(param: EvaluateParam, rows: Dataset) -> dict[str, MetricResult]:
        labels = rows.column("label")
        predictions = (
            rows.column("predict_score") if param.eval_type == BINARY else rows.column("predict_result")
        )
        return evaluate(param, labels, predictions)


def _evaluated_columns(data: DataTable) -> Dataset:
    """The columns metrics read, projected on the engine and brought here (AUC, KS and the curves
    rank every score of a split, so the metrics run on whole columns, not per partition)."""
    projected = data.table.map_partitions_with_index(functools.partial(_project, _EVALUATED))
    return Dataset.of(projected.to_arrow(max_rows=MAX_EVALUATED_ROWS), data.meta())


def _project(columns: tuple[str, ...], index: int, block: Block) -> Block:
    if isinstance(block, bytes):
        raise DataFormatError("a table of predictions holds a blob partition")
    return block.select([name for name in columns if name in block.schema.names])


def _splits(dataset: Dataset) -> list[tuple[str, Dataset]]:
    kinds = dataset.column("type")
    present = list(dict.fromkeys(str(kind) for kind in kinds))
    present.sort(key=lambda kind: _SPLIT_ORDER.index(kind) if kind in _SPLIT_ORDER else len(_SPLIT_ORDER))
    return [(kind, dataset.take(np.flatnonzero(kinds == kind))) for kind in present]


def _record(
    ctx: ComponentContext[EvaluateParam], component: str, split: str, results: dict[str, MetricResult]
) -> dict[str, Any]:
    scalars: dict[str, Any] = {}
    for name, result in results.items():
        rounded = result.rounded()
        if rounded.value is not None:
            scalars[name] = rounded.value
        if rounded.points:
            # A metric's points are [x, y] pairs (the first two columns, e.g. fpr and tpr); further
            # columns (thresholds, cuts) go in the meta, as FATE-Board reads them.
            columns = list(rounded.columns)
            ctx.tracker.log_metric(
                split,
                f"{component}_{name}",
                [list(row[:2]) for row in rounded.points],
                metric_type=rounded.metric_type,
                meta={
                    "columns": columns[:2],
                    **{column: rounded.column(column) for column in columns[2:]},
                    **dict(rounded.meta),
                },
            )
    if scalars:
        ctx.tracker.log_metric(
            split,
            component,
            [[name, value] for name, value in scalars.items()],
            metric_type="EVALUATION_SUMMARY",
            meta={"metrics": list(scalars)},
        )
    return scalars
