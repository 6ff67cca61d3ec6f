"""HeteroKmeans: FATE's k-means over vertically split features (guest, hosts, arbiter).

Outputs as FATE's: on the guest and hosts ``data_0`` holds each row's label (the guest's) and cluster,
as prediction rows whose ``predict_result`` is the cluster index (what Evaluation's clustering
metrics read); on the arbiter ``data_0`` is the per-cluster summary and ``data_1`` each row's cluster
and squared distance. Each client's model holds its part of the centroids; the arbiter's model holds
the run's figures only.
"""

from __future__ import annotations

import numpy as np

from accord.components.kmeans import client
from accord.components.kmeans.arbiter import Arbiter
from accord.components.kmeans.params import KmeansParam
from accord.components.sdk import ComponentBase, ComponentContext, Dataset
from accord.errors import ComponentFeatureUnsupported

Context = ComponentContext[KmeansParam]
SUMMARY, SAMPLES = "data_0", "data_1"


def _nothing() -> Dataset:
    """An empty output where FATE has none (a client's data_1)."""
    return Dataset.predictions(
        [],
        labels=np.zeros(0),
        predict_result=np.zeros(0),
        predict_score=np.zeros(0),
        predict_detail=[],
        data_type="train",
    )


class HeteroKmeans(ComponentBase[KmeansParam]):
    params = KmeansParam

    def fit(self, ctx: Context) -> None:
        if any(ref.slot == "validate_data" for ref in ctx.spec.inputs):
            raise ComponentFeatureUnsupported(
                f"{ctx.component}: HeteroKmeans with validate_data is not supported",
                hint="cluster the validation rows with a second HeteroKmeans given this one's model",
            )
        if ctx.role == "arbiter":
            arbiter = Arbiter(ctx)
            learned, summary, samples = arbiter.train()
            ctx.save_data(summary, SUMMARY)
            ctx.save_data(samples, SAMPLES)
            ctx.save_model(learned)
            ctx.tracker.set_summary(
                {key: learned["param"][key] for key in ("max_interation", "converged", "dbi", "inertia")}
            )
            return
        rows, assignment, learned = client.train(ctx)
        ctx.save_data(client.clusters(rows, assignment, "train"), SUMMARY)
        ctx.save_data(_nothing(), SAMPLES)
        ctx.save_model(learned)
        ctx.tracker.set_summary(
            {
                "iters": learned["param"]["max_interation"],
                "is_converged": learned["param"]["converged"],
                "cluster_detail": learned["param"]["cluster_detail"],
            }
        )

    def predict(self, ctx: Context) -> None:
        trained = ctx.trained_model("clusters")
        slot = "test_data" if "test_data" in {ref.slot for ref in ctx.spec.inputs} else "data"
        data_type = "test" if slot == "test_data" else "predict"
        if ctx.role == "arbiter":
            summary, samples, _ = Arbiter(ctx).apply(data_type)
            ctx.save_data(summary, SUMMARY)
            ctx.save_data(samples, SAMPLES)
        else:
            rows, assignment = client.apply(ctx, trained, slot)
            ctx.save_data(client.clusters(rows, assignment, data_type), SUMMARY)
            ctx.save_data(_nothing(), SAMPLES)
        ctx.save_applied_model(trained)
