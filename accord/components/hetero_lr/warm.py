"""Warm start and model checkpoints of the linear models (HeteroLR, HomoLR, HeteroLinR, HeteroPoisson).

Warm start, as FATE 1.11: a training component with a ``model`` input (and train data) continues from
that model. Each party starts from its own part of it (the guest's weights and intercept, a host's
weights, a HomoLR client's whole model), and from its iteration count: ``max_iter`` counts every
iteration of the model, the earlier ones included, so a model of 5 iterations continued with
``max_iter`` 30 runs 25 more, with the learning-rate decay of iterations 5..29. The optimizer's moments
(rmsprop, adam, adagrad, Nesterov) start afresh, as FATE's do, so only sgd continues exactly as one run.

ModelCheckpoint (``callback_param.callbacks``): after every iteration whose 0-based index is a multiple
of ``save_freq`` (FATE's rule), each party keeps its model as it stood then through the SDK
(:meth:`ComponentContext.save_checkpoint`); the final model is saved as without the callback.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from accord.components.sdk import ComponentContext
from accord.errors import DataFormatError, DataMismatchError

CHECKPOINT = "ModelCheckpoint"


def warm_model(ctx: ComponentContext[Any]) -> dict[str, Any] | None:
    """The model this training run continues from (None: it starts afresh).

    Refused with DataMismatchError: a model of another module, a one-vs-rest model where the binary
    protocol runs (or the other way round, see ovr.py), a cross-validation model (it keeps no weights).
    """
    models = ctx.input_models()
    if not models:
        if getattr(ctx.params, "is_warm_start", False):
            raise DataFormatError(
                f"{ctx.component}: is_warm_start asks to continue from a model, and the component has no "
                "model input",
                hint=f'wire the earlier model in the DSL: "model": ["<component>.model"] of {ctx.component}',
            )
        return None
    if len(models) > 1:
        raise DataFormatError(
            f"{ctx.component} continues from one model, the DSL gives {len(models)}",
            hint="keep one model input",
        )
    module = ctx.task.module
    for ref in ctx.inputs("model") + ctx.inputs("isometric_model"):
        upstream = None if ref.external else ctx.plan.component(ref.component).module
        if upstream is not None and upstream != module:
            raise DataMismatchError(
                f"{ctx.component} ({module}) is given the model of {ref.component} ({upstream}) to continue "
                "training from",
                hint=f"wire in the model output of a {module} component",
            )
    model = models[0]
    meta = model.get("meta", {})
    if meta.get("need_cv"):
        raise DataMismatchError(
            f"{ctx.component}: the model to continue from is a cross-validation model (no weights kept)",
            hint="continue from a model trained with cv_param.need_cv false",
        )
    if meta.get("need_one_vs_rest") or "completed_models" in model.get("param", {}):
        raise DataMismatchError(
            f"{ctx.component}: the model to continue from is one-vs-rest (more than two classes), the "
            "training data has two",
            hint="continue from a model trained on the same labels",
        )
    if "param" not in model or ("weight" not in model["param"] and "iters" not in model["param"]):
        raise DataMismatchError(
            f"{ctx.component}: the model input holds no linear model to continue from",
            hint=f"wire in the model output of a {module} component",
        )
    return model


def iterations_of(model: dict[str, Any] | None) -> int:
    """How many iterations ``model`` ran (0: none, or no model)."""
    return int(model["param"].get("iters", 0)) if model is not None else 0


def party_weights(
    model: dict[str, Any], header: Sequence[str], component: str, *, fit_intercept: bool
) -> np.ndarray:
    """This party's weights of ``model`` in ``header`` order, then the intercept when ``fit_intercept``."""
    param = model["param"]
    weight: dict[str, float] = param.get("weight") or {}
    if set(weight) != set(header) or len(weight) != len(header):
        raise DataMismatchError(
            f"{component}: the model to continue from was trained on features {list(weight)[:8]}, this "
            f"party's data has {list(header)[:8]}",
            hint="continue from a model trained on data transformed the same way (same features)",
        )
    values = np.array([float(weight[name]) for name in header], dtype=np.float64)
    # A host's part has no intercept and says nothing of it: only a part that records it is checked.
    trained_with = bool(param.get("fit_intercept", fit_intercept))
    if trained_with != fit_intercept:
        raise DataMismatchError(
            f"{component}: the model to continue from was trained with fit_intercept {trained_with}, this "
            f"component has {fit_intercept}",
            hint=f"set init_param.fit_intercept to {str(trained_with).lower()} as the model was trained",
        )
    if fit_intercept:
        values = np.append(values, float(param.get("intercept", 0.0)))
    return values


def check_start(ctx: ComponentContext[Any], model: dict[str, Any] | None, start: int) -> None:
    """A host or arbiter refuses when its own model does not match where the guest starts from."""
    if start > 0 and model is None:
        raise DataMismatchError(
            f"{ctx.component}: the guest continues from a model of {start} iterations and this party "
            "was given none",
            hint="wire the same model input on every party",
        )
    if model is not None and "iters" in model["param"] and iterations_of(model) != start:
        raise DataMismatchError(
            f"{ctx.component}: this party's model ran {iterations_of(model)} iterations, the guest's {start}",
            hint="continue every party from the model of the same training component",
        )


class Checkpoints:
    """FATE's ModelCheckpoint callback for one party: when it is on, the model every ``save_freq``."""

    def __init__(self, ctx: ComponentContext[Any], meta: dict[str, Any]) -> None:
        self.ctx = ctx
        self.meta = meta
        callbacks = ctx.params.callback_param
        self.every: int | None = callbacks.save_freq if CHECKPOINT in callbacks.callbacks else None
        self.saved: list[int] = []

    def after(self, iteration: int, param: Callable[[], dict[str, Any]]) -> None:
        """The end of 0-based ``iteration``; ``param`` makes the model's param as it stands."""
        if self.every and iteration % self.every == 0:
            self.ctx.save_checkpoint(iteration, {"meta": self.meta, "param": param()})
            self.saved.append(iteration)
