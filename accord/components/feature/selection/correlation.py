"""The filters that read a HeteroPearson model: correlation_filter (with a binning model) and vif_filter.

correlation_filter, as FATE 1.11's CorrelationFilter: the guest ranks its selected columns (and, with
select_federated, the selected columns of the host in the Pearson model) by IV, highest first
(numpy's argsort reversed, so among equal IVs the later column comes first). Going down that order, a
column still standing drops every column not yet ranked whose |corr| with it exceeds the threshold: a
guest column through the local correlations and the cross matrix, a host column through the cross
matrix (the guest has no host-host correlations). FATE lets a host column it has already dropped, and
any later column, drop guest columns that were kept before them (a guest column and a correlated host
column then both go); Accord follows the rule as FATE documents it instead: only standing columns drop,
and a column that stood is never dropped. A dropped column's value is the correlation that dropped it,
a kept one's 0. NaN correlations (a constant column) drop nothing. The host sends its selected columns
by anonymous name and keeps those the guest returns (host.iv_step); without select_federated it keeps
them all.

vif_filter, as FATE's IsoModelFilter on the Pearson model's local_vif: each party filters its own
columns (threshold / top_k / top_percentile, taking low values by default); a column without a VIF
(constant) counts as NaN and fails every threshold.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from accord.components.feature.selection import metrics
from accord.components.feature.selection.guest import left_tag, select_tag
from accord.components.feature.selection.state import Selection
from accord.components.feature.selection.steps import Step
from accord.components.sdk.transfer import Transfer
from accord.errors import DataFormatError, OperatingError


def _need(model: Mapping[str, Any] | None, what: str, step: str, component: str) -> Mapping[str, Any]:
    if model is None:
        raise OperatingError(
            f"{component} runs {step} but was given no {what} model",
            hint=f'wire the {what} component\'s model into "isometric_model"',
        )
    return model


def _matrix(model: Mapping[str, Any], key: str, rows: int, cols: int) -> np.ndarray:
    found = np.array(
        [[np.nan if v is None else float(v) for v in row] for row in model.get(key) or []], dtype=np.float64
    )
    if found.size == 0:
        found = found.reshape(rows, cols) if rows * cols == 0 else found
    if found.shape != (rows, cols):
        raise DataFormatError(f"the HeteroPearson model's {key} is not {rows} x {cols}")
    return found


def vif_values(pearson: Mapping[str, Any] | None, names: Sequence[str], component: str) -> list[float]:
    model = _need(pearson, "HeteroPearson", "vif_filter", component)
    if "local_vif" not in model:
        raise DataFormatError(
            f"{component} runs vif_filter but the HeteroPearson model has no local_vif",
            hint="run HeteroPearson with calc_local_vif true (its default)",
        )
    found = dict(zip(model.get("names") or [], model["local_vif"], strict=True))
    missing = [name for name in names if name not in found]
    if missing:
        raise DataFormatError(
            f"{component}: the HeteroPearson model has no VIF for {missing[:10]}",
            hint="correlate every column you select (column_indexes -1)",
        )
    return [np.nan if found[name] is None else float(found[name]) for name in names]


def _drop(
    corr: np.ndarray, names: Sequence[str], dropped: dict[str, float], standing: set[str], threshold: float
) -> None:
    for name, value in zip(names, corr, strict=True):
        # NaN fails the comparison: a constant column drops nothing and is never dropped.
        if name not in standing and name not in dropped and abs(value) > threshold:
            dropped[name] = float(value)


def guest_step(
    selection: Selection,
    step: Step,
    position: int,
    *,
    binning: Mapping[str, Any] | None,
    pearson: Mapping[str, Any] | None,
    transfer: Transfer,
    host_ids: Sequence[int],
    component: str,
) -> list[Selection]:
    binning = _need(binning, "HeteroFeatureBinning", "correlation_filter", component)
    pearson = _need(pearson, "HeteroPearson", "correlation_filter", component)
    own_names = list(pearson.get("names") or [])
    local = _matrix(pearson, "local_corr", len(own_names), len(own_names))
    peer_names = list(pearson.get("peer_names") or [])
    cross = (
        _matrix(pearson, "cross_corr", len(own_names), len(peer_names)) if "cross_corr" in pearson else None
    )
    values = metrics.require_iv(metrics.guest_iv(binning, step.merge), selection.select_names, component)
    ranked: list[tuple[int, str]] = [(-1, name) for name in selection.select_names]
    hosts: list[Selection] = []
    pearson_host = -1
    if step.select_federated:
        if cross is None:
            raise DataFormatError(
                f"{component}: correlation_filter with select_federated needs the HeteroPearson model's "
                "cross-party correlations",
                hint="run HeteroPearson with cross_parties true, or set select_federated false",
            )
        peer_id = int(pearson["peer"]["party_id"])
        sent = transfer.get(role="host", tag=select_tag(position))
        for host, (party_id, anonymous) in enumerate(zip(host_ids, sent, strict=True)):
            hosts.append(Selection.start(anonymous, range(len(anonymous))))
            if party_id != peer_id:
                continue
            pearson_host = host
            iv = metrics.host_iv(binning, party_id, step.merge)
            if iv is None:
                raise DataFormatError(
                    f"{component} ranks host {party_id}'s columns by IV but the binning model has none",
                    hint="set correlation_param.select_federated false or bin with local_only false",
                )
            values.extend(metrics.require_iv(iv, anonymous, component))
            ranked.extend((host, name) for name in anonymous)
    dropped: dict[str, float] = {}
    host_dropped: dict[str, float] = {}
    standing: set[str] = set()
    host_standing: set[str] = set()
    for index in np.argsort(np.asarray(values, dtype=np.float64))[::-1]:
        owner, name = ranked[int(index)]
        if owner < 0:
            if name in dropped:
                continue
            if name not in own_names:
                raise DataFormatError(f"{component}: the HeteroPearson model has no correlations for {name}")
            standing.add(name)
            row = own_names.index(name)
            _drop(local[row], own_names, dropped, standing, step.threshold)
            if cross is not None:
                _drop(cross[row], peer_names, host_dropped, host_standing, step.threshold)
        else:
            if name in host_dropped:
                continue
            if cross is None or name not in peer_names:
                raise DataFormatError(f"{component}: the HeteroPearson model has no correlations for {name}")
            host_standing.add(name)
            _drop(cross[:, peer_names.index(name)], own_names, dropped, standing, step.threshold)
    for name in selection.select_names:
        selection.values[name] = dropped.get(name, 0.0)
        if name not in dropped:
            selection.keep(name)
    for host, view in enumerate(hosts):
        for name in view.select_names:
            view.values[name] = host_dropped.get(name, 0.0) if host == pearson_host else 0.0
            if host != pearson_host or name not in host_dropped:
                view.keep(name)
        view.keep_one(pick_high=False)
        transfer.remote(view.left_names, role="host", tag=left_tag(position), index=host)
    return hosts
