"""The tree and objective sections every SecureBoost module shares (FATE 1.11's DecisionTreeParam and
ObjectiveParam: names, defaults and checks)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from accord.components.boosting.core.split import SplitRule

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
