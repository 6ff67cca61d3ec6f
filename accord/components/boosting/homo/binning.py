"""Global quantile binning for HomoSecureBoost, over the rows of every client.

As FATE's homo boosting does (HomoFeatureBinning's recursive query with ``bin_num`` and
``binning_error``): each client sends its per-feature min and max in the clear with its setup, the
arbiter takes the global range, and the global ranks of the query values are summed by secure
aggregation round after round until every quantile is within ``ceil(error·N)`` rows of its aim. The
first client tells the arbiter when to stop (every client sees the same sums, so they agree).

A feature's bins: bin b holds the values ``<= points[b]`` and above ``points[b-1]`` (the last bin
everything above), as the shared binning core assigns them; missing values (NaN, and zeros with
zero_as_missing) are in none of them.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from accord.components.feature.binning import splits
from accord.components.feature.homo_binning import query
from accord.components.homo_lr.secure_aggregation import AggregationClient, AggregationServer
from accord.components.sdk import Transfer

# FATE's HomoFeatureBinningParam default: at most this many query rounds.
MAX_ROUNDS = 100


def _done_tag(round_no: int) -> str:
    return f"binning.done.{round_no}"


def column_ranges(x: np.ndarray) -> tuple[list[float], list[float]]:
    with np.errstate(invalid="ignore"):
        low = np.fmin.reduce(x, axis=0, initial=np.inf) if x.size else np.full(x.shape[1], np.inf)
        high = np.fmax.reduce(x, axis=0, initial=-np.inf) if x.size else np.full(x.shape[1], -np.inf)
    return [float(v) for v in low], [float(v) for v in high]


def local_ranks(sorted_columns: Sequence[np.ndarray], queries: Sequence[np.ndarray]) -> np.ndarray:
    """How many of this client's present values are <= each query value, all columns in one vector."""
    found = [
        np.searchsorted(column, q, side="right").astype(np.float64)
        for column, q in zip(sorted_columns, queries, strict=True)
    ]
    return np.concatenate(found) if found else np.zeros(0)


def _split(total: np.ndarray, queries: Sequence[np.ndarray]) -> list[np.ndarray]:
    cuts = np.cumsum([len(q) for q in queries])[:-1]
    return list(np.split(np.rint(total), cuts)) if queries else []


def client_split_points(
    aggregator: AggregationClient,
    transfer: Transfer,
    x: np.ndarray,
    low: Sequence[float],
    high: Sequence[float],
    present: np.ndarray,
    total: int,
    bin_num: int,
    error: float,
) -> list[list[float]]:
    """Every feature's global split points (``low``/``high``: global ranges; ``present``: global
    non-missing counts; ``total``: global rows)."""
    columns = [np.sort(x[~np.isnan(x[:, k]), k]) for k in range(x.shape[1])]
    nodes = [query.Nodes.start(low[k], high[k], bin_num, int(present[k])) for k in range(x.shape[1])]
    allowed = math.ceil(error * total)
    first = aggregator.position == 0
    for round_no in range(MAX_ROUNDS):
        queries = [n.value.copy() for n in nodes]
        aggregator.send(local_ranks(columns, queries), f"binning.ranks.{round_no}", fraction_bits=0)
        found = _split(np.asarray(aggregator.receive(f"binning.ranks.{round_no}"), dtype=np.float64), queries)
        for node, ranks in zip(nodes, found, strict=True):
            node.update(ranks, allowed)
        done = all(node.done for node in nodes) or round_no == MAX_ROUNDS - 1
        if first:
            transfer.remote(done, role="arbiter", tag=_done_tag(round_no), index=0)
        if done:
            break
    return [node.split_points() for node in nodes]


def server_split_points(server: AggregationServer, transfer: Transfer, first_role: str) -> int:
    """The arbiter's rounds of the query; the number of rounds run."""
    for round_no in range(MAX_ROUNDS):
        name = f"binning.ranks.{round_no}"
        server.send_result(server.collect_sum(name, fraction_bits=0), name)
        if bool(transfer.get(role=first_role, tag=_done_tag(round_no), index=0)):
            return round_no + 1
    return MAX_ROUNDS


def bin_matrix(x: np.ndarray, points: Sequence[Sequence[float]], missing_bin: int) -> np.ndarray:
    """Each value's bin (``missing_bin`` for a missing value or a feature with no point)."""
    bins = np.full(x.shape, missing_bin, dtype=np.int64)
    for k, feature_points in enumerate(points):
        if feature_points:
            column = splits.assign_bins(x[:, k], feature_points)
            column[np.isnan(x[:, k])] = missing_bin
            bins[:, k] = column
    return bins


# The split value of the last bin: every present value goes left (a finite number, for JSON).
LAST_BIN_THRESHOLD = float(np.finfo(np.float64).max)


def threshold_of(points: Sequence[float], bin_: int) -> float:
    """The split value of "bin <= ``bin_``": the bin's upper point (the largest float for the last)."""
    return float(points[bin_]) if bin_ < len(points) - 1 else LAST_BIN_THRESHOLD
