"""torch parameters as JSON a model store keeps and any party reads back, without pickle.

A state is ``{name: {"dtype": "float32", "shape": [...], "data": <base64 of the little-endian
values>}}``: the tensors of ``module.state_dict()`` (weights, biases, batch-norm statistics) by their
torch names. Loading checks every name and shape against the module the model's definition builds.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from typing import Any

import numpy as np

from accord.errors import DataFormatError

_DTYPES = {"float32": "<f4", "float64": "<f8", "int64": "<i8", "int32": "<i4", "bool": "|b1"}


def array_state(array: np.ndarray) -> dict[str, Any]:
    name = str(array.dtype)
    if name not in _DTYPES:
        raise DataFormatError(f"a tensor of dtype {name} cannot be stored", hint="use float32 or float64")
    data = np.ascontiguousarray(array, dtype=_DTYPES[name]).tobytes()
    return {"dtype": name, "shape": list(array.shape), "data": base64.b64encode(data).decode("ascii")}


def state_array(entry: Mapping[str, Any]) -> np.ndarray:
    dtype = _DTYPES.get(str(entry.get("dtype")))
    if dtype is None:
        raise DataFormatError(f"a stored tensor has the unknown dtype {entry.get('dtype')!r}")
    values = np.frombuffer(base64.b64decode(entry["data"]), dtype=dtype)
    return values.reshape([int(size) for size in entry["shape"]]).astype(dtype.lstrip("<|"), copy=True)


def module_state(module: Any) -> dict[str, dict[str, Any]]:
    """The JSON form of ``module.state_dict()``."""
    return {name: array_state(tensor.detach().cpu().numpy()) for name, tensor in module.state_dict().items()}


def load_module_state(module: Any, state: Mapping[str, Mapping[str, Any]], what: str) -> None:
    """Put a stored state into ``module``; names and shapes must be the module's."""
    import torch

    expected = module.state_dict()
    if set(expected) != set(state):
        raise DataFormatError(
            f"{what}: the stored model holds {sorted(state)} but its definition builds {sorted(expected)}",
            hint="predict with the model this definition trained",
        )
    tensors = {}
    for name, tensor in expected.items():
        array = state_array(state[name])
        if tuple(array.shape) != tuple(tensor.shape):
            raise DataFormatError(
                f"{what}: stored tensor {name} has shape {list(array.shape)}, "
                f"the definition {list(tensor.shape)}"
            )
        tensors[name] = torch.from_numpy(array).to(tensor.dtype)
    module.load_state_dict(tensors)
