"""The Keras JSON subset FATE 1.11's FTL confs use, checked at submit and built as torch modules.

``nn_define`` is what ``tf.keras.Sequential.to_json()`` writes: a Sequential of ``Dense`` (units,
activation, use_bias, kernel/bias initializers) and ``Dropout`` (rate) layers. Anything else — another
layer, a regularizer, a constraint, another activation or initializer — is refused with 10127 naming
it. ``optimizer`` is a Keras optimizer dict (``{"optimizer": "Adam", "learning_rate": ...}``) mapped to
the torch optimizer of the same algorithm; Keras-only options are accepted only at their defaults.
torch is imported inside the builders only.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from accord.errors import ComponentFeatureUnsupported, ComponentParameterError

ACTIVATIONS = {"sigmoid": "Sigmoid", "relu": "ReLU", "tanh": "Tanh", "linear": None, None: None}
INITIALIZERS = frozenset({"RandomNormal", "RandomUniform", "Zeros", "Ones", "GlorotUniform", "GlorotNormal"})
# Keys of a Dense config that describe, not change, the layer (name, dtype) or that must be null.
DENSE_INFO = frozenset({"name", "trainable", "dtype", "batch_input_shape"})
DENSE_NULL = (
    "kernel_regularizer",
    "bias_regularizer",
    "activity_regularizer",
    "kernel_constraint",
    "bias_constraint",
)
# Keras optimizer name -> (torch class, {keras argument: torch argument}).
OPTIMIZERS: dict[str, tuple[str, dict[str, str]]] = {
    "Adam": ("Adam", {"learning_rate": "lr", "epsilon": "eps", "amsgrad": "amsgrad"}),
    "Adamax": ("Adamax", {"learning_rate": "lr", "epsilon": "eps"}),
    "SGD": ("SGD", {"learning_rate": "lr", "momentum": "momentum", "nesterov": "nesterov"}),
    "RMSprop": (
        "RMSprop",
        {
            "learning_rate": "lr",
            "rho": "alpha",
            "momentum": "momentum",
            "epsilon": "eps",
            "centered": "centered",
        },
    ),
    "Adagrad": ("Adagrad", {"learning_rate": "lr", "initial_accumulator_value": "initial_accumulator_value"}),
    "Adadelta": ("Adadelta", {"learning_rate": "lr", "rho": "rho", "epsilon": "eps"}),
}
# Keras-only optimizer options and the values that mean "not used" (anything else is refused).
OPTIMIZER_DEFAULTS: dict[str, tuple[Any, ...]] = {
    "weight_decay": (None, 0, 0.0),
    "clipnorm": (None,),
    "global_clipnorm": (None,),
    "clipvalue": (None,),
    "use_ema": (False,),
    "ema_overwrite_frequency": (None,),
    "decay": (0, 0.0),
}
# Options with no effect on the values computed (EMA momentum without EMA, XLA, the legacy switch).
OPTIMIZER_INERT = frozenset({"ema_momentum", "jit_compile", "is_legacy_optimizer", "name"})


def _unsupported(component: str, field: str, what: str, hint: str) -> ComponentFeatureUnsupported:
    return ComponentFeatureUnsupported(
        f"{component}: {field} {what} is not supported", hint=hint, field=field
    )


def layers(define: Mapping[str, Any], field: str, component: str) -> list[Mapping[str, Any]]:
    if define.get("class_name") != "Sequential":
        raise _unsupported(component, f"{field}.class_name", repr(define.get("class_name")), "use Sequential")
    found = (define.get("config") or {}).get("layers")
    if not isinstance(found, list) or not found:
        raise ComponentParameterError(
            f"{component}: {field} has no layers", hint="export a tf.keras Sequential with its layers"
        )
    return found


def check_sequential(define: Mapping[str, Any], field: str, component: str) -> None:
    if not define:
        raise ComponentParameterError(f"{component}: {field} is required", hint="give a tf.keras Sequential")
    found = layers(define, field, component)
    if not any(layer.get("class_name") == "Dense" for layer in found):
        raise ComponentParameterError(
            f"{component}: {field} has no Dense layer",
            hint="end the network with Dense(units=d)",
            field=field,
        )
    for i, layer in enumerate(found):
        where = f"{field}.layers[{i}]"
        name, config = layer.get("class_name"), dict(layer.get("config") or {})
        if name == "Dropout":
            rate = config.get("rate")
            if not isinstance(rate, int | float) or not 0 <= rate < 1:
                raise ComponentParameterError(f"{component}: {where}.rate must be in [0, 1)", hint="e.g. 0.2")
            extra = set(config) - {"rate", "name", "trainable", "dtype", "seed", "noise_shape"}
            if extra or config.get("noise_shape") is not None:
                raise _unsupported(component, where, f"option {sorted(extra) or 'noise_shape'}", "drop it")
            continue
        if name != "Dense":
            raise _unsupported(component, f"{where}.class_name", repr(name), "use Dense or Dropout")
        units = config.get("units")
        if not isinstance(units, int) or units < 1:
            raise ComponentParameterError(
                f"{component}: {where}.units must be a positive integer", hint="e.g. 32"
            )
        if config.get("activation") not in ACTIVATIONS:
            raise _unsupported(
                component,
                f"{where}.activation",
                repr(config.get("activation")),
                "use sigmoid, relu, tanh or linear",
            )
        for key in DENSE_NULL:
            if config.get(key) is not None:
                raise _unsupported(component, f"{where}.{key}", repr(config[key]), f"set {key} to null")
        for key in ("kernel_initializer", "bias_initializer"):
            spec = config.get(key)
            if spec is not None and (
                not isinstance(spec, Mapping) or spec.get("class_name") not in INITIALIZERS
            ):
                kind = spec.get("class_name") if isinstance(spec, Mapping) else spec
                raise _unsupported(
                    component, f"{where}.{key}", repr(kind), f"allowed: {', '.join(sorted(INITIALIZERS))}"
                )
        known = (
            DENSE_INFO
            | set(DENSE_NULL)
            | {"units", "activation", "use_bias", "kernel_initializer", "bias_initializer"}
        )
        extra = set(config) - known
        if extra:
            raise _unsupported(component, where, f"option {sorted(extra)}", "drop it")


def check_optimizer(define: Mapping[str, Any], field: str, component: str) -> None:
    name = define.get("optimizer")
    if name not in OPTIMIZERS:
        raise _unsupported(
            component, f"{field}.optimizer", repr(name), f"allowed: {', '.join(sorted(OPTIMIZERS))}"
        )
    if "learning_rate" not in define:
        # FATE asserts it too: "optimizer setting must contain learning_rate".
        raise ComponentParameterError(f"{component}: {field} must contain learning_rate", field=field)
    mapped = OPTIMIZERS[name][1]
    for key, value in define.items():
        if key == "optimizer" or key in mapped or key in OPTIMIZER_INERT:
            continue
        if key in ("beta_1", "beta_2") and name in ("Adam", "Adamax"):
            continue
        if key in OPTIMIZER_DEFAULTS and value in OPTIMIZER_DEFAULTS[key]:
            continue
        raise _unsupported(
            component, f"{field}.{key}", f"{value!r}", "leave it at Keras's default (null/false)"
        )


def build_optimizer(define: Mapping[str, Any], parameters: Iterable[Any]) -> Any:
    import torch

    name = define["optimizer"]
    torch_name, mapped = OPTIMIZERS[name]
    arguments = {mapped[k]: v for k, v in define.items() if k in mapped}
    if "beta_1" in define or "beta_2" in define:
        arguments["betas"] = (float(define.get("beta_1", 0.9)), float(define.get("beta_2", 0.999)))
    if name in ("Adam", "Adamax", "RMSprop", "Adadelta") and "eps" not in arguments:
        arguments["eps"] = 1e-7  # Keras's default epsilon, not torch's 1e-8
    return getattr(torch.optim, torch_name)(list(parameters), **arguments)


def _init(tensor: Any, spec: Mapping[str, Any] | None, default: str) -> None:
    import torch

    kind = spec.get("class_name") if spec else default
    config = dict((spec or {}).get("config") or {})
    with torch.no_grad():
        if kind == "Zeros":
            torch.nn.init.zeros_(tensor)
        elif kind == "Ones":
            torch.nn.init.ones_(tensor)
        elif kind == "RandomNormal":
            torch.nn.init.normal_(tensor, float(config.get("mean", 0.0)), float(config.get("stddev", 0.05)))
        elif kind == "RandomUniform":
            torch.nn.init.uniform_(
                tensor, float(config.get("minval", -0.05)), float(config.get("maxval", 0.05))
            )
        elif kind == "GlorotNormal":
            torch.nn.init.xavier_normal_(tensor)
        else:
            torch.nn.init.xavier_uniform_(tensor)


def build_sequential(define: Mapping[str, Any], input_dim: int) -> Any:
    """A ``torch.nn.Sequential`` of a checked Keras definition for rows of ``input_dim`` features."""
    import torch

    modules: list[Any] = []
    width = input_dim
    for layer in layers(define, "nn_define", "FTL"):
        config = dict(layer.get("config") or {})
        if layer.get("class_name") == "Dropout":
            modules.append(torch.nn.Dropout(float(config["rate"])))
            continue
        units = int(config["units"])
        dense = torch.nn.Linear(width, units, bias=bool(config.get("use_bias", True)))
        # Keras's kernel is (in, out), torch's weight (out, in): initializers here are elementwise or
        # symmetric in fan_in/fan_out, so drawing on the torch shape gives the same distribution.
        _init(dense.weight, config.get("kernel_initializer"), "GlorotUniform")
        if dense.bias is not None:
            _init(dense.bias, config.get("bias_initializer"), "Zeros")
        modules.append(dense)
        activation = ACTIVATIONS[config.get("activation")]
        if activation is not None:
            modules.append(getattr(torch.nn, activation)())
        width = units
    return torch.nn.Sequential(*modules)
