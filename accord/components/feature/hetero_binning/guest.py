"""The guest's side: it holds the labels, bins its own columns, and learns each host column's
statistics without ever seeing the host's values or split points.

Own columns: split points, then rows per (bin, label) counted over the partitions, then WOE / IV.
Host columns (unless local_only): the guest makes a Paillier key pair and sends the encrypted label
indicators (one ciphertext per row and label, all labels but the last for more than two) with the
rows' sids; each host answers with the encrypted sums per bin and its rows per bin, under anonymous
column names; the guest decrypts the event counts and computes the statistics. For optimal binning
on a host the guest merges the host's initial bins and sends back only which boundaries to keep.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from accord.components.feature.binning import blocks
from accord.components.feature.hetero_binning import local
from accord.components.feature.hetero_binning.model import (
    Columns,
    base_model,
    choose_columns,
    col_result,
    event_order,
    label_key,
)
from accord.components.feature.hetero_binning.params import HeteroFeatureBinningParam
from accord.components.sdk import ComponentContext, DataTable
from accord.crypto import generate_keypair
from accord.errors import ComponentFeatureUnsupported, ComponentParameterError, DataFormatError

Context = ComponentContext[HeteroFeatureBinningParam]


def fit(ctx: Context, data: DataTable) -> dict[str, Any]:
    params, component = ctx.params, ctx.component
    columns = choose_columns(params, data.header, component)
    points = local.split_points(params, data, columns, component)
    statistics = not params.skip_static
    labels: list[float] = []
    if statistics:
        counted = blocks.label_counts(data)
        if not counted:
            raise DataFormatError(
                f"{component} computes WOE and IV from labels, and the guest's rows have none",
                hint="read the guest's data with with_label true, or set skip_static true",
            )
        labels = event_order(list(counted))
        _check_multiclass(params, labels, component)
    model = base_model(params, columns, points)
    if statistics:
        _own_statistics(params, data, columns, points, labels, model)
    model["split_points"] = {name: [float(p) for p in sp] for name, sp in points.items()}
    if not params.local_only and "host" in ctx.plan.roles:
        ctx.transfer.remote({"statistics": statistics}, role="host", tag="setup")
        if statistics:
            _host_statistics(ctx, data, labels, model)
    return model


def _check_multiclass(params: HeteroFeatureBinningParam, labels: list[float], component: str) -> None:
    if len(labels) <= 2:
        return
    if local.runs_optimal(params):
        raise ComponentFeatureUnsupported(
            f"{component}: optimal binning takes two labels, and the data has {len(labels)}",
            hint="use method quantile or bucket for multi-class labels (as FATE 1.11)",
            field="method",
        )
    if params.transform_param.transform_type == "woe":
        raise ComponentParameterError(
            f"{component}: the woe transform needs two labels, and the data has {len(labels)}",
            hint="use transform_type bin_num or null for multi-class labels",
            field="transform_param.transform_type",
        )


def _results(
    counts: dict[str, np.ndarray],
    labels: list[float],
    factor: float,
    points: dict[str, list[float]] | None,
    model: dict[str, Any],
    key: str,
) -> None:
    """Fill ``model[key]`` (binary) or ``model[key + '_by_label']`` from per-(bin, label) counts whose
    label columns follow ``labels``' order."""
    if len(labels) <= 2:
        model[key] = {
            name: col_result(grid[:, 0], grid.sum(axis=1), factor, None if points is None else points[name])
            for name, grid in counts.items()
        }
        return
    model[f"{key}_by_label"] = {
        label_key(label): {
            name: col_result(grid[:, k], grid.sum(axis=1), factor, None if points is None else points[name])
            for name, grid in counts.items()
        }
        for k, label in enumerate(labels)
    }


def _own_statistics(
    params: HeteroFeatureBinningParam,
    data: DataTable,
    columns: Columns,
    points: dict[str, list[float]],
    labels: list[float],
    model: dict[str, Any],
) -> None:
    ascending = sorted(labels)
    names = columns.names(columns.binned)
    grids = blocks.label_counts_per_bin(data, columns.binned, [points[n] for n in names], ascending)
    # Label columns in event order (for two labels the event first).
    order = [ascending.index(label) for label in labels]
    counts = {name: grid[:, order] for name, grid in zip(names, grids, strict=True)}
    if local.runs_optimal(params):
        settings = local.optimal_settings(params)
        for name in columns.names(columns.bin_cols):
            grid = counts[name]
            kept = local.optimal_kept(points[name], grid[:, 0], grid.sum(axis=1), settings)
            points[name] = [points[name][k] for k in kept]
            counts[name] = local.merged(grid, kept)
    model["labels"] = [int(v) if v.is_integer() else v for v in labels] if len(labels) > 2 else None
    _results(counts, labels, params.adjustment_factor, points, model, "results")


def _host_statistics(ctx: Context, data: DataTable, labels: list[float], model: dict[str, Any]) -> None:
    params = ctx.params
    sids, y = blocks.gather_labels(data)
    public_key, private_key = generate_keypair(params.encrypt_param.key_length)
    # One indicator per label but the last: a host's rows per bin give the last label's count.
    indicators = [(y == label).astype(np.float64) for label in labels[:-1]]
    vectors = [public_key.encrypt(indicator) for indicator in indicators]
    ctx.log.info(
        "%s: sent %d encrypted label vectors of %d rows to the hosts", ctx.component, len(vectors), len(sids)
    )
    ctx.transfer.remote({"sids": sids, "vectors": vectors}, role="host", tag="labels")
    host_ids = ctx.party_ids("host")
    own_settings = local.optimal_settings(params) if local.runs_optimal(params) else None
    model["host_results"] = {}
    if len(labels) > 2:
        model["host_results_by_label"] = {}
    for index, host_id in enumerate(host_ids):
        answer = ctx.transfer.get(role="host", tag="bin_sums", index=index)
        names: list[str] = list(answer["columns"])
        sizes = [int(s) for s in answer["sizes"]]
        totals = np.asarray(answer["totals"], dtype=np.int64)
        sums = [np.rint(private_key.decrypt(v)).astype(np.int64) for v in answer["sums"]]
        bounds = np.cumsum([0, *sizes])
        counts: dict[str, np.ndarray] = {}
        for k, name in enumerate(names):
            lo, hi = bounds[k], bounds[k + 1]
            per_label = [s[lo:hi] for s in sums]
            last = totals[lo:hi] - (np.sum(per_label, axis=0) if per_label else 0)
            counts[name] = np.stack([*per_label, last], axis=1)
        optimal = answer.get("optimal")
        if optimal is not None:
            settings = own_settings or optimal
            kept: dict[str, list[int]] = {}
            for name in answer.get("numeric", []):
                grid = counts[name]
                initial = list(range(len(grid) - 1))
                kept[name] = local.optimal_kept(initial, grid[:, 0], grid.sum(axis=1), settings)
                counts[name] = local.merged(grid, kept[name])
            ctx.transfer.remote({"kept": kept}, role="host", tag="kept", index=index)
        holder: dict[str, Any] = {}
        _results(counts, labels, params.adjustment_factor, None, holder, "results")
        if "results" in holder:
            model["host_results"][str(host_id)] = holder["results"]
        else:
            model["host_results_by_label"][str(host_id)] = holder["results_by_label"]
