"""HeteroKmeans against scikit-learn's KMeans on the joined breast data (guest's 10 features beside the
host's 20), from the same initial centroids: inertia within 1 % and the same clusters; predict from the
saved model equals the nearest joined centroid; the arbiter's messages are masked; Evaluation's
clustering metrics equal scikit-learn's (external ones on the guest, Davies-Bouldin on the arbiter)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow.parquet as pq
import pytest
from sklearn.cluster import KMeans
from sklearn.metrics import adjusted_rand_score, davies_bouldin_score, fowlkes_mallows_score, jaccard_score

from accord.components.kmeans import HeteroKmeans
from accord.components.sdk import Dataset, layout
from accord.components.sdk.dataset import with_meta
from accord.computing.table import Engine
from accord.errors import ComponentParameterError
from accord.federation import codec
from accord.federation.mailbox import TransferKey
from accord.identity import Party

from ..breast import breast_parties
from ..harness import JOB_ID, ComponentHarness

GUEST, HOST, ARBITER = 9999, 10000, 10001
INERTIA_TOLERANCE = 0.01


def dsl() -> dict[str, Any]:
    return {
        "components": {
            "intersection_0": {"module": "Intersection", "output": {"data": ["data"]}},
            "intersection_1": {"module": "Intersection", "output": {"data": ["data"]}},
            "hetero_kmeans_0": {
                "module": "HeteroKmeans",
                "input": {"data": {"train_data": ["intersection_0.data"]}},
                "output": {"data": ["data_0", "data_1"], "model": ["model"]},
            },
            "hetero_kmeans_1": {
                "module": "HeteroKmeans",
                "input": {"data": {"test_data": ["intersection_1.data"]}, "model": ["hetero_kmeans_0.model"]},
                "output": {"data": ["data_0", "data_1"], "model": ["model"]},
            },
            "evaluation_0": {
                "module": "Evaluation",
                "input": {"data": {"data": ["hetero_kmeans_0.data_0"]}},
                "output": {"data": ["data"]},
            },
        }
    }


def conf(**params: Any) -> dict[str, Any]:
    return {
        "dsl_version": 2,
        "initiator": {"role": "guest", "party_id": GUEST},
        "role": {"guest": [GUEST], "host": [HOST], "arbiter": [ARBITER]},
        "component_parameters": {
            "common": {
                "hetero_kmeans_0": params,
                "evaluation_0": {"eval_type": "clustering", "run_clustering_arbiter_metric": True},
            }
        },
    }


def plant(harness: ComponentHarness, component: str, guest: Dataset, host: Dataset) -> None:
    """Row groups of 97 rows, so the engines read several partitions; the host's rows reversed, so
    the parties' row orders differ as they may upstream."""
    host = host.take(np.arange(len(host))[::-1])
    for role, party, data in (("guest", GUEST, guest), ("host", HOST, host)):
        path = layout.data_path(harness.party_dir(role, party), component, "data")
        path.parent.mkdir(parents=True, exist_ok=True)
        table = data.table.replace_schema_metadata(with_meta(data.table.schema, data.meta()))
        pq.write_table(table, path, row_group_size=97)


def summary(harness: ComponentHarness, role: str, party: int, component: str) -> dict[str, Any]:
    path = layout.output_dir(harness.party_dir(role, party), component) / "summary.json"
    found: dict[str, Any] = json.loads(path.read_text())
    return found


@pytest.mark.parametrize("k", [3, 5])
def test_equals_scikit_learn_kmeans_and_predicts(tmp_path: Path, engine: Engine, k: int) -> None:
    guest, host = breast_parties()
    joined = np.hstack([guest.features(), host.features()])
    train_rows, test_rows = np.arange(450), np.arange(450, len(guest))
    harness = ComponentHarness(
        tmp_path / "home", dsl(), conf(k=k, max_iter=50, tol=1e-10, random_stat=7), engine=engine
    )
    try:
        plant(harness, "intersection_0", guest.take(train_rows), host.take(train_rows))
        plant(harness, "intersection_1", guest.take(test_rows), host.take(test_rows))
        harness.run_ok("hetero_kmeans_0")

        start = joined[train_rows][np.random.RandomState(7).choice(len(train_rows), k, replace=False)]
        reference = KMeans(n_clusters=k, init=start, n_init=1, max_iter=50, tol=0, algorithm="lloyd")
        reference.fit(joined[train_rows])
        arbiter = harness.model("arbiter", ARBITER, "hetero_kmeans_0")["param"]
        assert abs(arbiter["inertia"] - reference.inertia_) <= INERTIA_TOLERANCE * reference.inertia_
        clusters = harness.output("guest", GUEST, "hetero_kmeans_0", "data_0")
        assert clusters.ids().tolist() == guest.take(train_rows).ids().tolist()
        assert adjusted_rand_score(reference.labels_, clusters.column("predict_result")) > 0.99
        np.testing.assert_array_equal(clusters.labels(), guest.take(train_rows).labels())

        # Each client's model holds its own part of the centroids only.
        parts = [
            harness.model(r, p, "hetero_kmeans_0")["param"] for r, p in (("guest", GUEST), ("host", HOST))
        ]
        assert parts[0]["header"] == list(guest.header) and parts[1]["header"] == list(host.header)
        centroids = np.hstack([np.asarray(part["centroid_detail"]) for part in parts])
        np.testing.assert_allclose(centroids, reference.cluster_centers_, rtol=0, atol=1e-6)

        harness.run_ok("hetero_kmeans_1")
        predicted = harness.output("guest", GUEST, "hetero_kmeans_1", "data_0")
        expected = np.argmin(((joined[test_rows][:, None, :] - centroids[None]) ** 2).sum(axis=2), axis=1)
        np.testing.assert_array_equal(predicted.column("predict_result"), expected)
        assert set(predicted.column("type")) == {"test"}
        samples = harness.output("arbiter", ARBITER, "hetero_kmeans_1", "data_1")
        assert samples.ids().tolist() == predicted.ids().tolist()
        np.testing.assert_array_equal(samples.features()[:, 0], expected)
    finally:
        harness.close()


def test_clustering_evaluation_equals_scikit_learn(tmp_path: Path, engine: Engine) -> None:
    guest, host = breast_parties()
    joined = np.hstack([guest.features(), host.features()])
    harness = ComponentHarness(
        tmp_path / "home", dsl(), conf(k=2, max_iter=100, tol=0, random_stat=1), engine=engine
    )
    try:
        plant(harness, "intersection_0", guest, host)
        harness.run_ok("hetero_kmeans_0")
        harness.run_ok("evaluation_0")
        clusters = harness.output("guest", GUEST, "hetero_kmeans_0", "data_0").column("predict_result")
        labels = guest.labels()
        outer = summary(harness, "guest", GUEST, "evaluation_0")["hetero_kmeans_0"]["train"]
        assert outer["adjusted_rand_score"] == pytest.approx(adjusted_rand_score(labels, clusters), abs=1e-6)
        assert outer["fowlkes_mallows_score"] == pytest.approx(
            fowlkes_mallows_score(labels, clusters), abs=1e-6
        )
        assert outer["jaccard_similarity_score"] == pytest.approx(jaccard_score(labels, clusters), abs=1e-6)
        inner = summary(harness, "arbiter", ARBITER, "evaluation_0")["hetero_kmeans_0"]["train"]
        # Converged: the centroids are the clusters' means, where FATE's DBI is scikit-learn's.
        assert inner["davies_bouldin_index"] == pytest.approx(
            davies_bouldin_score(joined, clusters), abs=1e-5
        )
    finally:
        harness.close()


def test_arbiter_receives_masked_distances(tmp_path: Path) -> None:
    guest, host = breast_parties(limit=60)
    harness = ComponentHarness(tmp_path / "home", dsl(), conf(k=2, max_iter=1, random_stat=3))
    try:
        plant(harness, "intersection_0", guest, host)
        harness.run_ok("hetero_kmeans_0")
        key = TransferKey(
            JOB_ID,
            "hetero_kmeans_0",
            0,
            "secagg.masked.iter.0",
            Party(role="guest", party_id=GUEST),
            Party(role="arbiter", party_id=ARBITER),
        )
        masked = [np.asarray(codec.decode(harness.mailbox.path(key).read_bytes()))]
        start = guest.features()[np.random.RandomState(3).choice(60, 2, replace=False)]
        plain = ((guest.features()[:, None, :] - start[None]) ** 2).sum(axis=2).ravel()
        words = np.round(plain * 2.0**24).astype(np.int64).view(np.uint64)
        assert not np.array_equal(masked[0][: words.size], words)
    finally:
        harness.close()


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"k": 1}, "k"),
        ({"max_iter": 0}, "max_iter"),
        ({"tol": -1}, "tol"),
        ({"random_stat": -2}, "random_stat"),
    ],
)
def test_bad_parameters_are_refused_by_name(params: dict[str, Any], field: str) -> None:
    with pytest.raises(ComponentParameterError, match=field):
        HeteroKmeans().check_parameters(params, component="hetero_kmeans_0", module="HeteroKmeans")
