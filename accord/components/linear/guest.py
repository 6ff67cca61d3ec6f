"""The guest's side of HeteroLinR / HeteroPoisson: it holds the labels, the intercept (and the exposure).

The protocol is HeteroLR's (accord.components.hetero_lr.guest): per batch the hosts send their
encrypted forward partition by partition, the guest adds its plaintext part to form the encrypted
fore-gradient (the link's, see :mod:`accord.components.linear.links`), sends it to the hosts, sends its
own encrypted gradient (and, with one host, the encrypted loss) to the arbiter and applies the step
the arbiter sends back. It never sees a host's features or weights in clear. This class overrides
HeteroLR's hooks only: the exposure column, the link's kernels and loss, regression metrics.
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np

from accord.components.evaluation.metrics import MetricResult
from accord.components.evaluation.regression import regression_metrics
from accord.components.hetero_lr import encoded
from accord.components.hetero_lr import kernels as lr_kernels
from accord.components.hetero_lr.early_stopping import EarlyStopping
from accord.components.hetero_lr.guest import GuestTrainer as LogisticGuest
from accord.components.linear import links
from accord.components.linear.params import PoissonParam, _GeneralizedParam
from accord.components.sdk import ComponentContext, DataTable
from accord.computing import BlockTable
from accord.errors import DataFormatError


class GuestTrainer(LogisticGuest):
    def __init__(self, ctx: ComponentContext[Any], link: str, meta: dict[str, Any] | None = None) -> None:
        super().__init__(ctx, meta)
        self.link = link
        self.linear: _GeneralizedParam = ctx.params
        # sqn's Hessian-vector product: the identity link's second derivative is 1 (HeteroLR's is 0.25).
        self.hess_scale = 1.0
        # The exposure column's position in the guest's header (-1: none); found in feature_header.
        self.exposure = -1

    def feature_header(self, train: DataTable) -> list[str]:
        self.exposure = exposure_index(self.ctx, list(train.header))
        return [name for i, name in enumerate(train.header) if i != self.exposure]

    def prepare_rows(self, data: DataTable) -> BlockTable:
        fn = functools.partial(links.prepare, data.meta(), self.exposure)
        rows = data.table.map_partitions_with_index(fn).persist()
        nothing: list[tuple[bool, bool]] = []
        found = rows.aggregate(nothing, links.sections_of, lr_kernels.concat)
        if not all(labelled for labelled, _ in found):
            rows.unpersist()
            raise DataFormatError(
                f"{self.ctx.component}: the guest's data has no label",
                hint="set with_label: true for the guest in DataTransform",
            )
        if self.link == links.POISSON and any(weighted for _, weighted in found):
            self.ctx.log.warning(
                "the rows have sample weights: Poisson regression does not weigh them, as FATE"
            )
        return rows

    def early_stopping(self) -> Any:
        param = self.linear
        return EarlyStopping.regression(
            param.stopping_rounds, param.validation_metrics, first_only=param.first_metric_only
        )

    def validation_metrics(
        self, labels: np.ndarray, scores: np.ndarray, metrics: list[str]
    ) -> dict[str, MetricResult]:
        return regression_metrics(labels, scores, metrics=metrics)

    def stats_kernel(self, coef: np.ndarray, intercept: float | None, chosen: Any) -> Any:
        return functools.partial(links.guest_stats, self.link, coef, intercept, chosen)

    def fore_kernel(self, coef: np.ndarray, intercept: float | None, chosen: Any, loss_stats: Any) -> Any:
        return functools.partial(
            links.guest_fore,
            self.link,
            self.driver,
            self.key,
            coef,
            intercept,
            chosen,
            loss_stats,
            self.linear.dot_precision,
        )

    def encrypted_loss(self, parts: list[Any], summed: Any, plain: float, public_key: Any) -> Any:
        cross = encoded.total([encoded.data(p, "cross") for p in parts], public_key)
        if self.link == links.POISSON:
            # Σμ - Σy·(wx_g + b + offset) - Σy·wx_h, with Σμ = Σd + Σy.
            return summed + cross + plain
        # (Σ(wx_g - y)² + Σwx_h² + 2·Σ(wx_g - y)·wx_h) / 2.
        square = encoded.total([encoded.data(p, "square") for p in parts], public_key)
        return (square + cross * 2.0 + plain) * 0.5

    def scored_kernel(self, coef: np.ndarray, intercept: float) -> Any:
        return functools.partial(links.scored_labels, self.link, coef, intercept)

    def predictions_kernel(self, data: DataTable, coef: np.ndarray, intercept: float, data_type: str) -> Any:
        return functools.partial(
            links.predictions, self.link, data.meta(), self.exposure, coef, intercept, data_type
        )


def exposure_index(ctx: ComponentContext[Any], header: list[str]) -> int:
    """The exposure column's position in the guest's header (-1: none).

    As FATE, a name the header lacks means every exposure is 1 (said in the task's log).
    """
    params = ctx.params
    name = params.exposure_colname if isinstance(params, PoissonParam) else None
    if name is None:
        return -1
    if name not in header:
        ctx.log.warning(
            "exposure_colname %r is not a feature of the guest's data (%s): every exposure is taken as 1, "
            "as FATE does",
            name,
            ", ".join(header[:10]),
        )
        return -1
    return header.index(name)
