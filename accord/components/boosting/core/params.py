"""The tree and objective sections every SecureBoost module shares (FATE 1.11's DecisionTreeParam and
ObjectiveParam: names, defaults and checks)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from accord.components.boosting.core.split import SplitRule
from accord.components.hetero_lr.params import CallbackParam, CrossValidationParam, PredictParam

REGRESSION_OBJECTIVES = ("lse", "lae", "huber", "fair", "log_cosh", "tweedie")
# FATE's consts.MAX_SPLIT_NODES (2**16).
MAX_SPLIT_NODES = 2**16


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ObjectiveParam(_Section):
    objective: str | None = "cross_entropy"
    params: list[float] | None = None

    @field_validator("objective", mode="before")
    @classmethod
    def _lower(cls, value: Any) -> Any:
        return value.lower() if isinstance(value, str) else value


class DecisionTreeParam(_Section):
    criterion_method: Literal["xgboost"] = "xgboost"
    # [l2, l1], as FATE orders the list; a dict {"l1", "l2"} is turned into that list.
    criterion_params: list[float] = [0.1, 0.0]
    max_depth: int = Field(default=3, ge=1)
    min_sample_split: int = 2
    min_impurity_split: float = 1e-3
    min_leaf_node: int = 1
    max_split_nodes: int = Field(default=MAX_SPLIT_NODES, ge=1)
    feature_importance_type: Literal["split", "gain"] = "split"
    n_iter_no_change: bool = True
    tol: float = 0.001
    min_child_weight: float = Field(default=0.0, ge=0)
    use_missing: bool = False
    zero_as_missing: bool = False
    deterministic: bool = False

    @field_validator("criterion_method", "feature_importance_type", mode="before")
    @classmethod
    def _lower(cls, value: Any) -> Any:
        return value.lower() if isinstance(value, str) else value

    @field_validator("criterion_params", mode="before")
    @classmethod
    def _l2_l1(cls, value: Any) -> Any:
        if isinstance(value, dict):
            if "l1" not in value or "l2" not in value:
                raise ValueError("criterion_params as a dict needs the keys 'l1' and 'l2'")
            return [value["l2"], value["l1"]]
        if isinstance(value, list) and len(value) != 2:
            raise ValueError("criterion_params as a list is [l2, l1]: two non-negative numbers")
        return value

    @field_validator("criterion_params")
    @classmethod
    def _non_negative(cls, value: list[float]) -> list[float]:
        if any(v < 0 for v in value):
            raise ValueError("criterion_params l2 and l1 must be non-negative")
        return value

    @property
    def l2(self) -> float:
        return float(self.criterion_params[0])

    @property
    def l1(self) -> float:
        return float(self.criterion_params[1])

    def rule(self) -> SplitRule:
        return SplitRule(
            l1=self.l1,
            l2=self.l2,
            min_child_weight=self.min_child_weight,
            min_leaf_node=self.min_leaf_node,
            min_impurity_split=self.min_impurity_split,
            min_sample_split=self.min_sample_split,
        )


class BoostingParam(_Section):
    """What FATE's HeteroSecureBoostParam and HomoSecureBoostParam share (its BoostingParam), with
    FATE's checks of the objective against the task."""

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
    binning_error: float = Field(default=1e-4, gt=0, lt=1)
    callback_param: CallbackParam = CallbackParam()
    multi_mode: Literal["single_output", "multi_output"] = "single_output"

    @field_validator("task_type", "multi_mode", mode="before")
    @classmethod
    def _lower_choice(cls, value: Any) -> Any:
        return value.lower() if isinstance(value, str) else value

    @field_validator("validation_freqs")
    @classmethod
    def _positive(cls, value: int | list[int] | None) -> int | list[int] | None:
        if isinstance(value, int) and value < 1:
            raise ValueError("validation_freqs should be larger than 0 when it is an integer")
        return value

    @model_validator(mode="after")
    def _objective_fits_task(self) -> BoostingParam:
        objective, params = self.objective_param.objective, self.objective_param.params
        if objective is None:
            return self
        if self.task_type == "classification" and objective != "cross_entropy":
            raise ValueError(f"objective_param.objective {objective!r}: classification takes cross_entropy")
        if self.task_type == "regression":
            if objective not in REGRESSION_OBJECTIVES:
                raise ValueError(
                    f"objective_param.objective {objective!r} is not one of {list(REGRESSION_OBJECTIVES)}"
                )
            if objective in ("huber", "fair", "tweedie"):
                if not params:
                    raise ValueError(f"objective_param.params: {objective} needs its parameter, e.g. [1.5]")
                if objective == "tweedie" and not 1 <= params[0] < 2:
                    raise ValueError("objective_param.params[0]: tweedie's variance power must be in [1, 2)")
                if params[0] <= 0:
                    raise ValueError(f"objective_param.params[0]: {objective}'s parameter must be > 0")
        if self.multi_mode == "multi_output" and self.task_type == "regression":
            raise ValueError("multi_mode multi_output: regression tasks do not support multi_output trees")
        return self

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
        return self.callback_param.metrics or self.metrics or None
