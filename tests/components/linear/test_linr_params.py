"""HeteroLinR and HeteroPoisson parameters: FATE 1.11 names and defaults, and what is refused by name."""

from __future__ import annotations

from typing import Any

import pytest

from accord.components.linear.hetero_linr import HeteroLinR
from accord.components.linear.hetero_poisson import HeteroPoisson
from accord.components.linear.params import LinearParam, PoissonParam
from accord.errors import ComponentFeatureUnsupported, ComponentParameterError


def test_defaults_are_fates() -> None:
    linr, poisson = LinearParam(), PoissonParam()
    for param in (linr, poisson):
        assert (param.penalty, param.tol, param.alpha, param.batch_size, param.learning_rate) == (
            "L2",
            1e-4,
            1.0,
            -1,
            0.01,
        )
        assert (param.max_iter, param.early_stop, param.decay, param.decay_sqrt) == (20, "diff", 1.0, True)
        assert param.floating_point_precision == 23 and param.encrypt_param.key_length == 1024
        assert param.validation_metrics == ["root_mean_squared_error", "mean_absolute_error"]
    assert linr.optimizer == "sgd" and poisson.optimizer == "rmsprop"
    assert poisson.exposure_colname is None


@pytest.mark.parametrize(
    ("module", "params", "field"),
    [
        (HeteroLinR, {"encrypt_param": {"method": None}}, "encrypt_param.method"),
        (HeteroPoisson, {"callback_param": {"callbacks": ["LRScheduler"]}}, "callback_param.callbacks"),
    ],
)
def test_options_not_run_are_refused_by_name(module: Any, params: dict[str, Any], field: str) -> None:
    with pytest.raises(ComponentFeatureUnsupported) as caught:
        module().check_parameters(params, component="model_0", module=module.__name__)
    assert caught.value.code == 10127 and field in str(caught.value)


@pytest.mark.parametrize(
    ("module", "params"),
    [
        (HeteroLinR, {"optimizer": "nesterov_momentum_sgd"}),  # not one of LinearParam's
        (HeteroLinR, {"exposure_colname": "e"}),  # Poisson's only
        (HeteroPoisson, {"optimizer": "sqn"}),
        (HeteroLinR, {"batch_size": 5}),
        (HeteroLinR, {"batch_strategy": "random"}),  # HeteroLR's, not LinR's
    ],
)
def test_values_fate_refuses_are_parameter_errors(module: Any, params: dict[str, Any]) -> None:
    with pytest.raises(ComponentParameterError):
        module().check_parameters(params, component="model_0", module=module.__name__)


def test_corpus_spellings_are_accepted() -> None:
    param = HeteroLinR().check_parameters(
        {"penalty": "None", "early_stop": "weight_diff", "decay": 0.0, "decay_sqrt": False},
        component="model_0",
        module="HeteroLinR",
    )
    assert param.penalty == "NONE" and param.decay == 0.0
