"""HomoSecureBoost's parameters: the names, defaults and checks of FATE 1.11's HomoSecureBoostParam.

FATE's ``check`` rules are kept: ``objective`` must be cross_entropy for classification and one of the
regression losses otherwise (huber / fair / tweedie with their first ``params`` value checked),
``criterion_params`` is ``[l2, l1]`` or ``{"l1": .., "l2": ..}``, ``multi_output`` is classification
only. What Accord does not run is refused by :func:`check_supported`, naming the field.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from accord.components.boosting.core.params import DecisionTreeParam, ObjectiveParam
from accord.components.hetero_lr.params import CallbackParam, CrossValidationParam, PredictParam
from accord.errors import ComponentFeatureUnsupported

REGRESSION_OBJECTIVES = ("lse", "lae", "huber", "fair", "log_cosh", "tweedie")


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class HomoSecureBoostParam(_Section):
    tree_param: DecisionTreeParam = DecisionTreeParam()
    task_type: Literal["classification", "regression"] = "classification"
    objective_param: ObjectiveParam = ObjectiveParam()
    learning_rate: float = Field(default=0.3, gt=0)
    num_trees: int = Field(default=5, ge=1)
    subsample_feature_rate: float = Field(default=1.0, ge=0, le=1)
    n_iter_no_change: bool = True
    tol: float = 1e-4
    bin_num: int = Field(default=32, ge=2)
    predict_param: PredictParam = PredictParam()
    cv_param: CrossValidationParam = CrossValidationParam()
    validation_freqs: int | list[int] | None = None
    metrics: list[str] | None = None
    use_missing: bool = False
    zero_as_missing: bool = False
    random_seed: int | None = Field(default=100, ge=0)
    binning_error: float = Field(default=1e-4, gt=0, lt=1)
    backend: Literal["distributed", "memory"] = "distributed"
    callback_param: CallbackParam = CallbackParam()
    multi_mode: Literal["single_output", "multi_output"] = "single_output"

    @field_validator("task_type", "multi_mode", "backend", mode="before")
    @classmethod
    def _lower(cls, value: Any) -> Any:
        return value.lower() if isinstance(value, str) else value

    @field_validator("validation_freqs")
    @classmethod
    def _positive(cls, value: int | list[int] | None) -> int | list[int] | None:
        if isinstance(value, int) and value < 1:
            raise ValueError("validation_freqs should be larger than 0 when it is an integer")
        return value

    @model_validator(mode="after")
    def _objective_fits_task(self) -> HomoSecureBoostParam:
        objective, params = self.objective_param.objective, self.objective_param.params
        if objective is None:
            return self
        if self.task_type == "classification" and objective != "cross_entropy":
            raise ValueError(f"objective_param.objective {objective!r} is not supported for classification")
        if self.task_type == "regression":
            if objective not in REGRESSION_OBJECTIVES:
                raise ValueError(
                    f"objective_param.objective {objective!r} is not one of {list(REGRESSION_OBJECTIVES)}"
                )
            if objective in ("huber", "fair", "tweedie"):
                if not params:
                    raise ValueError(f"objective_param.params must be a non-empty list for {objective}")
                if objective == "tweedie" and not 1 <= params[0] < 2:
                    raise ValueError("in tweedie regression, objective_param.params[0] must be in [1, 2)")
                if params[0] <= 0:
                    raise ValueError(f"in {objective} regression, objective_param.params[0] must be > 0")
        if self.multi_mode == "multi_output" and self.task_type == "regression":
            raise ValueError("regression tasks do not support multi_output trees")
        if (self.validation_freqs is not None or self.metrics is not None) and (
            self.callback_param.validation_freqs is not None or self.callback_param.metrics is not None
        ):
            raise ValueError("validation_freqs / metrics and callback_param should not be set together")
        return self

    # ---- what the run uses ------------------------------------------------------------------------

    @property
    def missing_used(self) -> bool:
        # FATE copies use_missing / zero_as_missing into the tree param when use_missing is set.
        return self.use_missing or self.tree_param.use_missing

    @property
    def zero_missing(self) -> bool:
        return self.missing_used and (self.zero_as_missing or self.tree_param.zero_as_missing)

    @property
    def validate_every(self) -> int | list[int] | None:
        return self.callback_param.validation_freqs or self.validation_freqs

    @property
    def validation_metrics(self) -> list[str] | None:
        return self.callback_param.metrics or self.metrics

    def validates_at(self, epoch: int) -> bool:
        """Whether validation runs after ``epoch`` (0-based), as FATE's validation_freqs reads it."""
        freqs = self.validate_every
        if freqs is None:
            return False
        if isinstance(freqs, int):
            return (epoch + 1) % freqs == 0 or epoch + 1 == self.num_trees
        return epoch + 1 in freqs


_CALLBACKS_RUN = frozenset({"PerformanceEvaluate"})


def check_supported(param: HomoSecureBoostParam, component: str) -> None:
    """Refuse, naming the field, what FATE's HomoSecureBoost offers and Accord's does not run."""
    unrun = [name for name in param.callback_param.callbacks if name not in _CALLBACKS_RUN]
    refusals = {
        "callback_param.early_stopping_rounds": (
            param.callback_param.early_stopping_rounds is not None,
            "early stopping on validation metrics is not run for HomoSecureBoost (each client validates "
            "its own data, so the clients could disagree); use n_iter_no_change and tol",
        ),
        "callback_param.callbacks": (
            bool(unrun),
            f"drop {unrun}: only PerformanceEvaluate (validation every validation_freqs) runs",
        ),
    }
    for field, (refused, hint) in refusals.items():
        if refused:
            raise ComponentFeatureUnsupported(
                f"{component}: HomoSecureBoost's {field} asks for what is not supported",
                hint=hint,
                field=field,
            )
