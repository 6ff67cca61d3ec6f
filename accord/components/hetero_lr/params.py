"""HeteroLR's parameters: FATE's HeteroLogisticParam names and defaults.

Sections Accord accepts but does not act on (sqn_param when the optimizer is not sqn,
stepwise without need_stepwise) are validated and kept; asking for their behaviour is refused by
:func:`check_supported` with the field named.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator

from accord.errors import ComponentFeatureUnsupported, ComponentParameterError


def _whole_or_at_least_ten(value: int) -> int:
    if value != -1 and value < 10:
        raise ValueError("must be -1 (the whole data set in one batch) or at least 10")
    return value


# FATE's batch_size: -1 puts the whole data set in one batch; a real batch holds at least 10 rows.
BatchSize = Annotated[int, AfterValidator(_whole_or_at_least_ten)]


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
    """FATE's StepwiseParam with its checks (run whether or not need_stepwise, as FATE's GLMs do)."""

    score_name: Literal["aic", "bic"] = "aic"
    mode: Literal["hetero", "homo"] = "hetero"
    role: Literal["guest", "host", "arbiter"] = "guest"
    direction: Literal["both", "forward", "backward"] = "both"
    max_step: int = Field(default=10, gt=0)
    nvmin: int = Field(default=2, ge=2)
    nvmax: int | None = Field(default=None, gt=0)
    need_stepwise: bool = False

    @field_validator("score_name", "direction", mode="before")
    @classmethod
    def _lower(cls, value: Any) -> Any:
        return value.lower() if isinstance(value, str) else value

    @model_validator(mode="after")
    def _bounds(self) -> StepwiseParam:
        if self.nvmax is not None and self.nvmin > self.nvmax:
            raise ValueError(f"nvmax ({self.nvmax}) must be at least nvmin ({self.nvmin})")
        return self


# The callbacks FATE's linear models take, all of which Accord runs (EarlyStopping through its rounds,
# the evaluation of validation data every validation_freqs, ModelCheckpoint every save_freq: warm.py);
# any other name is refused by name.
RUN_CALLBACKS = frozenset({"EarlyStopping", "PerformanceEvaluate", "ModelCheckpoint"})


def unrun_callbacks(callbacks: list[str]) -> list[str]:
    return [name for name in callbacks if name not in RUN_CALLBACKS]


class CallbackParam(_Section):
    callbacks: list[str] = []
    validation_freqs: int | list[int] | None = None
    early_stopping_rounds: int | None = Field(default=None, ge=1)
    metrics: list[str] | None = None
    use_first_metric_only: bool = False
    save_freq: int = Field(default=1, ge=1)

    @field_validator("save_freq", mode="before")
    @classmethod
    def _per_epoch(cls, value: Any) -> Any:
        # FATE's ModelCheckpoint reads "epoch" as every iteration.
        return 1 if value == "epoch" else value


class EncryptedModeCalculatorParam(_Section):
    mode: str = "strict"
    re_encrypted_rate: float = 1.0


class LogisticParam(_Section):
    """What FATE's LogisticParam gives HeteroLR and HomoLR alike: names, defaults and their checks."""

    penalty: Literal["L1", "L2", "NONE"] | None = "L2"
    tol: float = 1e-4
    alpha: float = 1.0
    optimizer: Literal["sgd", "rmsprop", "adam", "adagrad", "nesterov_momentum_sgd", "sqn"] = "rmsprop"
    batch_size: BatchSize = -1
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


class ValidationKnobs:
    """What HeteroLR's guest protocol reads of a linear model's parameters, shared by HeteroLR,
    HeteroLinR and HeteroPoisson: FATE copies the top-level validation fields into callback_param, so
    the callback's value wins when both are given."""

    # The validation metrics when neither metrics nor callback_param.metrics names any.
    DEFAULT_METRICS: ClassVar[tuple[str, ...]] = ("auc", "ks")

    if TYPE_CHECKING:
        floating_point_precision: int | None
        validation_freqs: int | list[int] | None
        early_stopping_rounds: int | None
        metrics: list[str] | None
        use_first_metric_only: bool
        callback_param: CallbackParam

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
                "validation_freqs as a list is not supported",
                hint="give validation_freqs as an integer (validate every N iterations)",
            )
        return freqs

    @property
    def stopping_rounds(self) -> int | None:
        return self.callback_param.early_stopping_rounds or self.early_stopping_rounds

    @property
    def validation_metrics(self) -> list[str]:
        return self.callback_param.metrics or self.metrics or list(self.DEFAULT_METRICS)

    @property
    def first_metric_only(self) -> bool:
        return self.callback_param.use_first_metric_only or self.use_first_metric_only


class HeteroLRParam(LogisticParam, ValidationKnobs):
    encrypt_param: EncryptParam = EncryptParam()
    encrypted_mode_calculator_param: EncryptedModeCalculatorParam = EncryptedModeCalculatorParam()
    sqn_param: StochasticQuasiNewtonParam = StochasticQuasiNewtonParam()
    # Warm start runs whenever the component has a model input (as FATE decides it); true without one
    # is refused when training starts (warm.py).
    is_warm_start: bool = False


def check_supported(param: HeteroLRParam, component: str) -> None:
    """Refuse, naming the field, what FATE offers and Accord's HeteroLR does not do."""
    refusals = {
        "encrypt_param.method": (
            param.encrypt_param.method is None,
            "HeteroLR needs Paillier encryption; set method to Paillier",
        ),
        "callback_param.callbacks": (
            bool(unrun_callbacks(param.callback_param.callbacks)),
            f"drop {unrun_callbacks(param.callback_param.callbacks)}: FATE's linear models take "
            f"{sorted(RUN_CALLBACKS)}",
        ),
    }
    for field, (refused, hint) in refusals.items():
        if refused:
            raise ComponentFeatureUnsupported(
                f"{component}: {field} asks for what Accord's HeteroLR does not do", hint=hint
            )
