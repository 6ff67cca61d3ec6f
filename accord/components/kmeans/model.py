"""HeteroKmeans' arithmetic and its JSON model, shared by the clients and the arbiter.

Squared Euclidean distance splits over features: a row's squared distance to a centroid is the sum,
over the parties, of the squared distance between the party's part of the row and its part of the
centroid. So each client computes an n-by-k matrix of its parts, and only their sum (which the
arbiter gets through secure aggregation) says which centroid is nearest.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from accord.components.kmeans.params import KmeansParam
from accord.errors import DataFormatError, DataMismatchError

MODULE = "HeteroKmeans"
# Fixed-point resolution of the aggregated distances: 2**-24 (about 6e-8) for sums below 2**38.
DISTANCE_BITS = 24


def distances(features: np.ndarray, centroids: np.ndarray) -> np.ndarray:
    """Squared distances of each row to each centroid (n by k), over this party's features."""
    # |x|^2 - 2 x.c + |c|^2 keeps memory at n by k (the difference tensor would be n by k by features).
    rows = np.einsum("nf,nf->n", features, features)[:, None]
    tops = np.einsum("kf,kf->k", centroids, centroids)[None, :]
    result: np.ndarray = np.maximum(rows - 2.0 * features @ centroids.T + tops, 0.0)
    return result


def centroid_gaps(centroids: np.ndarray) -> np.ndarray:
    """Squared distances between every pair of centroids (k by k), over this party's features."""
    return distances(centroids, centroids)


def updated(
    features: np.ndarray, assignment: np.ndarray, centroids: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The mean of each cluster's rows (an empty cluster keeps its centroid, as FATE) and the counts."""
    k = centroids.shape[0]
    counts = np.bincount(assignment, minlength=k)
    sums = np.zeros_like(centroids)
    np.add.at(sums, assignment, features)
    filled = counts > 0
    result = centroids.copy()
    result[filled] = sums[filled] / counts[filled, None]
    return result, counts


def cluster_detail(counts: np.ndarray) -> list[list[float]]:
    """FATE's cluster_detail: per cluster its index, row count and share of the rows."""
    total = max(int(counts.sum()), 1)
    return [[int(index), int(count), float(count) / total] for index, count in enumerate(counts)]


def davies_bouldin(mean_radius: Mapping[int, float], gaps: np.ndarray) -> float:
    """FATE's DBI over the non-empty clusters: mean over i of max over j of (s_i + s_j) / d(c_i, c_j)."""
    present = sorted(mean_radius)
    if len(present) < 2:
        return float("nan")
    worst = []
    for i in present:
        ratios = [
            (mean_radius[i] + mean_radius[j]) / np.sqrt(gaps[i, j]) if gaps[i, j] > 0 else np.inf
            for j in present
            if j != i
        ]
        worst.append(max(ratios))
    return float(np.mean(worst))


def summary_of(total: np.ndarray, gaps: np.ndarray) -> tuple[np.ndarray, np.ndarray, dict[str, Any]]:
    """From the summed distances: each row's cluster and squared distance, and per-cluster figures.

    The figures are FATE's arbiter output: row count, mean Euclidean distance to the centroid
    (``cluster_inner_dist``), the largest squared distance (``cluster_max_radius``), and the squared
    distances between centroids.
    """
    assignment = np.argmin(total, axis=1)
    nearest = total[np.arange(total.shape[0]), assignment]
    k = total.shape[1]
    counts = np.bincount(assignment, minlength=k)
    radius = np.sqrt(np.maximum(nearest, 0.0))
    inner = {int(c): float(radius[assignment == c].mean()) for c in range(k) if counts[c] > 0}
    widest = {int(c): float(nearest[assignment == c].max()) for c in range(k) if counts[c] > 0}
    figures = {
        "counts": counts.tolist(),
        "inner": inner,
        "max_radius": widest,
        "gaps": gaps.tolist(),
        "dbi": davies_bouldin(inner, gaps),
        "inertia": float(nearest.sum()),
    }
    return assignment, nearest, figures


def model_json(
    param: KmeansParam,
    *,
    header: Sequence[str] | None,
    centroids: np.ndarray | None,
    counts: np.ndarray | None,
    iters: int,
    converged: bool,
    extra: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """FATE's KmeansModelMeta / KmeansModelParam as JSON (the arbiter holds no centroids)."""
    body: dict[str, Any] = {
        "count_of_clusters": param.k,
        "max_interation": iters,
        "converged": converged,
        **dict(extra or {}),
    }
    if header is not None and centroids is not None and counts is not None:
        body["header"] = list(header)
        body["cluster_detail"] = cluster_detail(counts)
        body["centroid_detail"] = [[float(v) for v in row] for row in centroids]
    meta = {
        "k": param.k,
        "tol": float(param.tol),
        "max_iter": param.max_iter,
        "random_stat": param.random_stat,
    }
    return {"module": MODULE, "meta": meta, "param": body}


def centroids_of(model: Mapping[str, Any], header: Sequence[str], component: str) -> np.ndarray:
    """The centroids of a client's model, columns in ``header`` order."""
    param = model.get("param", {})
    trained = param.get("header")
    rows = param.get("centroid_detail")
    if not isinstance(trained, list) or not isinstance(rows, list):
        raise DataFormatError(
            f"{component} was given a HeteroKmeans model without centroids for this party",
            hint="wire in the model of the HeteroKmeans that trained on this party",
        )
    if sorted(trained) != sorted(header):
        raise DataMismatchError(
            f"{component}: the model's centroids are over features {trained[:8]} but the data has "
            f"{list(header)[:8]}",
            hint="predict on data transformed like the training data",
        )
    order = [trained.index(name) for name in header]
    return np.asarray(rows, dtype=np.float64)[:, order]
