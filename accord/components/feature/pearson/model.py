"""HeteroPearson's model: plain JSON (never pickle), read back by HeteroFeatureSelection.

Layout: module, role, party_id, need_run, header and anonymous ({name: anonymous name} for every
column), names (the chosen columns), local_corr (names x names), local_vif (with calc_local_vif),
and with cross_parties: peer ({role, party_id}), peer_names (the peer's chosen columns by anonymous
name), cross_corr (names x peer_names, this party's rows), shapes [own, peer] and FATE's parties
("(guest,ID)", "(host,ID)"). NaN (a column of sigma 0) is stored as null.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

MODULE = "HeteroPearson"


def plain_matrix(values: np.ndarray) -> list[Any]:
    return [[_plain(v) for v in row] for row in np.asarray(values, dtype=np.float64).tolist()]


def plain_vector(values: np.ndarray) -> list[float | None]:
    return [_plain(v) for v in np.asarray(values, dtype=np.float64).tolist()]


def _plain(value: float) -> float | None:
    return float(value) if math.isfinite(value) else None


def find(models: Sequence[Mapping[str, Any]]) -> Mapping[str, Any] | None:
    for model in models:
        if model.get("module") == MODULE:
            return model
    return None
