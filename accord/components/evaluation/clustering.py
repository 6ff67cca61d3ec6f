"""Evaluation's ``clustering`` type, as FATE's ClusteringEvaluation.

Two kinds of input, told apart by their rows as FATE tells them apart:

- a clustering model's rows on the guest (label and cluster per row, ``predict_result`` the cluster):
  the external metrics, comparing clusters with labels: ``jaccard_similarity_score``,
  ``fowlkes_mallows_score``, ``adjusted_rand_score`` and ``contingency_matrix``. Rows without labels
  (a host's) are skipped, as FATE skips them;
- the arbiter's per-cluster summary (HeteroKmeans' ``data_0`` there): the internal metrics,
  ``davies_bouldin_index`` (FATE's formula: mean radius of each cluster over the distance between
  centroids) and ``distance_measure`` (per cluster its largest squared radius and its nearest cluster).

The arbiter's per-row output (``data_1``) carries no metric, as in FATE. The jaccard score is
scikit-learn's ``jaccard_score`` that FATE calls: binary (of label 1) when labels and clusters are
both 0 / 1, else averaged over the classes ("macro"), where scikit-learn's binary default would stop.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from accord.components.evaluation import params as names
from accord.components.evaluation.params import EvaluateParam
from accord.components.sdk import ComponentContext, DataTable
from accord.errors import DataFormatError

SUMMARY_TYPE = "CLUSTERING_EVALUATION_SUMMARY"
OUTER = (
    names.JACCARD_SIMILARITY_SCORE,
    names.FOWLKES_MALLOWS_SCORE,
    names.ADJUSTED_RAND_SCORE,
    names.CONTINGENCY_MATRIX,
)
INNER = (names.DAVIES_BOULDIN_INDEX, names.DISTANCE_MEASURE)


def contingency(labels: np.ndarray, clusters: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rows: the distinct labels; columns: clusters 0 .. max cluster (FATE's layout)."""
    classes, rows = np.unique(labels, return_inverse=True)
    cluster_ids = clusters.astype(np.int64)
    width = int(cluster_ids.max()) + 1
    table = np.zeros((classes.size, width), dtype=np.int64)
    np.add.at(table, (rows, cluster_ids), 1)
    return table, classes, np.arange(width)


def _pairs(values: np.ndarray) -> float:
    return float(np.sum(values.astype(np.float64) * (values - 1) / 2.0))


def adjusted_rand(table: np.ndarray) -> float:
    n = int(table.sum())
    together = _pairs(table)
    rows, cols = _pairs(table.sum(axis=1)), _pairs(table.sum(axis=0))
    expected = rows * cols / (n * (n - 1) / 2.0) if n > 1 else 0.0
    best = (rows + cols) / 2.0
    if best == expected:
        return 1.0
    return (together - expected) / (best - expected)


def fowlkes_mallows(table: np.ndarray) -> float:
    n = float(table.sum())
    tk = float(np.sum(table.astype(np.float64) ** 2)) - n
    pk = float(np.sum(table.sum(axis=0).astype(np.float64) ** 2)) - n
    qk = float(np.sum(table.sum(axis=1).astype(np.float64) ** 2)) - n
    return tk / np.sqrt(pk * qk) if tk != 0.0 else 0.0


def jaccard(labels: np.ndarray, clusters: np.ndarray) -> float:
    def score(positive: float) -> float:
        truth, guess = labels == positive, clusters == positive
        union = int(np.sum(truth | guess))
        return float(np.sum(truth & guess)) / union if union else 0.0

    values = np.union1d(np.unique(labels), np.unique(clusters))
    if set(values.tolist()) <= {0.0, 1.0}:
        return score(1.0)
    return float(np.mean([score(float(v)) for v in values]))


def davies_bouldin(inner: np.ndarray, gaps: np.ndarray) -> float:
    """FATE's DBI; ``gaps`` are squared distances between the clusters' centroids."""
    if inner.size < 2:
        return float("nan")
    worst = []
    for i in range(inner.size):
        worst.append(max((inner[i] + inner[j]) / np.sqrt(gaps[i, j]) for j in range(inner.size) if j != i))
    return float(np.mean(worst))


def evaluate(ctx: ComponentContext[EvaluateParam], tables: list[tuple[str, DataTable]]) -> dict[str, Any]:
    """Record the clustering metrics of each input; the summary (component -> split -> values)."""
    if len(tables) > 1:
        raise DataFormatError(
            f"{ctx.component}: clustering evaluation takes the output of one clustering component, the DSL "
            f"gives {len(tables)}",
            hint="use one Evaluation per HeteroKmeans, as FATE requires",
        )
    summary: dict[str, Any] = {}
    for component, data in tables:
        if data.table.count() == 0:
            continue
        rows = data.to_dataset()
        role = data.extra.get("clustering")
        if data.kind == "predict":
            splits = rows.column("type")
            for split in dict.fromkeys(str(kind) for kind in splits):
                chosen = splits == split
                labels = rows.column("label")[chosen]
                if np.isnan(labels).all():
                    continue
                values = _outer(ctx, component, split, labels, rows.column("predict_result")[chosen])
                summary.setdefault(component, {})[split] = values
        elif data.kind == "instances" and role == "summary":
            if not ctx.params.run_clustering_arbiter_metric:
                # FATE computes the arbiter's internal metrics only when asked.
                ctx.log.info("%s: run_clustering_arbiter_metric is false; no arbiter metrics", ctx.component)
                continue
            split = str(data.extra.get("data_type", "train"))
            values = _inner(ctx, component, split, rows.ids(), rows.features(), rows.header)
            summary.setdefault(component, {})[split] = values
        elif data.kind == "instances" and role == "samples":
            continue
        else:
            raise DataFormatError(
                f"{ctx.component} evaluates clusters, but the input from {component} holds {data.kind} rows",
                hint="connect a clustering component's data_0 output (e.g. hetero_kmeans_0.data_0)",
            )
    return summary


def _single(
    ctx: ComponentContext[EvaluateParam], component: str, split: str, values: dict[str, float]
) -> None:
    if values:
        ctx.tracker.log_metric(
            split,
            component,
            [[name, value] for name, value in values.items()],
            metric_type=SUMMARY_TYPE,
            meta={"metrics": list(values)},
        )


def _outer(
    ctx: ComponentContext[EvaluateParam],
    component: str,
    split: str,
    labels: np.ndarray,
    clusters: np.ndarray,
) -> dict[str, float]:
    wanted = [metric for metric in ctx.params.metrics if metric in OUTER]
    table, classes, cluster_ids = contingency(labels, clusters)
    values: dict[str, float] = {}
    for metric in wanted:
        if metric == names.JACCARD_SIMILARITY_SCORE:
            values[metric] = round(jaccard(labels, clusters), 6)
        elif metric == names.FOWLKES_MALLOWS_SCORE:
            values[metric] = round(fowlkes_mallows(table), 6)
        elif metric == names.ADJUSTED_RAND_SCORE:
            values[metric] = round(adjusted_rand(table), 6)
        else:
            # Points are [x, y] pairs: each label and its row count; the matrix goes in the meta.
            ctx.tracker.log_metric(
                split,
                f"{component}_{metric}",
                [
                    [_number(label), int(sum(row))]
                    for label, row in zip(classes.tolist(), table.tolist(), strict=True)
                ],
                metric_type="CONTINGENCY_MATRIX",
                meta={
                    "matrix": table.tolist(),
                    "predicted_label": cluster_ids.tolist(),
                    "true_label": [_number(c) for c in classes.tolist()],
                },
            )
    _single(ctx, component, split, values)
    return values


def _inner(
    ctx: ComponentContext[EvaluateParam],
    component: str,
    split: str,
    ids: np.ndarray,
    figures: np.ndarray,
    header: tuple[str, ...],
) -> dict[str, float]:
    order = np.argsort([int(sid) for sid in ids])
    clusters = [int(ids[i]) for i in order]
    inner = figures[order, header.index("cluster_inner_dist")]
    radius = figures[order, header.index("cluster_max_radius")]
    gap_columns = np.array([header.index(f"inter_cluster_dist_{c}") for c in clusters], dtype=np.int64)
    gaps = figures[np.ix_(order, gap_columns)]
    values: dict[str, float] = {}
    for metric in (m for m in ctx.params.metrics if m in INNER):
        if metric == names.DAVIES_BOULDIN_INDEX:
            dbi = davies_bouldin(inner, gaps)
            if np.isfinite(dbi):
                values[metric] = round(dbi, 6)
        else:
            nearest = [_nearest(gaps, i, clusters) for i in range(len(clusters))]
            ctx.tracker.log_metric(
                split,
                f"{component}_{metric}",
                [[c, round(float(r), 6)] for c, r in zip(clusters, radius, strict=True)],
                metric_type="DISTANCE_MEASURE",
                meta={"columns": ["cluster", "max_radius"], "nearest_cluster": nearest},
            )
    _single(ctx, component, split, values)
    return values


def _nearest(gaps: np.ndarray, i: int, clusters: list[int]) -> int:
    others = [j for j in range(len(clusters)) if j != i]
    if not others:
        return 0
    return clusters[min(others, key=lambda j: float(gaps[i, j]))]


def _number(value: Any) -> Any:
    return int(value) if isinstance(value, float) and value.is_integer() else value
