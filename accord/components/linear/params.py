"""HeteroLinR's and HeteroPoisson's parameters: FATE 1.11's LinearParam and PoissonParam names and defaults.

Sections Accord accepts but does not act on (sqn_param when the optimizer is not
sqn, stepwise without need_stepwise, the encrypted-mode calculator) are validated and kept; asking for
their behaviour is refused by :func:`check_supported` with the field named.
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from accord.components.hetero_lr.params import (
    RUN_CALLBACKS,
    BatchSize,
    CallbackParam,
    CrossValidationParam,
    EncryptedModeCalculatorParam,
    EncryptParam,
    InitParam,
    PredictParam,
    StepwiseParam,
    StochasticQuasiNewtonParam,
    ValidationKnobs,
    unrun_callbacks,
)
from accord.errors import ComponentFeatureUnsupported

# FATE's default validation metrics of a regression model (lower is better for both).
REGRESSION_METRICS = ("root_mean_squared_error", "mean_absolute_error")


class _GeneralizedParam(BaseModel, ValidationKnobs):
    """What FATE's LinearParam and PoissonParam share."""

    DEFAULT_METRICS: ClassVar[tuple[str, ...]] = REGRESSION_METRICS

    model_config = ConfigDict(extra="forbid")

    penalty: Literal["L1", "L2", "NONE"] | None = "L2"
    tol: float = 1e-4
    alpha: float = 1.0
    batch_size: BatchSize = -1
    learning_rate: float = Field(default=0.01, gt=0)
    init_param: InitParam = InitParam()
    max_iter: int = Field(default=20, ge=1)
    early_stop: Literal["diff", "weight_diff", "abs"] = "diff"
    predict_param: PredictParam = PredictParam()
    encrypt_param: EncryptParam = EncryptParam()
    encrypted_mode_calculator_param: EncryptedModeCalculatorParam = EncryptedModeCalculatorParam()
    cv_param: CrossValidationParam = CrossValidationParam()
    stepwise_param: StepwiseParam = StepwiseParam()
    decay: float = 1.0
    decay_sqrt: bool = True
    validation_freqs: int | list[int] | None = None
    early_stopping_rounds: int | None = Field(default=None, ge=1)
    metrics: list[str] | None = None
    use_first_metric_only: bool = False
    floating_point_precision: int | None = Field(default=23, ge=0, le=64)
    callback_param: CallbackParam = CallbackParam()
    need_run: bool = True

    @field_validator("penalty", mode="before")
    @classmethod
    def _upper_penalty(cls, value: Any) -> Any:
        return value.upper() if isinstance(value, str) else value

    @field_validator("optimizer", "early_stop", mode="before", check_fields=False)
    @classmethod
    def _lower(cls, value: Any) -> Any:
        return value.lower() if isinstance(value, str) else value

    @field_validator("validation_freqs")
    @classmethod
    def _freqs(cls, value: int | list[int] | None) -> int | list[int] | None:
        if isinstance(value, int) and value <= 0:
            raise ValueError("must be greater than 0")
        return value

    # ---- what HeteroLR's protocol reads (batches, arbiter) ---------------------------------------

    @property
    def batch_strategy(self) -> str:
        """FATE's hetero LinR and Poisson split the rows into fixed batches (no random strategy)."""
        return "full"

    @property
    def shuffle(self) -> bool:
        """Their batches are consecutive rows, unshuffled."""
        return False


class LinearParam(_GeneralizedParam):
    """FATE's LinearParam (HeteroLinR)."""

    optimizer: Literal["sgd", "rmsprop", "adam", "adagrad", "sqn"] = "sgd"
    sqn_param: StochasticQuasiNewtonParam = StochasticQuasiNewtonParam()


class PoissonParam(_GeneralizedParam):
    """FATE's PoissonParam (HeteroPoisson)."""

    optimizer: Literal["sgd", "rmsprop", "adam", "adagrad", "nesterov_momentum_sgd"] = "rmsprop"
    exposure_colname: str | None = None


def check_supported(param: _GeneralizedParam, component: str, module: str) -> None:
    """Refuse, naming the field, what FATE offers and Accord's linear models do not do."""
    callbacks = unrun_callbacks(param.callback_param.callbacks)
    refusals = {
        "encrypt_param.method": (
            param.encrypt_param.method is None,
            f"{module} needs Paillier encryption; set method to Paillier",
        ),
        "callback_param.callbacks": (
            bool(callbacks),
            f"drop {callbacks}: FATE's linear models take {sorted(RUN_CALLBACKS)}",
        ),
    }
    for field, (refused, hint) in refusals.items():
        if refused:
            raise ComponentFeatureUnsupported(
                f"{component}: {field} asks for what Accord's {module} does not do", hint=hint
            )
