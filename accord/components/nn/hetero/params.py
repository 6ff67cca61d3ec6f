"""HeteroNN's parameters: FATE 1.11's HeteroNNParam names, defaults and checks.

Options Accord does not run are kept valid here and refused by :func:`check_supported` with the field
named (ComponentFeatureUnsupported, 10127), never silently ignored.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from accord.components.hetero_lr.params import (
    BatchSize,
    CallbackParam,
    CrossValidationParam,
    EncryptedModeCalculatorParam,
    EncryptParam,
    PredictParam,
)
from accord.components.nn import define
from accord.errors import ComponentFeatureUnsupported, ComponentParameterError

MODULE = "HeteroNN"
# The callbacks the trainer runs: validation every validation_freqs, EarlyStopping on its metrics,
# ModelCheckpoint every save_freq epochs.
RUN_CALLBACKS = frozenset({"EarlyStopping", "PerformanceEvaluate", "ModelCheckpoint"})
ACTIVATIONS = {"relu": "ReLU", "sigmoid": "Sigmoid", "tanh": "Tanh", "linear": None, None: None}


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SelectorParam(_Section):
    method: Literal["relative"] | None = None
    beta: int = 1
    selective_size: int = Field(default=1024, gt=0)
    min_prob: float = 0
    random_state: int | None = None


class CoAEConfuserParam(_Section):
    enable: bool = False
    epoch: int = Field(default=50, gt=0)
    lr: float = 0.001
    lambda1: float = 1.0
    lambda2: float = 2.0
    verbose: bool = False


class DatasetParam(_Section):
    dataset_name: str | None = None
    param: dict[str, Any] = {}


class HeteroNNParam(_Section):
    task_type: Literal["classification", "regression"] = "classification"
    bottom_nn_define: dict[str, Any] | None = None
    top_nn_define: dict[str, Any] | None = None
    interactive_layer_define: dict[str, Any] | None = None
    interactive_layer_lr: float = Field(default=0.9, gt=0)
    config_type: Literal["pytorch"] = "pytorch"
    optimizer: str | dict[str, Any] | None = "SGD"
    loss: dict[str, Any] | str | None = None
    epochs: int = Field(default=100, gt=0)
    batch_size: BatchSize = -1
    early_stop: Literal["diff"] = "diff"
    tol: float = 1e-5
    seed: int = Field(default=100, gt=0)
    encrypt_param: EncryptParam = EncryptParam()
    encrypted_mode_calculator_param: EncryptedModeCalculatorParam = EncryptedModeCalculatorParam()
    predict_param: PredictParam = PredictParam()
    cv_param: CrossValidationParam = CrossValidationParam()
    validation_freqs: int | list[int] | None = None
    early_stopping_rounds: int | None = Field(default=None, ge=1)
    metrics: list[str] | None = None
    use_first_metric_only: bool = True
    selector_param: SelectorParam = SelectorParam()
    floating_point_precision: int | None = Field(default=23, ge=0, le=63)
    callback_param: CallbackParam = CallbackParam()
    coae_param: CoAEConfuserParam = CoAEConfuserParam()
    dataset: DatasetParam = DatasetParam()

    @property
    def validation_every(self) -> int | None:
        freqs = self.callback_param.validation_freqs or self.validation_freqs
        return freqs if isinstance(freqs, int) else None

    @property
    def stopping_rounds(self) -> int | None:
        return self.callback_param.early_stopping_rounds or self.early_stopping_rounds

    @property
    def callbacks(self) -> list[str]:
        return list(self.callback_param.callbacks)

    def interactive(self) -> dict[str, Any]:
        """The one InteractiveLayer of interactive_layer_define (checked by :func:`check_supported`)."""
        assert self.interactive_layer_define is not None
        return dict(next(iter(self.interactive_layer_define.values())))

    def optimizer_define(self) -> dict[str, Any]:
        """FATE's optimizer as a dict (a bare name means its defaults)."""
        if isinstance(self.optimizer, str):
            return {"optimizer": self.optimizer}
        return dict(self.optimizer or {"optimizer": "SGD"})

    def loss_define(self) -> dict[str, Any]:
        if isinstance(self.loss, str):
            return {"loss_fn": self.loss}
        if self.loss is None:
            default = "BCELoss" if self.task_type == "classification" else "MSELoss"
            return {"loss_fn": default}
        return dict(self.loss)


INTERACTIVE_KEYS = frozenset(
    {
        "layer",
        "initializer",
        "out_dim",
        "activation",
        "dropout",
        "need_guest",
        "host_num",
        "guest_dim",
        "host_dim",
        "guest_bias",
        "host_bias",
    }
)


def _refuse(component: str, field: str, why: str, hint: str) -> None:
    raise ComponentFeatureUnsupported(f"{component}: {field} {why}", hint=hint, field=field)


def check_supported(param: HeteroNNParam, component: str, *, role: str | None = None) -> None:
    """Refuse at submit what Accord's HeteroNN does not run; check the definitions it builds."""
    define.require_torch(component, MODULE)
    if param.cv_param.need_cv:
        _refuse(component, "cv_param.need_cv", "is not supported for HeteroNN", "train without cv")
    if isinstance(param.validation_freqs, list) or isinstance(param.callback_param.validation_freqs, list):
        _refuse(component, "validation_freqs", "as a list is not supported", "give an integer")
    unrun = [name for name in param.callback_param.callbacks if name not in RUN_CALLBACKS]
    if unrun:
        _refuse(component, "callback_param.callbacks", f"names {unrun}", f"use {sorted(RUN_CALLBACKS)}")
    if param.encrypt_param.method is None:
        _refuse(
            component,
            "encrypt_param.method",
            "null (plaintext interactive layer) is not run",
            "keep Paillier: hosts' activations cross encrypted",
        )
    if param.encrypted_mode_calculator_param.mode != "strict":
        _refuse(
            component,
            "encrypted_mode_calculator_param.mode",
            "other than 'strict' is not run",
            "leave mode 'strict'",
        )
    if param.dataset.dataset_name not in (None, "table"):
        _refuse(
            component,
            "dataset.dataset_name",
            f"{param.dataset.dataset_name!r} is not supported",
            "use the 'table' dataset (FATE's default)",
        )
    unknown = set(param.dataset.param) - {"flatten_label", "label_dtype", "feature_dtype", "label_col"}
    if unknown:
        _refuse(component, "dataset.param", f"has {sorted(unknown)}", "use flatten_label, label_dtype")
    if param.coae_param.enable and param.task_type != "classification":
        _refuse(component, "coae_param.enable", "needs classification", "CoAE protects class labels")
    if role == "host":
        define.check_sequential(param.bottom_nn_define, "bottom_nn_define", component, required=True)
        return
    if role == "guest":
        define.check_sequential(param.bottom_nn_define, "bottom_nn_define", component, required=True)
        define.check_sequential(param.top_nn_define, "top_nn_define", component, required=True)
    else:
        define.check_sequential(param.bottom_nn_define, "bottom_nn_define", component, required=False)
        define.check_sequential(param.top_nn_define, "top_nn_define", component, required=False)
    define.check_loss(param.loss_define(), "loss", component)
    define.check_optimizer(param.optimizer_define(), "optimizer", component)
    if param.interactive_layer_define is not None:  # null: a warm start takes the model's
        check_interactive(param, component)


def check_interactive(param: HeteroNNParam, component: str) -> None:
    layers = param.interactive_layer_define
    if not layers or len(layers) != 1:
        raise ComponentParameterError(
            f"{component}: interactive_layer_define must hold exactly one InteractiveLayer",
            hint='e.g. {"0-0": {"layer": "InteractiveLayer", "out_dim": 4, "guest_dim": 4, "host_dim": 4}}',
            field="interactive_layer_define",
        )
    spec = param.interactive()
    if spec.get("layer") != "InteractiveLayer":
        _refuse(
            component,
            "interactive_layer_define.layer",
            f"{spec.get('layer')!r} is not run",
            "use layer 'InteractiveLayer'",
        )
    extra = set(spec) - INTERACTIVE_KEYS
    if extra:
        raise ComponentParameterError(
            f"{component}: interactive_layer_define gives {sorted(extra)}",
            hint=f"InteractiveLayer takes {sorted(INTERACTIVE_KEYS)}",
            field="interactive_layer_define",
        )
    if spec.get("activation") not in ACTIVATIONS:
        _refuse(
            component,
            "interactive_layer_define.activation",
            f"{spec.get('activation')!r} is not run",
            f"use one of {[a for a in ACTIVATIONS if a]}",
        )
    if spec.get("need_guest", True) is False:
        _refuse(
            component,
            "interactive_layer_define.need_guest",
            "false is not run",
            "keep need_guest true (the guest has a bottom model)",
        )
    if spec.get("initializer"):
        _refuse(component, "interactive_layer_define.initializer", "is not run", "leave it {}")
    for name in ("out_dim", "guest_dim", "host_dim"):
        value = spec.get(name)
        if not isinstance(value, int) or value <= 0:
            raise ComponentParameterError(
                f"{component}: interactive_layer_define.{name} must be a positive integer, not {value!r}",
                field=f"interactive_layer_define.{name}",
            )
    dropout = spec.get("dropout")
    if dropout is not None and not (isinstance(dropout, int | float) and 0 <= dropout < 1):
        raise ComponentParameterError(
            f"{component}: interactive_layer_define.dropout must be null or in [0, 1), not {dropout!r}",
            field="interactive_layer_define.dropout",
        )
