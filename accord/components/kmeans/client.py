"""The guest's and hosts' side of HeteroKmeans.

Each client keeps its part of every centroid (its own feature columns) and never shows a row or a
centroid to anyone: per iteration it sends its n-by-k matrix of partial squared distances (and the
k-by-k partial distances between centroids, for the arbiter's Davies-Bouldin index) masked by secure
aggregation, gets back each row's nearest centroid, moves its part of the centroids to the means of
their rows and sends, masked again, how far they moved; the arbiter says when the total is below tol.

The guest draws the k initial centroids (rows chosen with numpy's RandomState(random_stat), as FATE
seeds numpy) and tells the hosts their ids. Rows are aligned by id: every client orders its rows by
sid, and the arbiter checks, from a digest, that all clients hold the same ids.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

import numpy as np

from accord.components.homo_lr.client import raise_problem
from accord.components.homo_lr.secure_aggregation import AggregationClient, clients_of, job_context
from accord.components.kmeans import model as km
from accord.components.kmeans.params import KmeansParam
from accord.components.sdk import ComponentContext, Dataset
from accord.errors import DataFormatError, DataMismatchError

Context = ComponentContext[KmeansParam]


@dataclass(frozen=True)
class Rows:
    ids: np.ndarray
    features: np.ndarray
    labels: np.ndarray | None
    header: tuple[str, ...]


def read_rows(ctx: Context, *slots: str) -> Rows:
    """This party's rows of the first wired slot, ordered by sid."""
    data = ctx.instances_input("clusters parsed feature rows", *slots).to_dataset()
    ids = np.asarray([str(sid) for sid in data.ids()], dtype=object)
    order = np.argsort(ids, kind="stable")
    features = data.features()[order]
    if not data.header or len(data) == 0:
        raise DataFormatError(
            f"{ctx.component} has {len(data)} rows and {len(data.header)} features on {ctx.role} "
            f"{ctx.party_id}; k-means needs both",
            hint="check the upstream components' output on this party",
        )
    if np.isnan(features).any():
        raise DataFormatError(
            f"{ctx.component}: {int(np.isnan(features).any(axis=1).sum())} rows have missing features",
            hint="fill them (FeatureImputation, or DataTransform's missing_fill) before HeteroKmeans",
        )
    labels = data.labels()
    return Rows(ids[order], features, None if labels is None else labels[order], data.header)


def digest(ids: np.ndarray) -> str:
    return hashlib.sha256("\x00".join(str(sid) for sid in ids).encode()).hexdigest()


def connect(ctx: Context, rows: Rows, k: int) -> AggregationClient:
    """Agree the masks with the other clients and have the arbiter check that the rows line up."""
    client = AggregationClient(
        ctx.transfer,
        clients_of(ctx.plan.roles),
        job_context(ctx.job_id, ctx.component, ctx.task.task_version),
    )
    reply = client.setup({"rows": len(rows.ids), "digest": digest(rows.ids), "k": k})
    raise_problem(reply)
    return client


def assign(client: AggregationClient, rows: Rows, centroids: np.ndarray, name: str) -> np.ndarray:
    """Send this party's distance parts; the arbiter's answer: each row's nearest centroid."""
    parts = np.concatenate(
        [km.distances(rows.features, centroids).ravel(), km.centroid_gaps(centroids).ravel()]
    )
    try:
        client.send(parts, name, km.DISTANCE_BITS)
    except DataFormatError:
        raise DataFormatError(
            f"a squared distance of this party's rows exceeds {2.0**38:g}, more than secure aggregation "
            "carries at HeteroKmeans' resolution",
            hint="scale the features first (FeatureScale)",
        ) from None
    assignment = np.asarray(client.receive(name), dtype=np.int64)
    if assignment.shape != (len(rows.ids),):
        raise DataMismatchError(
            f"the arbiter assigned {assignment.shape} rows, this party has {len(rows.ids)}",
            hint="every party must run the same job",
        )
    return assignment


def initial_centroids(ctx: Context, rows: Rows) -> np.ndarray:
    k = ctx.params.k
    if ctx.role == "guest":
        picks = np.random.RandomState(ctx.params.random_stat).choice(len(rows.ids), k, replace=False)
        chosen = [str(sid) for sid in rows.ids[picks]]
        if ctx.party_ids("host"):
            ctx.transfer.remote(chosen, role="host", tag="kmeans.init")
    else:
        chosen = [str(sid) for sid in ctx.transfer.get(role="guest", tag="kmeans.init", index=0)]
        where = {sid: position for position, sid in enumerate(rows.ids)}
        picks = np.array([where[sid] for sid in chosen], dtype=np.int64)
    ctx.log.info("%s: initial centroids at rows %s", ctx.component, chosen)
    return rows.features[np.asarray(picks)].copy()


def train(ctx: Context) -> tuple[Rows, np.ndarray, dict[str, Any]]:
    """Lloyd's iterations; the rows, their final clusters and the model."""
    param = ctx.params
    rows = read_rows(ctx, "train_data", "data")
    client = connect(ctx, rows, param.k)
    if ctx.role == "guest":
        # The arbiter names the rows of its per-row output by these ids (FATE's arbiter sees the keys).
        ctx.transfer.remote([str(sid) for sid in rows.ids], role="arbiter", tag="kmeans.ids", index=0)
    centroids = initial_centroids(ctx, rows)
    iters, converged = 0, False
    for iteration in range(param.max_iter):
        ctx.check_cancelled()
        assignment = assign(client, rows, centroids, f"iter.{iteration}")
        moved, _ = km.updated(rows.features, assignment, centroids)
        client.send(np.array([np.sum((moved - centroids) ** 2)]), f"tol.{iteration}", km.DISTANCE_BITS)
        converged = bool(client.receive(f"tol.{iteration}"))
        centroids, iters = moved, iteration + 1
        ctx.progress(iters, param.max_iter)
        if converged:
            break
    assignment = assign(client, rows, centroids, "final")
    counts = np.bincount(assignment, minlength=param.k)
    learned = km.model_json(
        param, header=rows.header, centroids=centroids, counts=counts, iters=iters, converged=converged
    )
    return rows, assignment, learned


def apply(ctx: Context, trained: dict[str, Any], slot: str) -> tuple[Rows, np.ndarray]:
    """The clusters of a predict job's rows, from the trained centroids."""
    rows = read_rows(ctx, slot)
    centroids = km.centroids_of(trained, rows.header, ctx.component)
    client = connect(ctx, rows, centroids.shape[0])
    if ctx.role == "guest":
        ctx.transfer.remote([str(sid) for sid in rows.ids], role="arbiter", tag="kmeans.ids", index=0)
    return rows, assign(client, rows, centroids, "predict")


def clusters(rows: Rows, assignment: np.ndarray, data_type: str) -> Dataset:
    """FATE's client output: per row its label (the guest's, if any) and its cluster."""
    count = len(rows.ids)
    return Dataset.predictions(
        rows.ids,
        labels=rows.labels if rows.labels is not None else np.full(count, np.nan),
        predict_result=assignment.astype(np.float64),
        # k-means assigns rows; it gives no score (the distances stay with the arbiter, as in FATE).
        predict_score=np.zeros(count),
        predict_detail=[{"cluster": int(c)} for c in assignment],
        data_type=data_type,
        extra={"clustering": "clusters"},
    )
