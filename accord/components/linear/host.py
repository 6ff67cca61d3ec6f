"""A host's side of HeteroLinR / HeteroPoisson: HeteroLR's host with the link's forward.

It holds features and weights only and sees ciphertexts. Per batch it sends its encrypted forward
partition by partition (LinR: [[X_h·w_h]]; Poisson: [[exp(X_h·w_h)]]) and, for the guest's loss, what
the link needs (LinR: [[Σ(X_h·w_h)²]]; Poisson: [[X_h·w_h]]) with its encrypted penalty; the rest (the
encrypted gradient [[X_hᵀ·d]]/n + penalty, the arbiter's steps, validation and the final X_h·w_h) is
HeteroLR's host (accord.components.hetero_lr.host).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import numpy as np

from accord.components.hetero_lr.host import HostTrainer as LogisticHost
from accord.components.linear import links
from accord.components.sdk import ComponentContext


class HostTrainer(LogisticHost):
    def __init__(self, ctx: ComponentContext[Any], link: str, meta: dict[str, Any] | None = None) -> None:
        super().__init__(ctx, meta)
        self.link = link

    def forward_kernel(
        self, key: Any, weights: np.ndarray, chosen: Any, with_loss: bool
    ) -> Callable[[int, Any], Any]:
        return functools.partial(links.host_forward, self.link, self.driver, key, weights, chosen, with_loss)
