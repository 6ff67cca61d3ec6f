"""FATE's ``EvaluateParam``: what the Evaluation module computes, with FATE 1.11's names and defaults.

Validation follows FATE's ``EvaluateParam.check``: ``eval_type`` is case-insensitive, metric names are
lower-cased and their aliases (``mae``, ``rmse``, ``acc``...) resolved, an empty list means every
metric of the eval type, a metric must belong to the eval type, and asking for one of precision and
recall brings in the other (FATE draws them as a pair). After validation ``metrics`` holds the resolved
full names, in the order given. Every problem raises ``ComponentParameterError`` naming the field and
what it accepts.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError, model_validator

from accord.errors import ComponentParameterError

BINARY = "binary"
MULTI = "multi"
REGRESSION = "regression"
CLUSTERING = "clustering"
EVAL_TYPES: tuple[str, ...] = (BINARY, MULTI, REGRESSION, CLUSTERING)

AUC = "auc"
KS = "ks"
LIFT = "lift"
GAIN = "gain"
PRECISION = "precision"
RECALL = "recall"
ACCURACY = "accuracy"
ROC = "roc"
CONFUSION_MAT = "confusion_mat"
PSI = "psi"
F1_SCORE = "f1_score"
QUANTILE_PR = "quantile_pr"
EXPLAINED_VARIANCE = "explained_variance"
MEAN_ABSOLUTE_ERROR = "mean_absolute_error"
MEAN_SQUARED_ERROR = "mean_squared_error"
MEAN_SQUARED_LOG_ERROR = "mean_squared_log_error"
MEDIAN_ABSOLUTE_ERROR = "median_absolute_error"
R2_SCORE = "r2_score"
ROOT_MEAN_SQUARED_ERROR = "root_mean_squared_error"
JACCARD_SIMILARITY_SCORE = "jaccard_similarity_score"
FOWLKES_MALLOWS_SCORE = "fowlkes_mallows_score"
ADJUSTED_RAND_SCORE = "adjusted_rand_score"
DAVIES_BOULDIN_INDEX = "davies_bouldin_index"
DISTANCE_MEASURE = "distance_measure"
CONTINGENCY_MATRIX = "contingency_matrix"

BINARY_METRICS: tuple[str, ...] = (
    AUC,
    KS,
    LIFT,
    GAIN,
    ACCURACY,
    PRECISION,
    RECALL,
    ROC,
    CONFUSION_MAT,
    PSI,
    F1_SCORE,
    QUANTILE_PR,
)
MULTI_METRICS: tuple[str, ...] = (ACCURACY, PRECISION, RECALL)
REGRESSION_METRICS: tuple[str, ...] = (
    EXPLAINED_VARIANCE,
    MEAN_ABSOLUTE_ERROR,
    MEAN_SQUARED_ERROR,
    MEDIAN_ABSOLUTE_ERROR,
    R2_SCORE,
    ROOT_MEAN_SQUARED_ERROR,
)
CLUSTERING_METRICS: tuple[str, ...] = (
    JACCARD_SIMILARITY_SCORE,
    FOWLKES_MALLOWS_SCORE,
    ADJUSTED_RAND_SCORE,
    DAVIES_BOULDIN_INDEX,
    DISTANCE_MEASURE,
    CONTINGENCY_MATRIX,
)

# FATE 1.11 uses the full list of an eval type when ``metrics`` is empty; the allowed list is the same.
METRICS_BY_EVAL_TYPE: Mapping[str, tuple[str, ...]] = {
    BINARY: BINARY_METRICS,
    MULTI: MULTI_METRICS,
    REGRESSION: REGRESSION_METRICS,
    CLUSTERING: CLUSTERING_METRICS,
}

# Every name FATE recognises, including ones no eval type allows (msle), so that the error can say
# "not for this eval type" rather than "unknown".
KNOWN_METRICS: frozenset[str] = frozenset(
    (*BINARY_METRICS, *REGRESSION_METRICS, MEAN_SQUARED_LOG_ERROR, *CLUSTERING_METRICS)
)

METRIC_ALIASES: Mapping[str, str] = {
    "l1": MEAN_ABSOLUTE_ERROR,
    "mae": MEAN_ABSOLUTE_ERROR,
    "regression_l1": MEAN_ABSOLUTE_ERROR,
    "l2": MEAN_SQUARED_ERROR,
    "mse": MEAN_SQUARED_ERROR,
    "regression_l2": MEAN_SQUARED_ERROR,
    "regression": MEAN_SQUARED_ERROR,
    "l2_root": ROOT_MEAN_SQUARED_ERROR,
    "rmse": ROOT_MEAN_SQUARED_ERROR,
    "msle": MEAN_SQUARED_LOG_ERROR,
    "r2": R2_SCORE,
    "acc": ACCURACY,
    "dbi": DAVIES_BOULDIN_INDEX,
    "fmi": FOWLKES_MALLOWS_SCORE,
    "ri": ADJUSTED_RAND_SCORE,
    "jaccard": JACCARD_SIMILARITY_SCORE,
}

_FIELDS: tuple[str, ...] = (
    "eval_type",
    "pos_label",
    "need_run",
    "metrics",
    "unfold_multi_result",
    "run_clustering_arbiter_metric",
)


def _bad(field: str, value: Any, allowed: str, *, why: str = "is not supported") -> ComponentParameterError:
    return ComponentParameterError(
        f"Evaluation parameter {field}={value!r} {why}",
        hint=f"{field} accepts {allowed}",
        field=field,
    )


def resolve_metrics(eval_type: str, metrics: Sequence[str] | None) -> list[str]:
    """``metrics`` as FATE resolves them for ``eval_type``: full names, defaults if empty, P/R paired."""
    allowed = METRICS_BY_EVAL_TYPE[eval_type]
    requested = list(metrics) if metrics else list(allowed)
    accepted = f"for eval_type {eval_type!r}: {', '.join(allowed)} (or their aliases)"
    resolved: list[str] = []
    for name in requested:
        if not isinstance(name, str):
            raise _bad("metrics", name, "metric names (strings)", why="is not a metric name")
        lowered = name.lower()
        full = lowered if lowered in KNOWN_METRICS else METRIC_ALIASES.get(lowered)
        if full is None:
            raise _bad("metrics", name, accepted, why="is unknown")
        if full not in allowed:
            raise _bad("metrics", name, accepted, why=f"is not a metric of eval_type {eval_type!r}")
        if full not in resolved:
            resolved.append(full)
    # FATE draws precision and recall as one pair of curves, so either one brings in the other.
    if RECALL in resolved and PRECISION not in resolved:
        resolved.append(PRECISION)
    if PRECISION in resolved and RECALL not in resolved:
        resolved.append(RECALL)
    return resolved


class EvaluateParam(BaseModel):
    """FATE's ``EvaluateParam`` (FATE 1.11 names and defaults).

    ``eval_type``: binary, multi, regression or clustering (lower-cased). ``pos_label``: the label value
    of the positive class for binary evaluation (int, float or str). ``metrics``: metric names or
    aliases; empty means all metrics of the eval type. ``unfold_multi_result``: also evaluate a
    multi-class result as one-vs-rest binary results (AUC and KS per class). ``need_run``: False skips
    the module. ``run_clustering_arbiter_metric``: the arbiter computes the internal clustering metrics
    (Davies-Bouldin, distance measure) only when true, as in FATE.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    eval_type: str = BINARY
    pos_label: int | float | str = 1
    need_run: bool = True
    metrics: tuple[str, ...] = ()
    unfold_multi_result: bool = False
    run_clustering_arbiter_metric: bool = False

    def __init__(self, **data: Any) -> None:
        try:
            super().__init__(**data)
        except ValidationError as error:
            raise _from_validation_error(error) from None

    @classmethod
    def from_conf(cls, conf: Mapping[str, Any] | None) -> EvaluateParam:
        """The parameters from a component's runtime-conf section (``None`` means all defaults)."""
        try:
            return cls.model_validate(dict(conf or {}))
        except ValidationError as error:
            raise _from_validation_error(error) from None

    @model_validator(mode="before")
    @classmethod
    def _check_like_fate(cls, data: Any) -> Any:
        if isinstance(data, EvaluateParam):
            return data
        if not isinstance(data, Mapping):
            raise ComponentParameterError(
                f"Evaluation parameters must be a mapping of names to values, got {type(data).__name__}",
                hint=f"give an object with some of: {', '.join(_FIELDS)}",
            )
        unknown = sorted(str(key) for key in data if key not in _FIELDS)
        if unknown:
            field = unknown[0]
            raise _bad(field, data[field], f"only these names: {', '.join(_FIELDS)}", why="is unknown")
        checked = dict(data)

        eval_type = checked.get("eval_type", BINARY)
        if not isinstance(eval_type, str) or eval_type.lower() not in EVAL_TYPES:
            raise _bad("eval_type", eval_type, f"one of {', '.join(EVAL_TYPES)}")
        checked["eval_type"] = eval_type = eval_type.lower()

        pos_label = checked.get("pos_label", 1)
        if isinstance(pos_label, bool) or not isinstance(pos_label, int | float | str):
            raise _bad("pos_label", pos_label, "an int, a float or a str (the label of the positive class)")

        for flag in ("need_run", "unfold_multi_result", "run_clustering_arbiter_metric"):
            if flag in checked and not isinstance(checked[flag], bool):
                raise _bad(flag, checked[flag], "true or false")

        metrics = checked.get("metrics")
        if metrics is not None and (isinstance(metrics, str) or not isinstance(metrics, Sequence)):
            raise _bad("metrics", metrics, "a list of metric names (empty for all of the eval type)")
        checked["metrics"] = tuple(resolve_metrics(eval_type, metrics))
        return checked


def _from_validation_error(error: ValidationError) -> ComponentParameterError:
    first = error.errors()[0]
    field = ".".join(str(part) for part in first["loc"]) or "<parameters>"
    return ComponentParameterError(
        f"Evaluation parameter {field} is invalid: {first['msg']}",
        hint=f"Evaluation accepts {', '.join(_FIELDS)} with FATE's types",
        field=field,
    )
