"""FTL's parameters: FATE 1.11's FTLParam names, defaults and checks, and the refusals.

Options Accord does not run are kept valid here and refused by :func:`check_supported` with the field
named (ComponentFeatureUnsupported, 10127), never silently ignored. No torch import: a site without
the ``nn`` extra still loads this to refuse the job at submit.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from accord.components.hetero_lr.params import (
    BatchSize,
    CallbackParam,
    EncryptedModeCalculatorParam,
    EncryptParam,
    PredictParam,
)
from accord.components.nn import define
from accord.components.nn.ftl import keras
from accord.errors import ComponentFeatureUnsupported

MODULE = "FTL"


class FTLParam(BaseModel):
    model_config = ConfigDict(extra="forbid")

    alpha: float = Field(default=1, gt=0)
    tol: float = 0.000001
    n_iter_no_change: bool = False
    validation_freqs: int | list[int] | None = None
    metrics: list[str] | None = None
    optimizer: str | dict[str, Any] = {"optimizer": "Adam", "learning_rate": 0.01}
    nn_define: dict[str, Any] = {}
    epochs: int = Field(default=1, gt=0)
    # FATE's calculator modes only change how ciphertexts are made, never a value: all are accepted.
    # FATE runs an RSA intersection inside FTL; Accord aligns ids with ECDH (see align.py) and refuses
    # any intersect_param setting rather than pretend to run it.
    intersect_param: dict[str, Any] = {}
    config_type: Literal["keras"] = "keras"
    # FATE's batch_size only chunks the forward/backward passes: it sums the batches' weight gradients
    # and steps once per exchange, which is what one full pass computes; so it changes no value here.
    batch_size: BatchSize = -1
    encrypte_param: EncryptParam = EncryptParam()
    encrypted_mode_calculator_param: EncryptedModeCalculatorParam = EncryptedModeCalculatorParam(
        mode="confusion_opt"
    )
    predict_param: PredictParam = PredictParam()
    mode: Literal["plain", "encrypted"] = "plain"
    communication_efficient: bool = False
    local_round: int = Field(default=5, gt=0)
    callback_param: CallbackParam = CallbackParam()

    def optimizer_define(self) -> dict[str, Any]:
        if isinstance(self.optimizer, str):
            return {"optimizer": self.optimizer}
        return dict(self.optimizer)

    @property
    def rounds(self) -> int:
        """Local rounds per exchange: FATE runs one unless communication_efficient is on."""
        return self.local_round if self.communication_efficient else 1


def _refuse(component: str, field: str, why: str, hint: str) -> None:
    raise ComponentFeatureUnsupported(f"{component}: {field} {why}", hint=hint, field=field)


def check_supported(param: FTLParam, component: str) -> None:
    """Refuse at submit what Accord's FTL does not run; check the network and optimizer it builds."""
    define.require_torch(component, MODULE)
    if param.nn_define:  # a component that applies a trained model needs none
        keras.check_sequential(param.nn_define, "nn_define", component)
    keras.check_optimizer(param.optimizer_define(), "optimizer", component)
    if param.intersect_param:
        _refuse(
            component,
            "intersect_param",
            "is not run: Accord's FTL aligns ids with its own ECDH intersection",
            "drop intersect_param",
        )
    if param.validation_freqs is not None or param.callback_param.validation_freqs is not None:
        _refuse(component, "validation_freqs", "is not supported for FTL", "drop validation_freqs")
    if param.metrics or param.callback_param.metrics or param.callback_param.callbacks:
        _refuse(component, "callback_param", "is not supported for FTL", "drop callbacks and metrics")
    if param.callback_param.early_stopping_rounds is not None:
        _refuse(
            component,
            "callback_param.early_stopping_rounds",
            "is not supported for FTL",
            "use n_iter_no_change with tol",
        )
    if param.encrypte_param.method is None and param.mode == "encrypted":
        _refuse(component, "encrypte_param.method", "must be Paillier in encrypted mode", "set Paillier")
