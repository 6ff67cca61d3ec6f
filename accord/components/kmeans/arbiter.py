"""The arbiter's side of HeteroKmeans: it sums the clients' masked distance parts and assigns rows.

It sees, per row, the total squared distance to each centroid (never a feature or a centroid), the
squared distances between centroids and the total centroid shift of each iteration, as FATE's arbiter
does; it decides convergence (shift < tol), logs the Davies-Bouldin index of every iteration and
writes FATE's two arbiter outputs: the per-cluster summary (data_0) and each row's cluster and
squared distance (data_1).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from accord.components.homo_lr.client import raise_problem
from accord.components.homo_lr.secure_aggregation import AggregationServer, clients_of
from accord.components.kmeans import model as km
from accord.components.kmeans.params import KmeansParam
from accord.components.sdk import ComponentContext, Dataset

Context = ComponentContext[KmeansParam]


def _check(setups: Sequence[dict[str, Any]], component: str) -> dict[str, Any] | None:
    rows = {int(setup["rows"]) for setup in setups}
    ks = {int(setup["k"]) for setup in setups}
    if len(rows) > 1 or len({setup["digest"] for setup in setups}) > 1:
        return {
            "error": "mismatch",
            "problem": f"{component}: the parties hold different rows ({sorted(rows)} rows); HeteroKmeans "
            "needs the same ids on every guest and host",
            "hint": "put an Intersection before HeteroKmeans",
        }
    if len(ks) > 1:
        return {
            "error": "mismatch",
            "problem": f"{component}: the parties' models have different k {sorted(ks)}",
            "hint": "predict with the models of one training job",
        }
    if next(iter(ks)) > next(iter(rows)):
        return {
            "error": "data",
            "problem": f"{component}: k={next(iter(ks))} is larger than the {next(iter(rows))} rows",
            "hint": "lower k",
        }
    return None


class Arbiter:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.server = AggregationServer(ctx.transfer, clients_of(ctx.plan.roles))
        setups = self.server.collect_setup()
        problem = _check(setups, ctx.component)
        self.server.answer_setup(setups, problem or {})
        if problem is not None:
            raise_problem(problem)
        self.rows, self.k = int(setups[0]["rows"]), int(setups[0]["k"])
        self.ids = [str(sid) for sid in ctx.transfer.get(role="guest", tag="kmeans.ids", index=0)]

    def assign(self, name: str) -> tuple[np.ndarray, np.ndarray, dict[str, Any]]:
        summed = self.server.collect_sum(name, km.DISTANCE_BITS)
        cells = self.rows * self.k
        total = summed[:cells].reshape(self.rows, self.k)
        gaps = summed[cells:].reshape(self.k, self.k)
        assignment, nearest, figures = km.summary_of(total, gaps)
        self.server.send_result(assignment.astype(np.int64), name)
        return assignment, nearest, figures

    def train(self) -> tuple[dict[str, Any], Dataset, Dataset]:
        ctx, param = self.ctx, self.ctx.params
        iters, converged = 0, False
        for iteration in range(param.max_iter):
            ctx.check_cancelled()
            _, _, figures = self.assign(f"iter.{iteration}")
            self._log_dbi(iteration, figures["dbi"])
            shift = float(self.server.collect_sum(f"tol.{iteration}", km.DISTANCE_BITS)[0])
            converged = shift < param.tol
            self.server.send_result(converged, f"tol.{iteration}")
            iters = iteration + 1
            ctx.log.info(
                "iteration %d: inertia %.6g, centroid shift %.6g, DBI %.6g%s",
                iters,
                figures["inertia"],
                shift,
                figures["dbi"],
                ", converged" if converged else "",
            )
            ctx.progress(iters, param.max_iter, f"inertia {figures['inertia']:.6g}")
            if converged:
                break
        assignment, nearest, figures = self.assign("final")
        self._log_dbi(iters, figures["dbi"])
        learned = km.model_json(
            param,
            header=None,
            centroids=None,
            counts=None,
            iters=iters,
            converged=converged,
            extra={"dbi": figures["dbi"], "inertia": figures["inertia"]},
        )
        return learned, *self.outputs(assignment, nearest, figures, "train")

    def apply(self, data_type: str) -> tuple[Dataset, Dataset, dict[str, Any]]:
        assignment, nearest, figures = self.assign("predict")
        summary, samples = self.outputs(assignment, nearest, figures, data_type)
        return summary, samples, figures

    def _log_dbi(self, iteration: int, dbi: float) -> None:
        if np.isfinite(dbi):
            self.ctx.tracker.log_metric(
                "train", "DBI", [[iteration, dbi]], metric_type="DBI", meta={"unit_name": "iters"}
            )

    def outputs(
        self, assignment: np.ndarray, nearest: np.ndarray, figures: dict[str, Any], data_type: str
    ) -> tuple[Dataset, Dataset]:
        """FATE's arbiter data: the clusters' summary (data_0) and each row's cluster (data_1)."""
        present = sorted(figures["inner"])
        gaps = np.asarray(figures["gaps"])
        summary = Dataset.instances(
            [str(c) for c in present],
            np.array(
                [
                    [
                        figures["counts"][c],
                        figures["inner"][c],
                        figures["max_radius"][c],
                        *gaps[c].tolist(),
                    ]
                    for c in present
                ]
            ).reshape(len(present), 3 + self.k),
            header=[
                "cluster_sample_count",
                "cluster_inner_dist",
                "cluster_max_radius",
                *(f"inter_cluster_dist_{j}" for j in range(self.k)),
            ],
            sid_name="cluster_index",
            extra={"clustering": "summary", "data_type": data_type, "k": self.k},
        )
        samples = Dataset.instances(
            self.ids,
            np.column_stack([assignment.astype(np.float64), nearest]),
            header=["predicted_cluster_index", "distance"],
            extra={"clustering": "samples", "data_type": data_type},
        )
        return summary, samples
