"""Running HeteroSecureBoost on planted, already-intersected data with the component harness."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow.parquet as pq

from accord.components.sdk import Dataset, layout
from accord.components.sdk.dataset import with_meta
from accord.computing.table import Engine

from ..breast import DATA
from ..harness import ComponentHarness

GUEST, HOST = 9999, 10000
COMPONENT = "hetero_secure_boost_0"


def dsl(module: str = "HeteroSecureBoost", validate: bool = False) -> dict[str, Any]:
    inputs: dict[str, list[str]] = {"train_data": ["intersection_0.data"]}
    if validate:
        inputs["validate_data"] = ["intersection_1.data"]
    components: dict[str, Any] = {
        "intersection_0": {"module": "Intersection", "output": {"data": ["data"]}},
        COMPONENT: {
            "module": module,
            "input": {"data": inputs},
            "output": {"data": ["data"], "model": ["model"]},
        },
    }
    if validate:
        components["intersection_1"] = {"module": "Intersection", "output": {"data": ["data"]}}
    return {"components": components}


def conf(hosts: list[int] | None = None, **params: Any) -> dict[str, Any]:
    merged: dict[str, Any] = {
        "task_type": "classification",
        "objective_param": {"objective": "cross_entropy"},
        "num_trees": 3,
        "encrypt_param": {"method": "Paillier", "key_length": 1024},
        "tree_param": {"max_depth": 3},
    }
    merged.update(copy.deepcopy(params))
    return {
        "dsl_version": 2,
        "initiator": {"role": "guest", "party_id": GUEST},
        "role": {"guest": [GUEST], "host": hosts or [HOST]},
        "component_parameters": {"common": {COMPONENT: merged}},
    }


def read_parties(name: str, hosts: int = 1) -> tuple[Dataset, list[Dataset]]:
    """FATE's ``<name>_hetero_guest.csv`` and host file(s), aligned by sorted id."""
    guest_path = DATA / f"{name}_hetero_guest.csv"
    host_paths = (
        [DATA / f"{name}_hetero_host.csv"]
        if hosts == 1
        else [DATA / f"{name}_hetero_host_{i + 1}.csv" for i in range(hosts)]
    )

    def load(path: Path) -> tuple[list[str], dict[str, np.ndarray]]:
        lines = path.read_text().splitlines()
        header = lines[0].split(",")
        rows = {line.split(",")[0]: np.array(line.split(",")[1:], dtype=float) for line in lines[1:] if line}
        return header, rows

    guest_header, guest_rows = load(guest_path)
    hosts_loaded = [load(path) for path in host_paths]
    common = sorted(set(guest_rows).intersection(*[set(rows) for _, rows in hosts_loaded]))
    guest_matrix = np.array([guest_rows[sid] for sid in common])
    guest = Dataset.instances(
        common, guest_matrix[:, 1:], header=guest_header[2:], labels=guest_matrix[:, 0], label_name="y"
    )
    host_data = [
        Dataset.instances(common, np.array([rows[sid] for sid in common]), header=header[1:])
        for header, rows in hosts_loaded
    ]
    return guest, host_data


def plant(harness: ComponentHarness, role: str, party_id: int, data: Dataset, component: str) -> None:
    path = layout.data_path(harness.party_dir(role, party_id), component, "data")
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(data.table.replace_schema_metadata(with_meta(data.table.schema, data.meta())), path)


def train(
    tmp_path: Path,
    job_conf: dict[str, Any],
    guest: Dataset,
    hosts: list[Dataset],
    engine: Engine,
    *,
    module: str = "HeteroSecureBoost",
    validate: tuple[Dataset, list[Dataset]] | None = None,
) -> ComponentHarness:
    harness = ComponentHarness(tmp_path, dsl(module, validate is not None), job_conf, engine=engine)
    plant(harness, "guest", GUEST, guest, "intersection_0")
    for host_id, host in zip(job_conf["role"]["host"], hosts, strict=True):
        plant(harness, "host", host_id, host, "intersection_0")
    if validate is not None:
        plant(harness, "guest", GUEST, validate[0], "intersection_1")
        for host_id, host in zip(job_conf["role"]["host"], validate[1], strict=True):
            plant(harness, "host", host_id, host, "intersection_1")
    harness.run_ok(COMPONENT)
    return harness


def joined(guest: Dataset, hosts: list[Dataset]) -> tuple[np.ndarray, np.ndarray]:
    labels = guest.labels()
    assert labels is not None
    return np.hstack([guest.features(), *[h.features() for h in hosts]]), labels
