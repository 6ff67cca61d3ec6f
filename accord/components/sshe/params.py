"""HeteroSSHELR's and HeteroSSHELinR's parameters: FATE 1.11's HeteroSSHELRParam / HeteroSSHELinRParam.

Names and defaults are FATE's; so are the cross-field checks of their ``check()`` (penalty and
optimizer against ``reveal_every_iter``, validation only when weights are revealed every iteration,
encrypted_reveal_in_host never with reveal_every_iter). What Accord does not run is refused by
:func:`check_supported` with the field named.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from accord.components.hetero_lr.common import META_FIELDS
from accord.components.hetero_lr.params import (
    EncryptedModeCalculatorParam,
    EncryptParam,
    LogisticParam,
    ValidationKnobs,
)
from accord.components.linear.params import REGRESSION_METRICS, _GeneralizedParam
from accord.errors import ComponentFeatureUnsupported

# The callbacks the SSHE models run: validation every validation_freqs, early stopping on it, and
# ModelCheckpoint (each party's revealed weights every save_freq iterations).
RUN_CALLBACKS = frozenset({"EarlyStopping", "PerformanceEvaluate", "ModelCheckpoint"})

Reveal = Literal["respectively", "encrypted_reveal_in_host"]

# Optimizers that are linear in the gradient run on shares; the others need the gradient revealed.
_SHARED_OPTIMIZERS = {"lr": ("sgd", "nesterov_momentum_sgd"), "linr": ("sgd",)}
_REVEALED_OPTIMIZERS = {
    "lr": ("sgd", "rmsprop", "adam", "adagrad", "nesterov_momentum_sgd"),
    "linr": ("sgd", "rmsprop", "adam", "adagrad"),
}


class _SSHEKnobs(BaseModel):
    """The fields and checks both SSHE models add to their base (FATE's check(), as pydantic errors)."""

    model_config = ConfigDict(extra="forbid")

    kind: ClassVar[str]
    use_mix_rand: bool = True
    reveal_strategy: Reveal = "respectively"
    reveal_every_iter: bool = False
    if TYPE_CHECKING:
        penalty: str | None
        optimizer: str
        validation_freqs: Any
        callback_param: Any

    @field_validator("reveal_strategy", mode="before")
    @classmethod
    def _lower_reveal(cls, value: Any) -> Any:
        return value.lower() if isinstance(value, str) else value

    @model_validator(mode="after")
    def _fate_checks(self) -> Self:
        self._check_sshe()
        return self

    def _check_sshe(self) -> None:
        penalty = "NONE" if self.penalty is None else self.penalty
        if not self.reveal_every_iter and penalty not in ("L2", "NONE"):
            raise ValueError("penalty should be 'L2' or 'none' when reveal_every_iter is False (as FATE)")
        allowed = (_REVEALED_OPTIMIZERS if self.reveal_every_iter else _SHARED_OPTIMIZERS)[self.kind]
        if self.optimizer not in allowed:
            raise ValueError(
                f"optimizer {self.optimizer!r} is not allowed with reveal_every_iter "
                f"{self.reveal_every_iter}; use one of {list(allowed)} (as FATE)"
            )
        if not self.reveal_every_iter and (
            self.validation_freqs is not None or self.callback_param.validation_freqs is not None
        ):
            raise ValueError("validation every iteration needs reveal_every_iter true (as FATE)")
        if self.reveal_strategy == "encrypted_reveal_in_host" and self.reveal_every_iter:
            raise ValueError("reveal_strategy encrypted_reveal_in_host does not allow reveal_every_iter")


class HeteroSSHELRParam(LogisticParam, ValidationKnobs, _SSHEKnobs):
    kind: ClassVar[str] = "lr"

    optimizer: Literal["sgd", "rmsprop", "adam", "adagrad", "nesterov_momentum_sgd"] = "sgd"
    encrypt_param: EncryptParam = EncryptParam()
    encrypted_mode_calculator_param: EncryptedModeCalculatorParam = EncryptedModeCalculatorParam()


class HeteroSSHELinRParam(_GeneralizedParam, _SSHEKnobs):
    kind: ClassVar[str] = "linr"
    DEFAULT_METRICS: ClassVar[tuple[str, ...]] = REGRESSION_METRICS

    optimizer: Literal["sgd", "rmsprop", "adam", "adagrad"] = "sgd"
    max_iter: int = Field(default=20, ge=1)


SSHEParam = HeteroSSHELRParam | HeteroSSHELinRParam


def check_supported(param: SSHEParam, component: str, module: str) -> None:
    """Refuse, naming the field, what FATE offers and Accord's SSHE models do not do."""
    callbacks = [name for name in param.callback_param.callbacks if name not in RUN_CALLBACKS]
    refusals = {
        "stepwise_param.need_stepwise": (param.stepwise_param.need_stepwise, "stepwise is not supported"),
        "encrypt_param.method": (
            param.encrypt_param.method is None,
            f"{module} multiplies shares under Paillier; set method to Paillier",
        ),
        "callback_param.callbacks": (
            bool(callbacks),
            f"drop {callbacks}: {sorted(RUN_CALLBACKS)} run",
        ),
        "callback_param.callbacks ModelCheckpoint with reveal_strategy encrypted_reveal_in_host": (
            "ModelCheckpoint" in param.callback_param.callbacks
            and param.reveal_strategy == "encrypted_reveal_in_host",
            "a checkpoint would reveal the host's weights, which this strategy keeps encrypted; "
            "drop ModelCheckpoint or use reveal_strategy respectively",
        ),
        "batch_strategy": (
            getattr(param, "batch_strategy", "full") != "full",
            "FATE's SSHE models walk fixed consecutive batches; use batch_strategy full",
        ),
    }
    for field, (refused, hint) in refusals.items():
        if refused:
            raise ComponentFeatureUnsupported(
                f"{component}: {field} asks for what Accord's {module} does not do", hint=hint
            )


def model_meta(params: SSHEParam) -> dict[str, Any]:
    """The model's meta: FATE's linear-model fields and the SSHE settings the model was trained with."""
    meta: dict[str, Any] = {name: getattr(params, name) for name in META_FIELDS}
    meta.update(
        fit_intercept=params.init_param.fit_intercept,
        threshold=params.predict_param.threshold,
        key_length=params.encrypt_param.key_length,
        reveal_strategy=params.reveal_strategy,
        reveal_every_iter=params.reveal_every_iter,
    )
    return meta
