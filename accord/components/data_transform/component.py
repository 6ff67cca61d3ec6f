"""The DataTransform component (also run for the legacy DataIO module): raw rows in, instances out.

fit reads the Reader's raw rows by the parameters (or the table's upload meta), writes float64 feature
rows (with data_type str, text ones: text.py) with labels, and saves a model holding the header and
replacement values; predict applies such a model so the rows it writes have the training header and
fills. need_run false passes the rows through untouched. Both run on the task's engine, a partition at a
time: fit learns the model in small passes over the partitions
(accord.components.data_transform.blocks), then transforms each one with it as predict does.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import pyarrow as pa
from pydantic import ValidationError

from accord.components.data_transform.blocks import RawMeta, learn, predict_rows
from accord.components.data_transform.cells import DEFAULT_MISSING, Pass, Passes
from accord.components.data_transform.dense import Parsed, read_dense
from accord.components.data_transform.model import Replacement, Settings, TransformModel
from accord.components.data_transform.params import DataTransformParam, Scalar
from accord.components.data_transform.sparse import read_svmlight, read_tag
from accord.components.data_transform.text import check_text
from accord.components.sdk import ComponentBase, ComponentContext, Dataset, DataTable
from accord.computing import Block
from accord.computing.block import concat_batches
from accord.errors import DataFormatError, OperatingError

MATCH_ID_COLUMN = "match_id"


class DataTransform(ComponentBase[DataTransformParam]):
    params = DataTransformParam

    def check_supported(self, params: DataTransformParam, component: str) -> None:
        # data_type str keeps text features (for an encoder downstream) where Accord can; the
        # rest of FATE's text reading is refused now rather than failed later.
        check_text(
            component,
            data_type=params.data_type,
            exclusive_data_type=params.exclusive_data_type,
            input_format=params.input_format,
            missing_fill=params.missing_fill,
            outlier_replace=params.outlier_replace,
        )

    def fit(self, ctx: ComponentContext[DataTransformParam]) -> None:
        raw = _raw_input(ctx)
        if not ctx.params.need_run:
            ctx.save_table(raw)
            ctx.save_model(TransformModel(need_run=False, sid_name=raw.sid_name).to_json())
            return
        settings = _settings(ctx.params, raw.extra)
        passes = fit_passes(ctx.params)
        # The upload meta may have made the data text (or the input sparse) after submit's check.
        _check_settings(ctx.component, settings, passes)
        meta = RawMeta(raw.header, raw.sid_name, raw.extra)
        model, learned = learn(raw.table, meta, settings, passes)
        ctx.check_cancelled()
        # The learned fills, with the fit's own missing markers (they turn untouched cells into NaN).
        applied = Passes(_stored(model.missing, model), _stored(model.outlier, model), passes.missing_values)
        rows = _transform(ctx, raw, meta, settings, model.header, learned, applied)
        ctx.save_model(model.to_json())
        summary = summarize(learned)
        if summary:
            ctx.tracker.set_summary(summary)
        ctx.log.info("%s: %d rows, %d features", ctx.component, rows, len(model.header))

    def predict(self, ctx: ComponentContext[DataTransformParam]) -> None:
        raw = _raw_input(ctx)
        trained = ctx.trained_model("transforms")
        model = TransformModel.from_json(trained, component=ctx.component)
        ctx.save_applied_model(model.to_json())
        if not model.need_run or model.settings is None:
            ctx.save_table(raw)
            return
        _check_settings(ctx.component, model.settings, predict_passes(model))
        meta = RawMeta(raw.header, raw.sid_name, raw.extra)
        found = predict_rows(raw.table, meta, model, model.settings)
        _transform(ctx, raw, meta, model.settings, model.header, found, predict_passes(model))
        summary = summarize(found)
        if summary:
            ctx.tracker.set_summary(summary)


def _transform(
    ctx: ComponentContext[DataTransformParam],
    raw: DataTable,
    meta: RawMeta,
    settings: Settings,
    header: list[str],
    found: Parsed,
    passes: Passes,
) -> int:
    """Parse every block with the known header, labels and fills; save the rows and return how many."""
    out = to_dataset(found, meta.dataset(None), settings)
    rows = raw.table.map_partitions_with_index(
        functools.partial(transform_block, meta, settings, header, found.label_mapping, passes)
    )
    return ctx.save_table(
        DataTable(
            rows, "instances", out.header, sid_name=out.sid_name, label_name=out.label_name, extra=out.extra
        )
    )


def transform_block(
    meta: RawMeta,
    settings: Settings,
    header: list[str],
    label_mapping: dict[str, int] | None,
    passes: Passes,
    index: int,
    block: Block,
) -> Block:
    """One partition of raw rows as instances (runs on the engine's workers)."""
    raw = meta.dataset(block)
    parsed = read(raw, settings, passes, header=header, label_mapping=label_mapping)
    table = to_dataset(parsed, raw, settings).table
    return concat_batches(table.to_batches(), table.schema)


def _raw_input(ctx: ComponentContext[DataTransformParam]) -> DataTable:
    raw = ctx.input_table("data")
    if raw is None:
        raise OperatingError(
            f"{ctx.component} has no data input",
            hint=f'give it one: "input": {{"data": {{"data": ["reader_0.data"]}}}} (on {ctx.role})',
        )
    if raw.kind != "raw":
        raise DataFormatError(
            f"{ctx.component} reads the rows a Reader outputs, but its input holds {raw.kind} rows",
            hint="take DataTransform's data from a Reader",
        )
    if raw.table.count() == 0:
        raise DataFormatError(f"{ctx.component}'s input table has no rows", hint="upload data into the table")
    return raw


def _check_settings(component: str, settings: Settings, passes: Passes) -> None:
    check_text(
        component,
        data_type=settings.data_type,
        exclusive_data_type=settings.exclusive_data_type,
        input_format=settings.input_format,
        missing_fill=passes.missing is not None,
        outlier_replace=passes.outlier is not None,
    )


def _settings(params: DataTransformParam, extra: Mapping[str, Any]) -> Settings:
    meta = extra.get("meta")
    try:
        return Settings.of(params, meta if isinstance(meta, dict) else None)
    except ValidationError as error:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in error.errors())
        raise DataFormatError(
            f"the table's upload meta does not describe a readable table: {problems}",
            hint="fix the meta given at upload (input_format, delimiter, with_label, ...)",
        ) from None


def fit_passes(params: DataTransformParam) -> Passes:
    missing = (
        Pass(params.missing_impute, params.missing_fill_method, params.default_value)
        if params.missing_fill
        else None
    )
    outlier = (
        Pass(params.outlier_impute, params.outlier_replace_method, params.outlier_replace_value)
        if params.outlier_replace
        else None
    )
    return Passes(missing, outlier, params.missing_impute)


def predict_passes(model: TransformModel) -> Passes:
    return Passes(_stored(model.missing, model), _stored(model.outlier, model), model.missing.values)


def _stored(replacement: Replacement, model: TransformModel) -> Pass | None:
    if not replacement.enabled:
        return None
    return Pass(replacement.values, replacement.method, fill=replacement.fill_for(model.header))


def read(
    raw: Dataset,
    settings: Settings,
    passes: Passes,
    *,
    header: list[str] | None = None,
    label_mapping: dict[str, int] | None = None,
    check_cancelled: Callable[[], None] = lambda: None,
) -> Parsed:
    if settings.input_format == "dense":
        parsed = read_dense(
            raw, settings, passes, header=header, label_mapping=label_mapping, check_cancelled=check_cancelled
        )
    elif settings.input_format == "sparse":
        parsed = read_svmlight(
            raw,
            settings,
            passes.nan_cells,
            header=header,
            label_mapping=label_mapping,
            check_cancelled=check_cancelled,
        )
    else:
        parsed = read_tag(
            raw, settings, passes, header=header, label_mapping=label_mapping, check_cancelled=check_cancelled
        )
    if not parsed.header:
        raise DataFormatError(
            "the rows hold no feature columns",
            hint="a party needs at least one feature; check with_label, label_name and with_match_id",
        )
    return parsed


def to_dataset(parsed: Parsed, raw: Dataset, settings: Settings) -> Dataset:
    extra: dict[str, Any] = {
        "input_format": settings.input_format,
        "output_format": settings.output_format,
        "data_type": settings.data_type,
    }
    if parsed.labels is not None:
        extra["label_type"] = settings.label_type
    if parsed.label_mapping is not None:
        extra["label_mapping"] = parsed.label_mapping
    if parsed.match_id_name is not None:
        extra["match_id_name"] = parsed.match_id_name
    # Text features (data_type "str") travel in their own column, for the one-hot encoders.
    build, cells = (
        (Dataset.text_instances, parsed.texts)
        if parsed.texts is not None
        else (Dataset.instances, parsed.features)
    )
    dataset = build(
        parsed.ids,
        cells,
        header=parsed.header,
        labels=parsed.labels,
        sid_name=raw.sid_name,
        label_name=parsed.label_name,
        extra=extra,
    )
    if parsed.match_ids is None:
        return dataset
    table = dataset.table.append_column(MATCH_ID_COLUMN, pa.array(list(parsed.match_ids), type=pa.string()))
    return Dataset(table, "instances", dataset.header, dataset.sid_name, dataset.label_name, dataset.extra)


def summarize(parsed: Parsed) -> dict[str, Any]:
    """FATE's DataTransform summary: per column fill values and the share of rows replaced."""
    summary: dict[str, Any] = {}
    if parsed.missing.enabled:
        summary["missing_fill_info"] = {
            "missing_value": [str(v) for v in _listed(parsed.missing.values)],
            "missing_impute_value": dict(parsed.missing.fill),
            "missing_impute_rate": _rounded(parsed.missing.rate),
        }
    if parsed.outlier.enabled:
        summary["outlier_replace_rate"] = {
            "outlier_value": [str(v) for v in _listed(parsed.outlier.values)],
            "outlier_replace_value": dict(parsed.outlier.fill),
            "outlier_replace_rate": _rounded(parsed.outlier.rate),
        }
    return summary


def _listed(values: list[Scalar | None] | None) -> list[Scalar | None]:
    return list(DEFAULT_MISSING) if values is None else values


def _rounded(rates: dict[str, float]) -> dict[str, float]:
    return {name: float(np.round(rate, 6)) for name, rate in rates.items()}
