"""HeteroNN's torch parts per party, built from the definitions in the model's meta, and their JSON.

The guest builds, under ``torch.manual_seed(seed)`` and in this order: its bottom model, the guest
part of the interactive layer ``Linear(guest_dim, out_dim)``, one ``Linear(host_dim, out_dim)`` per
host (its weight becomes the guest's share S_h, its bias b_h stays at the guest), the top model. A
host builds its bottom model under the same seed. A plain torch model built in that order is the
same network (what the tests compare against). torch is imported here only; the component module
imports this lazily.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import torch

from accord.components.nn import define
from accord.components.nn.hetero.params import ACTIVATIONS
from accord.components.nn.portable import array_state, load_module_state, module_state, state_array

MODULE = "HeteroNN"
# torch's default generator is one per process, and a worker (or the tests' harness) may run several
# parties in threads: seeding and building happen under this lock so each party's init is its seed's.


class Interactive(torch.nn.Module):
    """The interactive layer's guest-held parameters: the guest's Linear and the hosts' biases."""

    def __init__(self, spec: Mapping[str, Any], hosts: int) -> None:
        super().__init__()
        out_dim = int(spec["out_dim"])
        self.guest = torch.nn.Linear(int(spec["guest_dim"]), out_dim, bias=bool(spec.get("guest_bias", True)))
        linears = [
            torch.nn.Linear(int(spec["host_dim"]), out_dim, bias=bool(spec.get("host_bias", True)))
            for _ in range(hosts)
        ]
        self.initial_shares = [linear.weight.detach().double().numpy().copy() for linear in linears]
        self.host_bias = torch.nn.ParameterList(
            [linear.bias for linear in linears if linear.bias is not None]
        )
        name = ACTIVATIONS[spec.get("activation")]
        self.activation = getattr(torch.nn, name)() if name else torch.nn.Identity()
        dropout = spec.get("dropout")
        self.dropout = torch.nn.Dropout(float(dropout)) if dropout else torch.nn.Identity()

    def forward(self, guest: torch.Tensor, hosts: list[torch.Tensor]) -> torch.Tensor:
        z = self.guest(guest)
        for index, part in enumerate(hosts):
            z = z + part
            if len(self.host_bias):
                z = z + self.host_bias[index]
        out: torch.Tensor = self.dropout(self.activation(z))
        return out


class GuestNet:
    def __init__(self, meta: Mapping[str, Any], hosts: int) -> None:
        torch.set_num_threads(1)
        with define.SEEDING:
            torch.manual_seed(int(meta["seed"]))
            self.bottom = define.build_sequential(meta["bottom_nn_define"])
            self.interactive = Interactive(meta["interactive"], hosts)
            self.top = define.build_sequential(meta["top_nn_define"])
        self.shares = list(self.interactive.initial_shares)
        self.coae: Any = None

    def modules(self) -> list[torch.nn.Module]:
        return [self.bottom, self.interactive, self.top]

    def train(self, mode: bool) -> None:
        for module in self.modules():
            module.train(mode)

    def state(self) -> dict[str, Any]:
        return {
            "bottom": module_state(self.bottom),
            "interactive": module_state(self.interactive),
            "top": module_state(self.top),
            "host_shares": [array_state(share) for share in self.shares],
            "coae": None if self.coae is None else module_state(self.coae),
        }

    def load(self, param: Mapping[str, Any], component: str) -> None:
        load_module_state(self.bottom, param["bottom"], f"{component} guest bottom model")
        load_module_state(self.interactive, param["interactive"], f"{component} interactive layer")
        load_module_state(self.top, param["top"], f"{component} top model")
        self.shares = [state_array(entry).astype(np.float64) for entry in param["host_shares"]]
        if param.get("coae") is not None:
            from accord.components.nn.hetero.coae import CoAE

            self.coae = CoAE(int(param["coae"]["encoder.0.weight"]["shape"][1]))
            load_module_state(self.coae, param["coae"], f"{component} CoAE")


class HostNet:
    def __init__(self, meta: Mapping[str, Any]) -> None:
        torch.set_num_threads(1)
        with define.SEEDING:
            torch.manual_seed(int(meta["seed"]))
            self.bottom = define.build_sequential(meta["bottom_nn_define"])
        spec = meta["interactive"]
        # E_h, the host's share of its interactive weights: zero at the start, as in FATE.
        self.noise = np.zeros((int(spec["out_dim"]), int(spec["host_dim"])))

    def state(self) -> dict[str, Any]:
        return {"bottom": module_state(self.bottom), "noise": array_state(self.noise)}

    def load(self, param: Mapping[str, Any], component: str) -> None:
        load_module_state(self.bottom, param["bottom"], f"{component} host bottom model")
        self.noise = state_array(param["noise"]).astype(np.float64)


def tensor(values: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(values, dtype=np.float32))
