"""HomoSecureBoost's parameters: the names, defaults and checks of FATE 1.11's HomoSecureBoostParam.

FATE's ``check`` rules are kept: ``objective`` must be cross_entropy for classification and one of the
regression losses otherwise (huber / fair / tweedie with their first ``params`` value checked),
``criterion_params`` is ``[l2, l1]`` or ``{"l1": .., "l2": ..}``, ``multi_output`` is classification
only. What Accord does not run is refused by :func:`check_supported`, naming the field.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from accord.components.boosting.core.params import BoostingParam
from accord.errors import ComponentFeatureUnsupported


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class HomoSecureBoostParam(BoostingParam):
    random_seed: int | None = Field(default=100, ge=0)
    backend: Literal["distributed", "memory"] = "distributed"

    @field_validator("backend", mode="before")
    @classmethod
    def _lower(cls, value: Any) -> Any:
        return value.lower() if isinstance(value, str) else value

    @model_validator(mode="after")
    def _one_validation_source(self) -> HomoSecureBoostParam:
        if (self.validation_freqs is not None or self.metrics is not None) and (
            self.callback_param.validation_freqs is not None or self.callback_param.metrics is not None
        ):
            raise ValueError("validation_freqs / metrics and callback_param should not be set together")
        return self

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
            "early stopping on validation metrics is not run for HomoSecureBoost, as in FATE 1.11, whose "
            "validation strategy refuses early stopping for every homo module (each client validates "
            "only its own rows); use n_iter_no_change and tol",
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
