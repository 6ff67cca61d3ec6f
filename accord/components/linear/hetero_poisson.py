"""HeteroPoisson: FATE's vertically federated Poisson regression (log link, exposure as an offset)."""

from __future__ import annotations

from typing import Any

from accord.components.linear import links
from accord.components.linear.component import HeteroRegression
from accord.components.linear.params import PoissonParam


class HeteroPoisson(HeteroRegression[PoissonParam]):
    params = PoissonParam
    module = "HeteroPoisson"
    link = links.POISSON

    def extra_meta(self, params: PoissonParam) -> dict[str, Any]:
        return {"exposure_colname": params.exposure_colname}
