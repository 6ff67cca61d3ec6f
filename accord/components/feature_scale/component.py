"""FeatureScale: each party scales its own feature columns; nothing crosses the federation.

fit learns each chosen column's bounds (the column's min and max, the values given, or in cap mode the
given percentiles of the column) and, for standard_scale, the mean and standard deviation of the
column cut to those bounds; it saves them as the model and writes the scaled rows. predict applies a
saved model to other rows: the same columns scaled with the same numbers (and cut to the same bounds
when bounds were given), never refitted.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np

from accord.components.feature_scale.params import Bound, FeatureScaleParam
from accord.components.sdk import ComponentBase, ComponentContext, Dataset
from accord.errors import ComponentParameterError, DataFormatError, OperatingError

Context = ComponentContext[FeatureScaleParam]


class FeatureScale(ComponentBase[FeatureScaleParam]):
    params = FeatureScaleParam
    roles: ClassVar[frozenset[str]] = frozenset({"guest", "host"})

    def fit(self, ctx: Context) -> None:
        dataset = _input(ctx)
        params = ctx.params
        if not params.need_run or params.method is None:
            ctx.save_data(dataset)
            ctx.save_model({"need_run": params.need_run, "method": params.method, "columns": []})
            return
        chosen = chosen_columns(params, dataset.header, ctx.component)
        features = dataset.features()
        model = fit_scale(params, [dataset.header[i] for i in chosen], features[:, chosen], ctx.component)
        ctx.save_data(apply_scale(model, dataset, ctx.component))
        ctx.save_model(model)
        ctx.log.info("%s: %s of %d columns", ctx.component, params.method, len(chosen))

    def predict(self, ctx: Context) -> None:
        dataset = _input(ctx)
        models = ctx.input_models()
        if not models:
            raise OperatingError(
                f"{ctx.component} scales with a trained FeatureScale model but was given none",
                hint="wire the training FeatureScale's model into this component's model input",
            )
        model = models[0]
        if ctx.plan.party(ctx.role, ctx.party_id).job_parameters.job_type == "train":
            # Within a training job the model output is the model applied, as in FATE.
            ctx.save_model(model)
        ctx.save_data(apply_scale(model, dataset, ctx.component))


def _input(ctx: Context) -> Dataset:
    dataset = ctx.first_dataset("data", "train_data")
    if dataset is None:
        raise OperatingError(f"{ctx.component} has no input data", hint="wire data into input.data.data")
    if dataset.kind != "instances":
        raise DataFormatError(
            f"{ctx.component} scales parsed rows, but its input is {dataset.kind} rows",
            hint="put a DataTransform between the Reader and FeatureScale",
        )
    return dataset


def chosen_columns(params: FeatureScaleParam, header: Sequence[str], component: str) -> list[int]:
    """The indexes of the columns to scale, in header order: scale_col_indexes plus scale_names."""
    if params.scale_col_indexes == -1:
        return list(range(len(header)))
    indexes = set(params.scale_col_indexes) if isinstance(params.scale_col_indexes, list) else set()
    beyond = sorted(i for i in indexes if i >= len(header))
    if beyond:
        raise ComponentParameterError(
            f"{component}: scale_col_indexes {beyond} are beyond the {len(header)} feature columns",
            hint=f"use indexes 0 to {len(header) - 1}, or -1 for every column",
        )
    position = {name: i for i, name in enumerate(header)}
    unknown = [name for name in params.scale_names if name not in position]
    if unknown:
        raise ComponentParameterError(
            f"{component}: scale_names {unknown} are not feature columns of this party",
            hint=f"the header is {', '.join(header[:20])}{' ...' if len(header) > 20 else ''}",
        )
    indexes.update(position[name] for name in params.scale_names)
    return sorted(indexes)


def _bound(given: Bound, count: int, field: str, component: str) -> np.ndarray | None:
    if given is None:
        return None
    if isinstance(given, list):
        if len(given) != count:
            raise ComponentParameterError(
                f"{component}: {field} has {len(given)} values for {count} scaled columns",
                hint=f"give one number for every column, or a list of {count}",
            )
        return np.asarray(given, dtype=np.float64)
    return np.full(count, float(given))


def _percentiles(values: np.ndarray, shares: np.ndarray) -> np.ndarray:
    # Exact percentiles of the party's column (FATE estimates them with a quantile summary).
    return np.array([np.quantile(values[:, i], share) for i, share in enumerate(shares)])


def fit_scale(
    params: FeatureScaleParam, names: list[str], values: np.ndarray, component: str
) -> dict[str, Any]:
    """The model: per column its lower and upper bound, and for standard_scale its mean and std."""
    count = len(names)
    lower = _bound(params.feat_lower, count, "feat_lower", component)
    upper = _bound(params.feat_upper, count, "feat_upper", component)
    if len(values) == 0:
        raise DataFormatError(f"{component}: there are no rows to learn the scale from")
    if params.mode == "cap":
        for field, bound in (("feat_lower", lower), ("feat_upper", upper)):
            if bound is not None and ((bound < 0) | (bound > 1)).any():
                raise ComponentParameterError(
                    f"{component}: in cap mode {field} is a percentile between 0 and 1",
                    hint="use mode normal for bounds given as values",
                )
        lower = (
            None if lower is None else np.array([np.quantile(values[:, i], q) for i, q in enumerate(lower)])
        )
        upper = (
            None if upper is None else np.array([np.quantile(values[:, i], q) for i, q in enumerate(upper)])
        )
    lower = values.min(axis=0) if lower is None else lower
    upper = values.max(axis=0) if upper is None else upper
    crossed = [names[i] for i in np.flatnonzero(lower > upper)]
    if crossed:
        raise ComponentParameterError(
            f"{component}: feat_lower is above feat_upper for {crossed[:10]}",
            hint="give each column a lower bound no greater than its upper bound",
        )
    cut = np.clip(values, lower, upper)
    standard = params.method == "standard_scale"
    mean = cut.mean(axis=0) if standard and params.with_mean else np.zeros(count)
    std = cut.std(axis=0) if standard and params.with_std else np.ones(count)
    # A constant column keeps its centred values rather than dividing by zero (as scikit-learn does).
    std = np.where(std == 0, 1.0, std)
    return {
        "need_run": True,
        "method": params.method,
        "mode": params.mode,
        # Rows are cut to the bounds only when bounds were asked for; otherwise, as scikit-learn, new
        # rows outside the training range scale past it.
        "cut": params.feat_lower is not None or params.feat_upper is not None,
        "columns": [
            {"name": name, "lower": float(lo), "upper": float(up), "mean": float(mu), "std": float(sd)}
            for name, lo, up, mu, sd in zip(names, lower, upper, mean, std, strict=True)
        ],
    }


def apply_scale(model: dict[str, Any], dataset: Dataset, component: str) -> Dataset:
    columns: list[dict[str, Any]] = list(model.get("columns") or [])
    if not model.get("need_run", True) or not columns:
        return dataset
    position = {name: i for i, name in enumerate(dataset.header)}
    missing = [column["name"] for column in columns if column["name"] not in position]
    if missing:
        raise DataFormatError(
            f"{component}: the rows have no column {missing[:10]} that the scale model was fitted on",
            hint="predict on data with the training data's header",
        )
    index = [position[column["name"]] for column in columns]
    lower, upper, mean, std = (
        np.array([c[key] for c in columns]) for key in ("lower", "upper", "mean", "std")
    )
    features = dataset.features().copy()
    cut = np.clip(features[:, index], lower, upper) if model.get("cut", True) else features[:, index]
    if model["method"] == "min_max_scale":
        span = upper - lower
        features[:, index] = np.where(span > 0, (cut - lower) / np.where(span > 0, span, 1.0), 0.0)
    else:
        features[:, index] = (cut - mean) / std
    return Dataset.instances(
        dataset.ids(),
        features,
        header=dataset.header,
        labels=dataset.labels(),
        weights=dataset.weights(),
        sid_name=dataset.sid_name,
        label_name=dataset.label_name,
        extra=dataset.extra,
    )
