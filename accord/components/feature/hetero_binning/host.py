"""A host's side: it bins its own columns and never learns a label; its split points stay here.

Given the guest's encrypted label indicators, it sums them per bin of each of its columns (the
product of the ciphertexts of the bin's rows, re-randomized so the guest cannot link a sum to the
rows in it) and sends the sums, with its rows per bin, under anonymous column names
``host_<party id>_<column index>``. For optimal binning it sends its initial bins and takes back
only which of their boundaries the guest's merge keeps.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from accord.components.feature.binning import blocks, splits
from accord.components.feature.hetero_binning import local
from accord.components.feature.hetero_binning.model import (
    base_model,
    choose_columns,
    counts_only,
)
from accord.components.feature.hetero_binning.params import HeteroFeatureBinningParam
from accord.components.sdk import ComponentContext, DataTable
from accord.crypto import EncryptedVector
from accord.errors import ComponentParameterError, DataFormatError, DataMismatchError

Context = ComponentContext[HeteroFeatureBinningParam]


def anonymous_name(party_id: int, index: int) -> str:
    return f"host_{party_id}_{index}"


def fit(ctx: Context, data: DataTable) -> dict[str, Any]:
    params, component = ctx.params, ctx.component
    if params.transform_param.transform_type == "woe":
        raise ComponentParameterError(
            f"{component}: a host cannot transform to WOE: the labels, and so the WOE, stay with the guest",
            hint="set transform_param.transform_type to bin_num or null for the host (as FATE)",
            field="transform_param.transform_type",
        )
    columns = choose_columns(params, data.header, component)
    anonymous = {data.header[i]: anonymous_name(ctx.party_id, i) for i in range(len(data.header))}
    if params.local_only:
        # FATE's host does nothing with local_only: no bins, nothing transformed.
        model = base_model(params, columns, {})
        model["transform"] = {"transform_type": None, "transform_cols": []}
        model["anonymous"] = anonymous
        return model
    points = local.split_points(params, data, columns, component)
    names = columns.names(columns.binned)
    sids, bins = blocks.gather_bins(data, columns.binned, [points[n] for n in names])
    totals = {name: splits.bin_totals(bins[:, k], len(points[name])) for k, name in enumerate(names)}
    setup = ctx.transfer.get(role="guest", tag="setup", index=0)
    optimal = local.runs_optimal(params)
    if setup["statistics"]:
        message = ctx.transfer.get(role="guest", tag="labels", index=0)
        positions = _align(sids, message["sids"], component)
        answer = _bin_sums(message["vectors"], positions, bins, names, points, totals)
        answer["columns"] = [anonymous[n] for n in names]
        numeric = set(columns.names(columns.bin_cols))
        if optimal:
            answer["optimal"] = local.optimal_settings(params)
            answer["numeric"] = [anonymous[n] for n in names if n in numeric]
        ctx.transfer.remote(answer, role="guest", tag="bin_sums", index=0)
        if optimal:
            kept = ctx.transfer.get(role="guest", tag="kept", index=0)["kept"]
            for name in numeric:
                chosen = [int(k) for k in kept[anonymous[name]]]
                points[name] = [points[name][k] for k in chosen]
                totals[name] = local.merged(totals[name].reshape(-1, 1), chosen)[:, 0]
    elif optimal:
        raise DataFormatError(
            f"{component}: optimal binning on the host needs the guest's statistics, "
            "and the guest skips them",
            hint="set skip_static false on the guest, or use quantile or bucket on the host",
        )
    model = base_model(params, columns, points)
    model["results"] = {name: counts_only(totals[name], points[name]) for name in names}
    model["anonymous"] = anonymous
    return model


def _align(own: list[str], guest: list[str], component: str) -> np.ndarray:
    """Each of this party's rows as its position in the guest's rows."""
    where = {sid: i for i, sid in enumerate(guest)}
    positions = np.fromiter((where.get(sid, -1) for sid in own), dtype=np.int64, count=len(own))
    if (positions < 0).any():
        raise DataMismatchError(
            f"{component}: {int((positions < 0).sum())} of the host's rows have ids the guest's rows lack",
            hint="bin the output of an Intersection on both parties",
        )
    return positions


def _bin_sums(
    vectors: list[EncryptedVector],
    positions: np.ndarray,
    bins: np.ndarray,
    names: list[str],
    points: dict[str, list[float]],
    totals: dict[str, np.ndarray],
) -> dict[str, Any]:
    """Per label vector, the encrypted sums of every column's bins (missing bin last), back to back."""
    sizes = [len(points[n]) + 1 for n in names]
    sums: list[EncryptedVector] = []
    if not names:
        return {"sizes": [], "sums": [], "totals": np.zeros(0, dtype=np.int64)}
    for vector in vectors:
        parts: list[EncryptedVector] = []
        for k, name in enumerate(names):
            order = np.argsort(bins[:, k], kind="stable")
            edges = np.concatenate([[0], np.cumsum(totals[name])])
            for b in range(sizes[k]):
                rows = positions[order[edges[b] : edges[b + 1]]]
                parts.append(vector[rows].sum())
        sums.append(EncryptedVector.concatenate(parts).rerandomized())
    flat = np.concatenate([totals[n] for n in names]) if names else np.zeros(0, dtype=np.int64)
    return {"sizes": sizes, "sums": sums, "totals": flat.astype(np.int64)}
