"""Shared pieces of the HeteroFeatureBinning tests: FATE's example tables as Intersection outputs
them, the job, and plain numpy references (written from FATE's definitions, not from our code)."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np

from accord.components.sdk import Dataset

from ..breast import DATA
from ..harness import ComponentHarness

GUEST, HOST, HOST2 = 9999, 10000, 10001
DSL: dict[str, Any] = {
    "components": {
        "intersection_0": {"module": "Intersection", "output": {"data": ["data"]}},
        "binning_0": {
            "module": "HeteroFeatureBinning",
            "input": {"data": {"data": ["intersection_0.data"]}},
            "output": {"data": ["data"], "model": ["model"]},
        },
        "intersection_1": {"module": "Intersection", "output": {"data": ["data"]}},
        "binning_1": {
            "module": "HeteroFeatureBinning",
            "input": {"data": {"data": ["intersection_1.data"]}, "model": ["binning_0.model"]},
            "output": {"data": ["data"], "model": ["model"]},
        },
    }
}


def load(name: str, labelled: bool) -> tuple[list[str], np.ndarray, np.ndarray | None, list[str]]:
    path = DATA / name
    header = path.read_text().splitlines()[0].split(",")
    table = np.genfromtxt(path, delimiter=",", skip_header=1, dtype=float)
    first = 2 if labelled else 1
    return (
        [str(int(s)) for s in table[:, 0]],
        table[:, first:],
        table[:, 1] if labelled else None,
        header[first:],
    )


def parties(prefix: str, rows: slice = slice(None)) -> tuple[Dataset, Dataset]:
    """Guest (with labels) and host rows of ``prefix``_hetero_{guest,host}.csv, on their common ids."""
    g_ids, g_x, g_y, g_header = load(f"{prefix}_hetero_guest.csv", True)
    h_ids, h_x, _, h_header = load(f"{prefix}_hetero_host.csv", False)
    common = sorted(set(g_ids) & set(h_ids))[rows]
    g_at = {sid: i for i, sid in enumerate(g_ids)}
    h_at = {sid: i for i, sid in enumerate(h_ids)}
    g_rows = [g_at[s] for s in common]
    h_rows = [h_at[s] for s in common]
    assert g_y is not None
    guest = Dataset.instances(common, g_x[g_rows], header=g_header, labels=g_y[g_rows], label_name="y")
    host = Dataset.instances(common, h_x[h_rows], header=h_header)
    return guest, host


def conf(
    common: dict[str, Any],
    guest: dict[str, Any] | None = None,
    host: dict[str, Any] | None = None,
    hosts: tuple[int, ...] = (HOST,),
) -> dict[str, Any]:
    role: dict[str, Any] = {"guest": {"0": {"binning_0": guest or {}}}}
    if host:
        role["host"] = {str(i): {"binning_0": host} for i in range(len(hosts))}
    return {
        "dsl_version": 2,
        "initiator": {"role": "guest", "party_id": GUEST},
        "role": {"guest": [GUEST], "host": list(hosts)},
        "component_parameters": {"common": {"binning_0": common, "binning_1": {}}, "role": role},
    }


def run(
    home: Path,
    job: dict[str, Any],
    guest: Dataset,
    hosts: list[Dataset],
    engine: Any = None,
    predict: tuple[Dataset, list[Dataset]] | None = None,
) -> ComponentHarness:
    harness = ComponentHarness(home, DSL, job, engine=engine)
    harness.plant("guest", GUEST, "intersection_0", guest)
    host_ids = job["role"]["host"]
    for party_id, data in zip(host_ids, hosts, strict=True):
        harness.plant("host", party_id, "intersection_0", data)
    harness.run_ok("binning_0")
    if predict is not None:
        harness.plant("guest", GUEST, "intersection_1", predict[0])
        for party_id, data in zip(host_ids, predict[1], strict=True):
            harness.plant("host", party_id, "intersection_1", data)
        harness.run_ok("binning_1")
    return harness


# ---- plain references ---------------------------------------------------------------------------


def reference_bins(values: np.ndarray, split_points: list[float]) -> np.ndarray:
    """FATE's get_bin_num: bisect_left over all split points but the last; NaN after the last bin."""
    out = np.array([np.searchsorted(split_points[:-1], v, side="left") for v in values], dtype=float)
    out[np.isnan(values)] = len(split_points)
    return out


def reference_woe(
    values: np.ndarray, event: np.ndarray, split_points: list[float], factor: float
) -> dict[str, Any]:
    """WOE / IV written out from FATE's woe_1d, bin by bin, on the joined rows."""
    bins = reference_bins(values, split_points)
    n_bins = len(split_points) + (1 if np.isnan(values).any() else 0)
    events = [float(np.sum(event[bins == b])) for b in range(n_bins)]
    non_events = [float(np.sum(1 - event[bins == b])) for b in range(n_bins)]
    e_total, n_total = sum(events) or 1.0, sum(non_events) or 1.0
    woe, iv = [], 0.0
    for e, n in zip(events, non_events, strict=True):
        if e == 0 or n == 0:
            er, nr = (e + factor) / e_total, (n + factor) / n_total
        else:
            er, nr = e / e_total, n / n_total
        w = math.log(er / nr)
        woe.append(w)
        iv += (er - nr) * w
    return {"woe": woe, "iv": iv, "event_count": events, "non_event_count": non_events}


def assert_quantiles(values: np.ndarray, split_points: list[float], bin_num: int, error: float) -> None:
    """Each split point's rank is within error·N of its quantile's (FATE's bound is 2·error·N)."""
    present = np.sort(values[~np.isnan(values)])
    n = len(present)
    wanted = np.unique(
        [np.quantile(present, min(k / bin_num, 1.0), method="inverted_cdf") for k in range(1, bin_num + 1)]
    )
    slack = max(1, math.floor(error * n)) + 1
    for point in split_points:
        assert point in present, "a quantile split point is a value of the column"
        low, high = np.searchsorted(present, point, "left"), np.searchsorted(present, point, "right")
        # Some asked-for rank falls within the point's run of equal values, give or take the slack.
        ranks = [math.ceil(k / bin_num * n) for k in range(1, bin_num + 1)]
        assert any(low + 1 - slack <= r <= high + slack for r in ranks), (point, low, high)
    assert split_points[-1] == present[-1]
    assert abs(len(split_points) - len(wanted)) <= max(2, bin_num // 5)
