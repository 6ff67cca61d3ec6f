"""LocalBaseline's model: scikit-learn's LogisticRegression fitted on one party's rows, kept as JSON.

FATE 1.11 passes ``model_opts`` to the scikit-learn it pins (1.0). Newer scikit-learn renamed part of
that API (``penalty`` gave way to ``l1_ratio`` and ``C=inf``; ``multi_class`` is gone and one-vs-rest
is a wrapper), so the options are translated to the installed version here, keeping what each FATE
option means. One-vs-rest is fitted as scikit-learn 1.0 fitted it: one binary model per class, the
class weights of the original labels applied as sample weights.

The saved model is the coefficients, intercepts and classes (never a pickle), and prediction is
computed from them: the probabilities equal ``predict_proba`` of the fitted estimator.
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from accord.errors import ComponentFeatureUnsupported, DataFormatError, DataMismatchError, OperatingError

if TYPE_CHECKING:
    from sklearn.linear_model import LogisticRegression  # type: ignore[import-untyped]

MODULE = "LocalBaseline"
BINARY, OVR, MULTINOMIAL = "binary", "ovr", "multinomial"


def _sklearn() -> Any:
    """scikit-learn, which only fitting needs (predicting reads the JSON model with numpy alone)."""
    try:
        import sklearn.base  # type: ignore[import-untyped]
        import sklearn.linear_model
        import sklearn.utils.class_weight  # type: ignore[import-untyped]
    except ImportError:  # pragma: no cover - a runtime dependency; only a broken install lacks it
        raise OperatingError(
            "LocalBaseline fits scikit-learn's LogisticRegression, and scikit-learn is not installed on "
            "this worker",
            hint="pip install 'scikit-learn>=1.4' into the worker's environment",
        ) from None
    return sklearn


def _penalty_deprecated(cls: Any) -> bool:
    default = inspect.signature(cls).parameters["penalty"].default
    return isinstance(default, str) and default == "deprecated"


def estimator(opts: Mapping[str, Any]) -> LogisticRegression:
    """The installed scikit-learn's LogisticRegression doing what ``opts`` asked of scikit-learn 1.0."""
    cls = _sklearn().linear_model.LogisticRegression
    kwargs = {name: value for name, value in opts.items() if name not in ("penalty", "multi_class")}
    penalty = opts.get("penalty", "l2")
    if penalty == "elasticnet" and opts.get("l1_ratio") is None:
        raise ComponentFeatureUnsupported(
            "LocalBaseline model_opts.penalty 'elasticnet' needs model_opts.l1_ratio",
            hint="set l1_ratio between 0 (l2) and 1 (l1), as scikit-learn requires",
        )
    if _penalty_deprecated(cls):
        if penalty in (None, "none"):
            kwargs["C"] = np.inf
        elif penalty in ("l1", "l2"):
            kwargs["l1_ratio"] = 1.0 if penalty == "l1" else 0.0
    else:
        kwargs["penalty"] = None if penalty == "none" else penalty
    return cls(**kwargs)


def _labels(labels: np.ndarray) -> np.ndarray:
    """Whole-number labels as ints, so classes read 0, 1, 2 (as FATE's int labels), not 0.0, 1.0."""
    if np.all(np.isfinite(labels)) and np.all(labels == np.round(labels)):
        return labels.astype(np.int64)
    return labels


def _class_weight(opts: Mapping[str, Any], labels: np.ndarray) -> Any:
    weights = opts.get("class_weight")
    if not isinstance(weights, Mapping):
        return weights
    # JSON keys are text; scikit-learn wants the label values themselves.
    kind = int if labels.dtype.kind in "iu" else float
    return {kind(str(key)): float(value) for key, value in weights.items()}


def fit(
    opts: Mapping[str, Any],
    header: Sequence[str],
    features: np.ndarray,
    labels: np.ndarray,
    weights: np.ndarray | None,
    threshold: float,
) -> dict[str, Any]:
    """Fit as FATE does and return the JSON model."""
    y = _labels(labels)
    classes = np.unique(y)
    if classes.size < 2:
        raise DataFormatError(
            f"LocalBaseline needs at least two label values to fit, the data has {classes.tolist()}",
            hint="train on rows of more than one class",
        )
    opts = {**opts, "class_weight": _class_weight(opts, y)}
    solver = opts.get("solver", "lbfgs")
    multi_class = opts.get("multi_class", "auto")
    if classes.size == 2:
        if multi_class == "multinomial":
            raise ComponentFeatureUnsupported(
                "LocalBaseline model_opts.multi_class 'multinomial' on two classes (a two-class softmax) "
                "is not run: the installed scikit-learn fits two classes as a binary model only",
                hint="drop multi_class or set it to 'auto' or 'ovr' for binary labels",
            )
        kind = BINARY
    elif multi_class == "ovr" or (multi_class == "auto" and solver == "liblinear"):
        kind = OVR
    else:
        kind = MULTINOMIAL
    base = estimator(opts)
    if kind == OVR:
        coef, intercept, iters = _fit_ovr(base, opts, features, y, classes, weights)
    else:
        fitted = base.fit(features, y, sample_weight=weights)
        coef, intercept = fitted.coef_, np.broadcast_to(fitted.intercept_, (fitted.coef_.shape[0],))
        iters = [int(np.max(fitted.n_iter_))]
    return _to_json(opts, kind, header, classes, coef, intercept, iters, threshold)


def _fit_ovr(
    base: LogisticRegression,
    opts: Mapping[str, Any],
    features: np.ndarray,
    y: np.ndarray,
    classes: np.ndarray,
    weights: np.ndarray | None,
) -> tuple[np.ndarray, np.ndarray, list[int]]:
    sample_weight = np.ones(len(y)) if weights is None else np.asarray(weights, dtype=np.float64).copy()
    class_weight = opts.get("class_weight")
    if class_weight is not None:
        # scikit-learn 1.0's one-vs-rest weighed each row by its original class, not by 0 / 1.
        per_class = _sklearn().utils.class_weight.compute_class_weight(class_weight, classes=classes, y=y)
        sample_weight *= per_class[np.searchsorted(classes, y)]
    clone = _sklearn().base.clone
    base = clone(base).set_params(class_weight=None)
    coefs, intercepts, iters = [], [], []
    for label in classes:
        fitted = clone(base).fit(features, (y == label).astype(np.int64), sample_weight=sample_weight)
        coefs.append(fitted.coef_[0])
        intercepts.append(float(np.ravel(fitted.intercept_)[0]))
        iters.append(int(np.max(fitted.n_iter_)))
    return np.array(coefs), np.array(intercepts), iters


def _to_json(
    opts: Mapping[str, Any],
    kind: str,
    header: Sequence[str],
    classes: np.ndarray,
    coef: np.ndarray,
    intercept: np.ndarray,
    iters: list[int],
    threshold: float,
) -> dict[str, Any]:
    max_iter = int(opts.get("max_iter", 100))
    names = [str(name) for name in header]
    rows = [[float(v) for v in row] for row in np.atleast_2d(coef)]
    intercepts = [float(v) for v in np.ravel(intercept)]
    converged = all(count < max_iter for count in iters)
    fit_intercept = bool(opts.get("fit_intercept", True))
    param: dict[str, Any] = {
        "header": names,
        "classes": classes.tolist(),
        "coef": rows,
        "intercepts": intercepts,
        "iters": max(iters),
        "is_converged": converged,
        "best_iteration": -1,
    }
    if kind == BINARY:
        # FATE's LRModelParam fields, as the board and `model output` show them.
        param["weight"] = dict(zip(names, rows[0], strict=True))
        param["intercept"] = intercepts[0]
    else:
        param["need_one_vs_rest"] = kind == OVR
        param["one_vs_rest_result"] = {
            "one_vs_rest_classes": [str(label) for label in classes.tolist()],
            "completed_models": [
                {"weight": dict(zip(names, row, strict=True)), "intercept": b, "iters": count}
                for row, b, count in zip(rows, intercepts, _per_class(iters, len(rows)), strict=True)
            ],
        }
    meta = {
        "need_run": True,
        "kind": kind,
        "penalty": opts.get("penalty", "l2"),
        "tol": float(opts.get("tol", 1e-4)),
        "fit_intercept": fit_intercept,
        "optimizer": opts.get("solver", "lbfgs"),
        "need_one_vs_rest": kind == OVR,
        "max_iter": max_iter,
        "threshold": threshold,
        "model_opts": {name: value for name, value in opts.items() if value is not None},
    }
    return {"module": MODULE, "meta": meta, "param": param}


def _per_class(iters: list[int], classes: int) -> list[int]:
    return iters if len(iters) == classes else iters * classes


def summary(model: Mapping[str, Any]) -> dict[str, Any]:
    """FATE's get_model_summary: the coefficients per class (one-vs-rest) or the one model's."""
    param, kind = model["param"], model["meta"]["kind"]
    names = param["header"]
    if kind == BINARY:
        return {
            "coef": param["weight"],
            "intercept": param["intercept"],
            "is_converged": param["is_converged"],
            "iters": param["iters"],
            "one_vs_rest": False,
        }
    out: dict[str, Any] = {"one_vs_rest": kind == OVR}
    for label, row, b in zip(param["classes"], param["coef"], param["intercepts"], strict=True):
        out[str(label)] = {
            "coef": dict(zip(names, row, strict=True)),
            "intercept": b,
            "is_converged": param["is_converged"],
            "iters": param["iters"],
        }
    return out


def probabilities(model: Mapping[str, Any], header: Sequence[str], features: np.ndarray) -> np.ndarray:
    """Per row, the probability of each class (columns in ``param.classes`` order) from the JSON model."""
    param = model["param"]
    trained = list(param["header"])
    if sorted(trained) != sorted(header):
        raise DataMismatchError(
            f"LocalBaseline's model was trained on features {trained[:8]} but the data has "
            f"{list(header)[:8]}",
            hint="predict on data transformed like the training data (same DataTransform model)",
        )
    order = [list(header).index(name) for name in trained]
    x = features[:, order]
    coef = np.asarray(param["coef"], dtype=np.float64)
    decision = x @ coef.T + np.asarray(param["intercepts"], dtype=np.float64)
    kind = model["meta"]["kind"]
    if kind == BINARY:
        positive = _expit(decision[:, 0])
        return np.column_stack([1.0 - positive, positive])
    if kind == OVR:
        scores = _expit(decision)
        normalised: np.ndarray = scores / scores.sum(axis=1, keepdims=True)
        return normalised
    shifted = np.exp(decision - decision.max(axis=1, keepdims=True))
    result: np.ndarray = shifted / shifted.sum(axis=1, keepdims=True)
    return result


def _expit(values: np.ndarray) -> np.ndarray:
    # exp of a negative number only: no overflow for large |values|.
    magnitude = np.exp(-np.abs(values))
    result: np.ndarray = np.where(values >= 0, 1.0 / (1.0 + magnitude), magnitude / (1.0 + magnitude))
    return result
