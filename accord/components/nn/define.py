"""FATE 1.11's JSON model definitions, built into torch modules from an allow-list.

A conf names layers (``nn_define``, ``bottom_nn_define``, ``top_nn_define``), a loss and an optimizer
by torch class name with constructor arguments, as FATE's pipeline writes them: ``{"0-0": {"layer":
"Linear", "in_features": 30, "out_features": 1, "initializer": {}}, "1-1": {"layer": "Sigmoid"}}``.
Only the names below are built, and only with the arguments their constructor declares: a conf is
data from another organisation, so it never names code to import (FATE's ``CustModel``/``CustLoss``)
nor a pickled module. Everything is checked by :func:`check_definitions` before a job starts; the
builders assume a checked definition.

torch is imported inside the functions that need it: a site without the ``nn`` extra still imports
this module (to refuse NN jobs at submit with a clear error).
"""

from __future__ import annotations

import importlib.util
import inspect
import threading
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from typing import Any

from accord.errors import ComponentFeatureUnsupported, ComponentParameterError

# torch's default generator is one per process, shared by every task a worker runs in threads: seeding
# it and building a model from it happen under this lock, so a seed always gives the same weights.
SEEDING = threading.Lock()

EXTRA_HINT = "install the NN extra on every party's site: pip install 'accord[nn]'"

# torch.nn classes a definition may name. Adding one: put its class name here (its constructor's
# keyword arguments are then accepted as they are declared) and list it in the README.
LAYERS = frozenset(
    {
        "Linear",
        "Bilinear",
        "Identity",
        "Flatten",
        "Unflatten",
        "Dropout",
        "Dropout1d",
        "Dropout2d",
        "AlphaDropout",
        "BatchNorm1d",
        "BatchNorm2d",
        "LayerNorm",
        "Conv1d",
        "Conv2d",
        "MaxPool1d",
        "MaxPool2d",
        "AvgPool1d",
        "AvgPool2d",
        "AdaptiveAvgPool1d",
        "AdaptiveAvgPool2d",
        "Embedding",
        "ReLU",
        "ReLU6",
        "LeakyReLU",
        "PReLU",
        "ELU",
        "SELU",
        "CELU",
        "GELU",
        "SiLU",
        "Mish",
        "Sigmoid",
        "Hardsigmoid",
        "Tanh",
        "Hardtanh",
        "Softplus",
        "Softsign",
        "Softmax",
        "LogSoftmax",
    }
)
LOSSES = frozenset(
    {
        "BCELoss",
        "BCEWithLogitsLoss",
        "CrossEntropyLoss",
        "NLLLoss",
        "MSELoss",
        "L1Loss",
        "SmoothL1Loss",
        "HuberLoss",
        "PoissonNLLLoss",
        "KLDivLoss",
        "SoftMarginLoss",
        "MultiLabelSoftMarginLoss",
    }
)
# LBFGS needs a closure re-evaluating the loss, which the trainers do not run.
OPTIMIZERS = frozenset(
    {"SGD", "Adam", "AdamW", "Adamax", "NAdam", "RAdam", "Adagrad", "Adadelta", "RMSprop", "ASGD", "Rprop"}
)
INITIALIZERS = {
    "uniform": "uniform_",
    "normal": "normal_",
    "constant": "constant_",
    "xavier_uniform": "xavier_uniform_",
    "xavier_normal": "xavier_normal_",
    "kaiming_uniform": "kaiming_uniform_",
    "kaiming_normal": "kaiming_normal_",
    "eye": "eye_",
    "dirac": "dirac_",
    "orthogonal": "orthogonal_",
    "sparse": "sparse_",
    "zeros": "zeros_",
    "ones": "ones_",
}
# Keys of FATE's JSON that are not constructor arguments.
_LAYER_KEYS = ("layer", "initializer")
_OPTIMIZER_KEYS = ("optimizer", "config_type")


def torch_installed() -> bool:
    return importlib.util.find_spec("torch") is not None


def require_torch(component: str, module: str) -> None:
    """Refuse an NN job at submit on a site without the extra (rather than failing at run time)."""
    if not torch_installed():
        raise ComponentFeatureUnsupported(
            f"{component}: {module} needs PyTorch, which this site does not have", hint=EXTRA_HINT
        )


def ordered_layers(define: Mapping[str, Any], field: str, component: str) -> list[tuple[str, dict[str, Any]]]:
    """The layers of a definition in FATE's order: by the integer before the first '-' of each key."""

    def position(key: str) -> int:
        head = key.split("-", 1)[0]
        if not head.isdigit():
            raise ComponentParameterError(
                f"{component}: {field} key {key!r} does not start with the layer's position",
                hint="name layers '<position>-<name>' as FATE's pipeline writes them, e.g. '0-0', '1-relu'",
            )
        return int(head)

    layers: list[tuple[str, dict[str, Any]]] = []
    for key in sorted(define, key=position):
        spec = define[key]
        if not isinstance(spec, Mapping):
            raise ComponentParameterError(
                f"{component}: {field}[{key!r}] must be an object naming a layer",
                hint='e.g. {"layer": "ReLU"}',
            )
        layers.append((key, dict(spec)))
    return layers


def check_sequential(define: Mapping[str, Any] | None, field: str, component: str, *, required: bool) -> None:
    """Refuse a definition that :func:`build_sequential` would not build, naming the bad entry."""
    if define is None:
        if required:
            raise ComponentParameterError(
                f"{component}: {field} is required", hint=f"give {field} as FATE's pipeline writes it"
            )
        return
    if not isinstance(define, Mapping) or not define:
        raise ComponentParameterError(f"{component}: {field} must be a non-empty object of layers")
    for key, spec in ordered_layers(define, field, component):
        where = f"{field}[{key!r}]"
        if "op" in spec:
            raise ComponentFeatureUnsupported(
                f"{component}: {where} names the operation {spec['op']!r}; operations are not supported",
                hint=f"use layers only: {', '.join(sorted(LAYERS))}",
            )
        name = spec.get("layer")
        if name not in LAYERS:
            raise ComponentFeatureUnsupported(
                f"{component}: {where} names the layer {name!r}, which is not allowed",
                hint=f"allowed layers: {', '.join(sorted(LAYERS))}",
            )
        _check_arguments(name, _arguments(spec, _LAYER_KEYS), where, component)
        _check_initializer(spec.get("initializer") or {}, where, component)


def check_loss(define: Mapping[str, Any] | None, field: str, component: str) -> None:
    if define is None:
        raise ComponentParameterError(f"{component}: {field} is required", hint='e.g. {"loss_fn": "BCELoss"}')
    name = define.get("loss_fn")
    if name not in LOSSES:
        raise ComponentFeatureUnsupported(
            f"{component}: {field}.loss_fn {name!r} is not an allowed loss",
            hint=f"allowed losses: {', '.join(sorted(LOSSES))}",
        )
    _check_arguments(name, _arguments(define, ("loss_fn",)), field, component)


def check_optimizer(define: Mapping[str, Any] | None, field: str, component: str) -> None:
    if define is None:
        raise ComponentParameterError(
            f"{component}: {field} is required", hint='e.g. {"optimizer": "Adam", "lr": 0.01}'
        )
    if define.get("config_type", "pytorch") != "pytorch":
        raise ComponentFeatureUnsupported(
            f"{component}: {field}.config_type {define.get('config_type')!r} is not supported",
            hint="use config_type 'pytorch'",
        )
    name = define.get("optimizer")
    if name not in OPTIMIZERS:
        raise ComponentFeatureUnsupported(
            f"{component}: {field}.optimizer {name!r} is not an allowed optimizer",
            hint=f"allowed optimizers: {', '.join(sorted(OPTIMIZERS))}",
        )
    _check_arguments(name, _arguments(define, _OPTIMIZER_KEYS), field, component, optimizer=True)


def build_sequential(define: Mapping[str, Any]) -> Any:
    """A ``torch.nn.Sequential`` of a checked definition, with its initializers applied."""
    import torch

    modules: OrderedDict[str, Any] = OrderedDict()
    for key, spec in ordered_layers(define, "nn_define", "nn"):
        layer = getattr(torch.nn, spec["layer"])(**_torch_arguments(_arguments(spec, _LAYER_KEYS)))
        for target, initializer in (spec.get("initializer") or {}).items():
            _initialize(layer, target, initializer)
        # torch refuses '.' in a child's name; FATE's keys never hold one, but a conf may.
        modules[key.replace(".", "_")] = layer
    return torch.nn.Sequential(modules)


def build_loss(define: Mapping[str, Any]) -> Any:
    import torch

    return getattr(torch.nn, define["loss_fn"])(**_torch_arguments(_arguments(define, ("loss_fn",))))


def build_optimizer(define: Mapping[str, Any], parameters: Iterable[Any]) -> Any:
    import torch

    arguments = _torch_arguments(_arguments(define, _OPTIMIZER_KEYS))
    return getattr(torch.optim, define["optimizer"])(list(parameters), **arguments)


def _arguments(spec: Mapping[str, Any], skip: Iterable[str]) -> dict[str, Any]:
    skipped = set(skip)
    return {key: value for key, value in spec.items() if key not in skipped}


def _torch_arguments(arguments: Mapping[str, Any]) -> dict[str, Any]:
    # JSON has no tuples (kernel_size, betas); 'device'/'dtype' null means torch's default.
    return {
        key: tuple(value) if isinstance(value, list) else value
        for key, value in arguments.items()
        if not (key in ("device", "dtype") and value is None)
    }


def _check_arguments(
    name: str, arguments: Mapping[str, Any], where: str, component: str, *, optimizer: bool = False
) -> None:
    if not torch_installed():
        return  # the component's require_torch refuses the job; argument names need torch to check
    import torch

    owner = getattr(torch.optim if optimizer else torch.nn, name)
    signature = inspect.signature(owner.__init__)
    accepted = {parameter for parameter in signature.parameters if parameter not in ("self", "params")}
    for argument, value in arguments.items():
        if argument not in accepted:
            raise ComponentParameterError(
                f"{component}: {where} gives {argument!r}, which {name} does not take",
                hint=f"{name} takes: {', '.join(sorted(accepted))}",
            )
        if argument in ("device", "dtype") and value is not None:
            raise ComponentFeatureUnsupported(
                f"{component}: {where}.{argument} {value!r} is not supported", hint=f"leave {argument} null"
            )


def _check_initializer(initializer: Mapping[str, Any], where: str, component: str) -> None:
    for target, spec in initializer.items():
        if target not in ("weight", "bias"):
            raise ComponentParameterError(
                f"{component}: {where}.initializer has {target!r}", hint="initialize 'weight' or 'bias'"
            )
        name = spec.get("init_func") if isinstance(spec, Mapping) else None
        if name not in INITIALIZERS:
            raise ComponentFeatureUnsupported(
                f"{component}: {where}.initializer.{target}.init_func {name!r} is not supported",
                hint=f"allowed: {', '.join(sorted(INITIALIZERS))}",
            )


def _initialize(layer: Any, target: str, spec: Mapping[str, Any]) -> None:
    import torch

    tensor = getattr(layer, target, None)
    if tensor is None:
        return  # activations have no weight: FATE applies the initializer to none
    function = getattr(torch.nn.init, INITIALIZERS[spec["init_func"]])
    with torch.no_grad():
        function(tensor, **dict(spec.get("param") or {}))
