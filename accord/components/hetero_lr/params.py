"""HeteroLR's parameters: FATE's HeteroLogisticParam names and defaults.

Sections Accord accepts but does not act on (sqn_param when the optimizer is not sqn,
stepwise without need_stepwise) are validated and kept; asking for their behaviour is refused by
:func:`check_supported` with the field named.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from accord.errors import ComponentFeatureUnsupported, ComponentParameterError


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class InitParam(_Section):
    init_method: Literal["random_uniform", "random_normal", "ones", "zeros", "const"] = "random_uniform"
    init_const: float = 1.0
    fit_intercept: bool = True
    random_seed: int | None = None


class EncryptParam(_Section):
    method: Literal["Paillier", "paillier"] | None = "Paillier"
    key_length: int = Field(default=1024, ge=512)


class PredictParam(_Section):
    threshold: float = Field(default=0.5, ge=0, le=1)


class CrossValidationParam(_Section):
    n_splits: int = 5
    mode: str = "hetero"
    role: str = "guest"
    shuffle: bool = True
    random_seed: int = 1
    need_cv: bool = False
    output_fold_history: bool = True
    history_value_type: str = "score"


class StochasticQuasiNewtonParam(_Section):
    update_interval_L: int = 3
    memory_M: int = 5
    sample_size: int = 5000
    random_seed: int | None = None


class StepwiseParam(_Section):
    score_name: str = "AIC"
    mode: str = "hetero"
    role: str = "guest"
    direction: str = "both"
    max_step: int = 10
    nvmin: int = 2
    nvmax: int | None = None
    need_stepwise: bool = False


# The callbacks FATE's linear models take that Accord runs (EarlyStopping through its rounds, the
# evaluation of validation data every validation_freqs); ModelCheckpoint is refused by name.
RUN_CALLBACKS = frozenset({"EarlyStopping", "PerformanceEvaluate"})


def unrun_callbacks(callbacks: list[str]) -> list[str]:
    return [name for name in callbacks if name not in RUN_CALLBACKS]


class CallbackParam(_Section):
    callbacks: list[str] = []
    validation_freqs: int | list[int] | None = None
    early_stopping_rounds: int | None = Field(default=None, ge=1)
    metrics: list[str] | None = None
    use_first_metric_only: bool = False
    save_freq: int = 1


class EncryptedModeCalculatorParam(_Section):
    mode: str = "strict"
    re_encrypted_rate: float = 1.0


class LogisticParam(_Section):
    """What FATE's LogisticParam gives HeteroLR and HomoLR alike: names, defaults and their checks."""

    penalty: Literal["L1", "L2", "NONE"] | None = "L2"
    tol: float = 1e-4
    alpha: float = 1.0
    optimizer: Literal["sgd", "rmsprop", "adam", "adagrad", "nesterov_momentum_sgd", "sqn"] = "rmsprop"
    batch_size: int = -1
    batch_strategy: Literal["full", "random"] = "full"
    shuffle: bool = True
    masked_rate: float = 5
    learning_rate: float = Field(default=0.01, gt=0)
    init_param: InitParam = InitParam()
    max_iter: int = Field(default=100, ge=1)
    early_stop: Literal["diff", "weight_diff", "abs"] = "diff"
    predict_param: PredictParam = PredictParam()
    cv_param: CrossValidationParam = CrossValidationParam()
    decay: float = 1.0
    decay_sqrt: bool = True
    multi_class: Literal["ovr"] = "ovr"
    validation_freqs: int | list[int] | None = None
    early_stopping_rounds: int | None = Field(default=None, ge=1)
    metrics: list[str] = ["auc", "ks"]
    use_first_metric_only: bool = False
    floating_point_precision: int | None = Field(default=23, ge=0, le=63)
    stepwise_param: StepwiseParam = StepwiseParam()
    callback_param: CallbackParam = CallbackParam()
    need_run: bool = True

    @field_validator("penalty", mode="before")
    @classmethod
    def _upper_penalty(cls, value: Any) -> Any:
        return value.upper() if isinstance(value, str) else value

    @field_validator("optimizer", "early_stop", mode="before")
    @classmethod
    def _lower(cls, value: Any) -> Any:
        return value.lower() if isinstance(value, str) else value

    @field_validator("batch_size")
    @classmethod
    def _batch_size(cls, value: int) -> int:
        if value != -1 and value < 10:
            raise ValueError("must be -1 (the whole data set in one batch) or at least 10")
        return value


class HeteroLRParam(LogisticParam):
    encrypt_param: EncryptParam = EncryptParam()
    encrypted_mode_calculator_param: EncryptedModeCalculatorParam = EncryptedModeCalculatorParam()
    sqn_param: StochasticQuasiNewtonParam = StochasticQuasiNewtonParam()
    is_warm_start: bool = False

    # ---- what the protocol uses ---------------------------------------------------------------

    @property
    def dot_precision(self) -> int | None:
        """Bits kept of each feature column in the encrypted X^T·[[d]] (FATE's floating_point_precision);
        fewer bits make the multi-exponentiation shorter. None: the crypto module's default."""
        precision = self.floating_point_precision
        return precision if precision is not None and 1 <= precision <= 60 else None

    @property
    def validation_every(self) -> int | None:
        freqs = self.callback_param.validation_freqs or self.validation_freqs
        if freqs is None:
            return None
        if isinstance(freqs, list):
            raise ComponentParameterError(
                "hetero_lr validation_freqs as a list is not supported",
                hint="give validation_freqs as an integer (validate every N iterations)",
            )
        return freqs

    @property
    def stopping_rounds(self) -> int | None:
        if "EarlyStopping" in self.callback_param.callbacks or self.callback_param.early_stopping_rounds:
            return self.callback_param.early_stopping_rounds or self.early_stopping_rounds
        return self.early_stopping_rounds

    @property
    def validation_metrics(self) -> list[str]:
        return self.callback_param.metrics or self.metrics or ["auc", "ks"]


def check_supported(param: HeteroLRParam, component: str) -> None:
    """Refuse, naming the field, what FATE offers and Accord's HeteroLR does not do."""
    refusals = {
        "optimizer": (param.optimizer == "sqn", "use sgd, rmsprop, adam, adagrad or nesterov_momentum_sgd"),
        "stepwise_param.need_stepwise": (param.stepwise_param.need_stepwise, "stepwise is not supported"),
        "encrypt_param.method": (
            param.encrypt_param.method is None,
            "HeteroLR needs Paillier encryption; set method to Paillier",
        ),
        "is_warm_start": (param.is_warm_start, "warm start is not supported yet"),
        "callback_param.callbacks": (
            bool(unrun_callbacks(param.callback_param.callbacks)),
            f"drop {unrun_callbacks(param.callback_param.callbacks)}: model checkpoints are not saved yet; "
            f"{sorted(RUN_CALLBACKS)} run",
        ),
    }
    for field, (refused, hint) in refusals.items():
        if refused:
            raise ComponentFeatureUnsupported(
                f"{component}: {field} asks for what Accord's HeteroLR does not do", hint=hint
            )
