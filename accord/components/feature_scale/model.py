"""What FeatureScale learns in fit and applies in predict, saved as plain JSON.

The layout follows FATE's ScaleMeta / ScaleParam: the meta (method, mode, the scaled columns, the bounds
asked for, with_mean / with_std, need_run) and, per scaled column, its lower and upper bound and, for
standard_scale, its mean and standard deviation; the header is kept so predict can find the columns.

Applying a model, as FATE does in both fit and predict, cuts each scaled value to the column's bounds
and then scales it: ``(x - lower) / (upper - lower)`` for min_max_scale, ``(x - mean) / std`` for
standard_scale. A range or deviation under 1e-6 counts as 1, so a constant column does not divide by 0.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, ValidationError

from accord.components.feature_scale.params import Bound, FeatureScaleParam, Method, Mode
from accord.errors import ComponentParameterError, DataFormatError, DataMismatchError

MODEL_NAME: Literal["FeatureScale"] = "FeatureScale"
MODEL_FORMAT = 1
TINY = 1e-6


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ScaleMeta(_Frozen):
    method: Method | None
    mode: Mode = "normal"
    scale_column: tuple[str, ...] = ()
    feat_upper: Bound = None
    feat_lower: Bound = None
    with_mean: bool = True
    with_std: bool = True
    need_run: bool = True


class ColumnScale(_Frozen):
    column_lower: float
    column_upper: float
    mean: float | None = None
    std: float | None = None


class ScaleModel(_Frozen):
    model_name: Literal["FeatureScale"] = MODEL_NAME
    format: int = MODEL_FORMAT
    meta: ScaleMeta
    header: tuple[str, ...] = ()
    col_scale_param: dict[str, ColumnScale] = {}

    @property
    def scales(self) -> bool:
        return self.meta.need_run and self.meta.method is not None and bool(self.col_scale_param)

    def to_json(self) -> dict[str, Any]:
        return self.model_dump(mode="json")

    @classmethod
    def from_json(cls, stored: Mapping[str, Any], *, component: str) -> ScaleModel:
        try:
            return cls.model_validate(stored)
        except ValidationError as error:
            problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in error.errors()[:5])
            raise DataMismatchError(
                f"{component} was given a model that is not a FeatureScale model ({problems})",
                hint="wire in the model output of a FeatureScale component",
            ) from None

    def summary(self) -> dict[str, dict[str, float | None]]:
        """Per scaled column its bounds, mean and deviation, as FATE's FeatureScale summary."""
        return {name: column.model_dump() for name, column in self.col_scale_param.items()}


def passthrough(params: FeatureScaleParam, header: Sequence[str]) -> ScaleModel:
    """The model of a component that scales nothing (need_run false, or no method)."""
    meta = ScaleMeta(method=params.method, mode=params.mode, need_run=params.need_run)
    return ScaleModel(meta=meta, header=tuple(header))


def fit(params: FeatureScaleParam, header: Sequence[str], features: np.ndarray, component: str) -> ScaleModel:
    """Learn the bounds (and mean / std) of the chosen columns of ``features`` (rows by ``header``)."""
    if params.method is None:
        return passthrough(params, header)
    chosen = chosen_columns(params, header, component)
    if chosen and len(features) == 0:
        raise DataFormatError(f"{component} has no rows to learn the scale from", hint="check its input data")
    values = features[:, chosen]
    check_columns(header, chosen, (~np.isnan(values)).sum(axis=0), component)
    lower, upper = _bounds(params, values, chosen, len(header), component)
    mean: np.ndarray | None = None
    std: np.ndarray | None = None
    if params.method == "standard_scale":
        cut = np.clip(values, lower, upper)
        mean = np.nanmean(cut, axis=0) if params.with_mean else np.zeros(len(chosen))
        std = np.nanstd(cut, axis=0) if params.with_std else np.ones(len(chosen))
    return fitted(params, header, chosen, (lower, upper), mean, std)


def check_columns(header: Sequence[str], chosen: list[int], counts: np.ndarray, component: str) -> None:
    """Refuse chosen columns without a single value (``counts``: the values of each chosen column)."""
    empty = [header[i] for i, count in zip(chosen, counts, strict=True) if count == 0]
    if empty:
        raise DataFormatError(
            f"{component}: the columns {empty[:10]} have no values to learn a scale from",
            hint="fill missing values in DataTransform (missing_fill) or leave these columns out",
        )


def fitted(
    params: FeatureScaleParam,
    header: Sequence[str],
    chosen: list[int],
    bounds: tuple[np.ndarray, np.ndarray],
    mean: np.ndarray | None,
    std: np.ndarray | None,
) -> ScaleModel:
    """The model of learned bounds, means and deviations (a deviation of about 0 scales by 1)."""
    lower, upper = bounds
    if std is not None:
        std = np.where(np.abs(std) < TINY, 1.0, std)
    columns = {
        header[index]: ColumnScale(
            column_lower=float(lower[k]),
            column_upper=float(upper[k]),
            mean=None if mean is None else float(mean[k]),
            std=None if std is None else float(std[k]),
        )
        for k, index in enumerate(chosen)
    }
    meta = ScaleMeta(
        method=params.method,
        mode=params.mode,
        scale_column=tuple(header[i] for i in chosen),
        feat_upper=params.feat_upper,
        feat_lower=params.feat_lower,
        with_mean=params.with_mean,
        with_std=params.with_std,
        need_run=params.need_run,
    )
    return ScaleModel(meta=meta, header=tuple(header), col_scale_param=columns)


def chosen_columns(params: FeatureScaleParam, header: Sequence[str], component: str) -> list[int]:
    """The indexes of the columns to scale, ascending: every one for -1, else the indexes and names.

    As in FATE, names not in this party's header are skipped (a common scale_names may list both
    parties' columns), but an index beyond the header is an error.
    """
    if not isinstance(params.scale_col_indexes, list):
        return list(range(len(header)))
    beyond = sorted({index for index in params.scale_col_indexes if index >= len(header)})
    if beyond:
        raise ComponentParameterError(
            f"{component}: scale_col_indexes {beyond} are beyond this party's {len(header)} feature columns",
            hint=f"use indexes 0 to {len(header) - 1} (set them per role when the parties differ), "
            "or -1 for every column",
            component=component,
        )
    position = {name: index for index, name in enumerate(header)}
    named = {position[name] for name in params.scale_names if name in position}
    return sorted(set(params.scale_col_indexes) | named)


def _per_column(bound: Bound, width: int, field: str, component: str) -> np.ndarray | None:
    """``bound`` as one number per feature column of the header (FATE indexes list bounds by column)."""
    if bound is None:
        return None
    if isinstance(bound, list):
        if len(bound) != width:
            raise ComponentParameterError(
                f"{component}: {field} has {len(bound)} values for {width} feature columns",
                hint=f"give one number for every column, or a list of {width} (one per feature column "
                "of this party; set it per role when the parties differ)",
                component=component,
            )
        return np.asarray(bound, dtype=np.float64)
    return np.full(width, float(bound))


def _bounds(
    params: FeatureScaleParam, values: np.ndarray, chosen: list[int], width: int, component: str
) -> tuple[np.ndarray, np.ndarray]:
    if params.mode == "cap":
        low_share, high_share = cap_shares(params, chosen, width, component)
        lower = np.array([np.nanquantile(values[:, k], q) for k, q in enumerate(low_share)])
        upper = np.array([np.nanquantile(values[:, k], q) for k, q in enumerate(high_share)])
        return lower, upper
    return normal_bounds(
        params, np.nanmin(values, axis=0), np.nanmax(values, axis=0), chosen, width, component
    )


def cap_shares(
    params: FeatureScaleParam, chosen: list[int], width: int, component: str
) -> tuple[np.ndarray, np.ndarray]:
    """Cap mode: the percentiles of each column that bound it (0 and 1 by default: its min and max).

    FATE reads them from an approximate quantile summary; these are exact, interpolated between
    neighbouring values.
    """
    given_lower = _per_column(params.feat_lower, width, "feat_lower", component)
    given_upper = _per_column(params.feat_upper, width, "feat_upper", component)
    low_share = np.zeros(len(chosen)) if given_lower is None else given_lower[chosen]
    high_share = np.ones(len(chosen)) if given_upper is None else given_upper[chosen]
    return low_share, high_share


def normal_bounds(
    params: FeatureScaleParam,
    lower: np.ndarray,
    upper: np.ndarray,
    chosen: list[int],
    width: int,
    component: str,
) -> tuple[np.ndarray, np.ndarray]:
    """Normal mode: the column's min and max, each pulled inside the given bounds."""
    given_lower = _per_column(params.feat_lower, width, "feat_lower", component)
    given_upper = _per_column(params.feat_upper, width, "feat_upper", component)
    if given_upper is not None:
        lower, upper = np.minimum(lower, given_upper[chosen]), np.minimum(upper, given_upper[chosen])
    if given_lower is not None:
        lower, upper = np.maximum(lower, given_lower[chosen]), np.maximum(upper, given_lower[chosen])
    return lower, upper


def apply(model: ScaleModel, header: Sequence[str], features: np.ndarray, component: str) -> np.ndarray:
    """``features`` (rows by ``header``) with the model's columns cut to their bounds and scaled."""
    if not model.scales:
        return features
    position = {name: index for index, name in enumerate(header)}
    missing = [name for name in model.col_scale_param if name not in position]
    if missing:
        raise DataMismatchError(
            f"{component}: the rows have no columns {missing[:10]}, which the scale model was fitted on",
            hint="scale data with the same header as the data the model was trained on",
        )
    names = list(model.col_scale_param)
    index = [position[name] for name in names]
    columns = [model.col_scale_param[name] for name in names]
    lower = np.array([column.column_lower for column in columns])
    upper = np.array([column.column_upper for column in columns])
    cut = np.clip(features[:, index], lower, upper)
    scaled = features.copy()
    if model.meta.method == "min_max_scale":
        span = upper - lower
        scaled[:, index] = (cut - lower) / np.where(np.abs(span) < TINY, 1.0, span)
    else:
        mean = np.array([0.0 if column.mean is None else column.mean for column in columns])
        std = np.array([1.0 if column.std is None else column.std for column in columns])
        scaled[:, index] = (cut - mean) / std
    return scaled
