"""LocalBaseline: scikit-learn's LogisticRegression on one party's own rows, as FATE's baseline.

It runs where the conf leaves ``need_run`` true (the guest in FATE's examples) and exchanges nothing
with the other parties. fit collects the party's rows, fits (with the rows' weights when a
SampleWeight put them there), saves the coefficients as JSON and writes FATE's prediction rows for
the train (and validate) data; predict scores rows on the task's engine from the saved JSON alone.
With ``need_run`` false the rows pass through unchanged and the model says so; a predict job given that
model writes no prediction rows.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pyarrow as pa

from accord.components.linear.local_baseline import model as baseline
from accord.components.linear.local_baseline.params import LocalBaselineParam
from accord.components.sdk import ComponentBase, ComponentContext, Dataset, DataTable
from accord.computing.block import concat_batches
from accord.errors import DataFormatError

Context = ComponentContext[LocalBaselineParam]
TRAIN, VALIDATE, TEST, PREDICT = "train", "validate", "test", "predict"


class LocalBaseline(ComponentBase[LocalBaselineParam]):
    params = LocalBaselineParam

    def fit(self, ctx: Context) -> None:
        if not ctx.params.need_run:
            _pass_through(ctx, "train_data", "data")
            ctx.save_model({"module": baseline.MODULE, "meta": {"need_run": False}, "param": {}})
            return
        train = _rows(ctx, "train_data", "data")
        labels = train.labels()
        if labels is None or len(train) == 0 or not train.header:
            raise DataFormatError(
                f"{ctx.component} fits on labelled rows with features, and its train data has "
                f"{len(train)} rows, {len(train.header)} features and {'a' if labels is not None else 'no'} "
                "label",
                hint="give it DataTransform output with with_label: true on this party",
            )
        if np.isnan(labels).any():
            raise DataFormatError(
                f"{ctx.component}: {int(np.isnan(labels).sum())} train rows have no label",
                hint="drop or fill rows without a label before LocalBaseline",
            )
        threshold = ctx.params.predict_param.threshold
        model = baseline.fit(
            ctx.params.opts(), train.header, train.features(), labels, train.weights(), threshold
        )
        ctx.save_model(model)
        ctx.tracker.set_summary(baseline.summary(model))
        parts = [predictions(model, train, TRAIN)]
        validate = ctx.input_table("validate_data")
        if validate is not None:
            parts.append(predictions(model, validate.to_dataset(), VALIDATE))
        ctx.save_data(Dataset(pa.concat_tables([part.table for part in parts]), "predict"))
        ctx.log.info(
            "%s: %s LogisticRegression on %d rows, %d features, %d iterations",
            ctx.component,
            model["meta"]["kind"],
            len(train),
            len(train.header),
            model["param"]["iters"],
        )

    def predict(self, ctx: Context) -> None:
        model = ctx.trained_model("predicts")
        if not ctx.params.need_run or not model.get("meta", {}).get("need_run", True):
            # A party that trained nothing scores nothing: no prediction rows (as HeteroLR's host
            # leaves), so that the predict job's Evaluation there, which the predict conf does not
            # switch off, has nothing to read.
            ctx.save_data(_no_predictions())
            ctx.save_applied_model(model)
            return
        slot = "test_data" if "test_data" in ctx.data_slots() else "data"
        data = ctx.instances_input("predicts on parsed feature rows", slot)
        scored = data.table.map_batches(
            functools.partial(_predict_batch, model, data.meta(), TEST if slot == "test_data" else PREDICT)
        )
        ctx.save_table(DataTable(scored, "predict"))
        ctx.save_applied_model(model)


def _rows(ctx: Context, *slots: str) -> Dataset:
    return ctx.instances_input("fits on parsed feature rows", *slots).to_dataset()


def _pass_through(ctx: Context, *slots: str) -> None:
    for slot in slots:
        data = ctx.input_table(slot)
        if data is not None:
            ctx.save_table(data)
            return


def _no_predictions() -> Dataset:
    nothing = np.zeros(0)
    return Dataset.predictions(
        [],
        labels=nothing,
        predict_result=nothing,
        predict_score=nothing,
        predict_detail=[],
        data_type=PREDICT,
    )


def predictions(model: Mapping[str, Any], rows: Dataset, data_type: str) -> Dataset:
    """FATE's prediction rows: the class (binary: score above the threshold), its score, all scores."""
    probs = baseline.probabilities(model, rows.header, rows.features())
    classes: Sequence[Any] = model["param"]["classes"]
    labels = rows.labels()
    if model["meta"]["kind"] == baseline.BINARY:
        scores = probs[:, 1]
        positive = scores > float(model["meta"]["threshold"])
        result = np.where(positive, float(classes[1]), float(classes[0]))
    else:
        best = np.argmax(probs, axis=1)
        scores = probs[np.arange(len(rows)), best]
        result = np.asarray(classes, dtype=np.float64)[best]
    names = [str(label) for label in classes]
    return Dataset.predictions(
        rows.ids(),
        labels=labels if labels is not None else np.full(len(rows), np.nan),
        predict_result=result,
        predict_score=scores,
        predict_detail=[dict(zip(names, (float(p) for p in row), strict=True)) for row in probs],
        data_type=data_type,
    )


def _predict_batch(
    model: Mapping[str, Any], meta: Mapping[str, Any], data_type: str, batch: pa.RecordBatch
) -> pa.RecordBatch:
    rows = Dataset.of(pa.Table.from_batches([batch]), meta)
    table = predictions(model, rows, data_type).table
    return concat_batches(table.to_batches(), table.schema)
