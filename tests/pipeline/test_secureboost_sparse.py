"""HeteroSecureBoost with ``sparse_optimization`` on a whole standalone site (real Temporal, gRPC,
Paillier): one job trains the same booster on a host table with 85 % zeros with the option off and
on; the guest's scores agree to 1e-9 and the trees are the same.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from accord.model_store import ModelKey
from accord.status import JobStatus
from accord.storage import UploadConf
from tests.pipeline.test_hetero_lr_examples import guest_output
from tests.scheduling.harness import RunningSite

pytestmark = pytest.mark.asyncio(loop_scope="session")

GUEST, HOST = 9999, 10000
DENSE, SPARSE = "hetero_secure_boost_0", "hetero_secure_boost_1"


def write_tables(folder: Path) -> dict[str, Path]:
    """A guest (3 features, a label driven mostly by the host) and a host with 85 % zeros."""
    rng = np.random.default_rng(8)
    rows, host_features = 300, 30
    host = rng.normal(size=(rows, host_features))
    host[rng.random(host.shape) < 0.85] = 0.0
    guest = rng.normal(size=(rows, 3))
    label = (host[:, :6].sum(axis=1) + 0.3 * guest[:, 0] > 0).astype(int)
    folder.mkdir(parents=True, exist_ok=True)
    ids = np.arange(rows)
    paths = {"guest": folder / "sparse_guest.csv", "host": folder / "sparse_host.csv"}
    np.savetxt(
        paths["guest"],
        np.column_stack([ids, label, guest]),
        delimiter=",",
        header="id,y,g0,g1,g2",
        comments="",
        fmt=["%d", "%d"] + ["%.17g"] * 3,
    )
    np.savetxt(
        paths["host"],
        np.column_stack([ids, host]),
        delimiter=",",
        header="id," + ",".join(f"h{i}" for i in range(host_features)),
        comments="",
        fmt=["%d"] + ["%.17g"] * host_features,
    )
    return paths


def job(paths: dict[str, Path]) -> tuple[dict[str, Any], dict[str, Any]]:
    def booster(module_input: str) -> dict[str, Any]:
        return {
            "module": "HeteroSecureBoost",
            "input": {"data": {"train_data": [module_input]}},
            "output": {"data": ["data"], "model": ["model"]},
        }

    dsl = {
        "components": {
            "reader_0": {"module": "Reader", "output": {"data": ["data"]}},
            "data_transform_0": {
                "module": "DataTransform",
                "input": {"data": {"data": ["reader_0.data"]}},
                "output": {"data": ["data"], "model": ["model"]},
            },
            "intersection_0": {
                "module": "Intersection",
                "input": {"data": {"data": ["data_transform_0.data"]}},
                "output": {"data": ["data"]},
            },
            DENSE: booster("intersection_0.data"),
            SPARSE: booster("intersection_0.data"),
        }
    }
    params = {
        "task_type": "classification",
        "objective_param": {"objective": "cross_entropy"},
        "num_trees": 3,
        "encrypt_param": {"method": "Paillier", "key_length": 1024},
        "tree_param": {"max_depth": 3},
    }
    conf = {
        "dsl_version": 2,
        "initiator": {"role": "guest", "party_id": GUEST},
        "role": {"guest": [GUEST], "host": [HOST]},
        "component_parameters": {
            "common": {DENSE: params, SPARSE: {**params, "sparse_optimization": True}},
            "role": {
                "guest": {
                    "0": {
                        "reader_0": {"table": {"name": paths["guest"].stem, "namespace": "experiment"}},
                        "data_transform_0": {"with_label": True, "output_format": "dense"},
                    }
                },
                "host": {
                    "0": {
                        "reader_0": {"table": {"name": paths["host"].stem, "namespace": "experiment"}},
                        "data_transform_0": {"with_label": False},
                    }
                },
            },
        },
    }
    return dsl, conf


async def test_sparse_optimization_scores_as_the_dense_histograms(site: RunningSite, tmp_path: Path) -> None:
    paths = write_tables(tmp_path / "input")
    for path in paths.values():
        site.site.tables.upload(
            UploadConf(file=str(path), table_name=path.stem, namespace="experiment", head=1, partition=2)
        )
    dsl, conf = job(paths)
    job_id = await site.submit(dsl, conf)
    result = await site.site.jobs.wait(job_id)
    assert result.status == JobStatus.SUCCESS, result
    dense, sparse = guest_output(site, job_id, DENSE), guest_output(site, job_id, SPARSE)
    assert len(dense) == 300
    np.testing.assert_allclose(
        sparse.column("predict_score"), dense.column("predict_score"), rtol=0, atol=1e-9
    )
    model_id = site.jobs.get(job_id, "guest", GUEST).model_id
    assert model_id is not None
    models = {
        (role, party, component): site.site.models.store.load(
            ModelKey(model_id, job_id, role, party, component)
        )
        for role, party in (("guest", GUEST), ("host", HOST))
        for component in (DENSE, SPARSE)
    }
    for role, party in (("guest", GUEST), ("host", HOST)):
        assert (
            models[(role, party, SPARSE)]["param"]["trees"] == models[(role, party, DENSE)]["param"]["trees"]
        )
    guest_trees = models[("guest", GUEST, SPARSE)]["param"]["trees"]
    assert any(node["party"].startswith("host") for tree in guest_trees for node in tree["nodes"])
