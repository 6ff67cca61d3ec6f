"""HeteroLinR: FATE's vertically federated linear regression over guest, hosts and arbiter."""

from __future__ import annotations

from accord.components.linear import links
from accord.components.linear.component import HeteroRegression
from accord.components.linear.params import LinearParam


class HeteroLinR(HeteroRegression[LinearParam]):
    params = LinearParam
    module = "HeteroLinR"
    link = links.LINR
