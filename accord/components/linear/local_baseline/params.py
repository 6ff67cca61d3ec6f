"""LocalBaseline's parameters: FATE 1.11's LocalBaselineParam (names, defaults and checks).

``model_opts`` is handed to scikit-learn's ``LogisticRegression`` as FATE hands it; its keys are the
constructor arguments of the scikit-learn FATE 1.11 pins (1.0), each checked here by name so that a
misspelt or unknown option is refused at submit rather than by scikit-learn mid-job.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, StrictBool, field_validator

# scikit-learn 1.0's LogisticRegression arguments, which FATE 1.11 passes model_opts to.
MODEL_OPTS: frozenset[str] = frozenset(
    {
        "penalty",
        "dual",
        "tol",
        "C",
        "fit_intercept",
        "intercept_scaling",
        "class_weight",
        "random_state",
        "solver",
        "max_iter",
        "multi_class",
        "verbose",
        "warm_start",
        "n_jobs",
        "l1_ratio",
    }
)
PENALTIES = ("l1", "l2", "elasticnet", "none")
MULTI_CLASS = ("auto", "ovr", "multinomial")
SOLVERS = ("newton-cg", "lbfgs", "liblinear", "sag", "saga")


class PredictParam(BaseModel):
    model_config = ConfigDict(extra="forbid")

    threshold: float = Field(default=0.5, ge=0, le=1)


class LocalBaselineParam(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # FATE lower-cases it and knows one model.
    model_name: str = "LogisticRegression"
    model_opts: dict[str, Any] | None = None
    predict_param: PredictParam = PredictParam()
    need_run: StrictBool = True

    @field_validator("model_name")
    @classmethod
    def _model_name(cls, value: str) -> str:
        if value.lower() != "logisticregression":
            raise ValueError("FATE's LocalBaseline has one model: 'LogisticRegression'")
        return value

    @field_validator("model_opts")
    @classmethod
    def _model_opts(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        if value is None:
            return None
        unknown = sorted(set(value) - MODEL_OPTS)
        if unknown:
            raise ValueError(
                f"{unknown} is not an argument of scikit-learn's LogisticRegression; "
                f"model_opts takes {sorted(MODEL_OPTS)}"
            )
        _one_of(value, "penalty", PENALTIES, allow_none=True)
        _one_of(value, "multi_class", MULTI_CLASS)
        _one_of(value, "solver", SOLVERS)
        for name in ("tol", "C"):
            if name in value and not (_number(value[name]) and value[name] > 0):
                raise ValueError(f"model_opts.{name} must be a positive number, got {value[name]!r}")
        if "max_iter" in value and not (isinstance(value["max_iter"], int) and value["max_iter"] >= 0):
            raise ValueError(f"model_opts.max_iter must be a whole number >= 0, got {value['max_iter']!r}")
        ratio = value.get("l1_ratio")
        if ratio is not None and not (_number(ratio) and 0 <= ratio <= 1):
            raise ValueError(f"model_opts.l1_ratio must be between 0 and 1, got {ratio!r}")
        weights = value.get("class_weight")
        if weights is not None and weights != "balanced" and not isinstance(weights, dict):
            raise ValueError("model_opts.class_weight must be 'balanced', a {label: weight} object or null")
        return value

    def opts(self) -> dict[str, Any]:
        return dict(self.model_opts or {})


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _one_of(opts: dict[str, Any], name: str, allowed: tuple[str, ...], *, allow_none: bool = False) -> None:
    if name not in opts or (allow_none and opts[name] is None):
        return
    if opts[name] not in allowed:
        raise ValueError(f"model_opts.{name} must be one of {list(allowed)}, got {opts[name]!r}")
