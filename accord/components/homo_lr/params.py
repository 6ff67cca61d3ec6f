"""HomoLR's parameters: the names and defaults of FATE's HomoLogisticParam.

FATE 1.11's HomoLogisticParam adds ``aggregate_iters`` to LogisticParam; FATE 1.9's also had
``re_encrypt_batches``, ``use_proximal`` and ``mu``, which confs written for it still carry, so they are
accepted too (``use_proximal`` turns on FedProx's proximal term). ``encrypt_param.method`` defaults to
null: models are protected by secure aggregation, not by Paillier. What Accord does not do is refused by
:func:`check_supported`, naming the field.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, field_validator

from accord.components.hetero_lr.params import EncryptParam, LogisticParam, unrun_callbacks
from accord.errors import ComponentFeatureUnsupported


class HomoEncryptParam(EncryptParam):
    method: Literal["Paillier", "paillier"] | None = None


class HomoLRParam(LogisticParam):
    alpha: float = Field(default=1.0, ge=0)
    # FATE documents shuffle and masked_rate as hetero-only; accepted here and not acted on.
    masked_rate: float = Field(default=5, ge=0)
    decay: float = Field(default=1.0, ge=0)
    encrypt_param: HomoEncryptParam = HomoEncryptParam()
    re_encrypt_batches: int = Field(default=2, ge=0)
    aggregate_iters: int = Field(default=1, ge=1)
    use_proximal: bool = False
    mu: float = Field(default=0.1, ge=0)

    @field_validator("multi_class", "batch_strategy", mode="before")
    @classmethod
    def _lower_homo(cls, value: Any) -> Any:
        return value.lower() if isinstance(value, str) else value

    @property
    def fit_intercept(self) -> bool:
        return self.init_param.fit_intercept

    @property
    def validation_every(self) -> int | None:
        freqs = self.callback_param.validation_freqs or self.validation_freqs
        return freqs if isinstance(freqs, int) and freqs > 0 else None

    @property
    def validation_metrics(self) -> list[str]:
        chosen = self.callback_param.metrics or self.metrics or ["auc", "ks"]
        return [name for name in chosen if name in ("auc", "ks")] or ["auc"]


def check_supported(param: HomoLRParam, component: str) -> None:
    """Refuse, naming the field, what FATE's HomoLR offers and Accord's does not do."""
    rounds = param.early_stopping_rounds or param.callback_param.early_stopping_rounds
    freqs = param.callback_param.validation_freqs or param.validation_freqs
    refusals = {
        "optimizer": (
            param.optimizer == "sqn",
            "the sqn optimizer is not supported by HomoLR (nor by FATE's); use sgd, rmsprop, adam, "
            "adagrad or nesterov_momentum_sgd",
        ),
        "encrypt_param.method": (
            param.encrypt_param.method is not None,
            "Paillier encryption of the model is not supported for HomoLR: Accord protects each party's "
            "model with secure aggregation (pairwise X25519 masks) instead; set method to null",
        ),
        "stepwise_param.need_stepwise": (
            param.stepwise_param.need_stepwise,
            "stepwise is not supported for HomoLR; set it false",
        ),
        "early_stopping_rounds": (
            rounds is not None,
            "early stopping on validation metrics is not supported for HomoLR; use early_stop and tol",
        ),
        "validation_freqs": (
            isinstance(freqs, list),
            "validation_freqs as a list is not supported; give an integer (validate every N epochs)",
        ),
        "callback_param.callbacks": (
            bool(unrun_callbacks(param.callback_param.callbacks)),
            f"drop {unrun_callbacks(param.callback_param.callbacks)}: HomoLR takes EarlyStopping, "
            "PerformanceEvaluate and ModelCheckpoint",
        ),
        "batch_strategy": (
            param.batch_strategy == "random",
            "batch_strategy random is not supported for HomoLR; each epoch walks the rows in full batches",
        ),
    }
    for field, (refused, hint) in refusals.items():
        if refused:
            raise ComponentFeatureUnsupported(
                f"{component}: HomoLR's {field} asks for what is not supported", hint=hint, field=field
            )
