"""The breast homo example (guest and host rows with the same 30 features) in the harness, with an arbiter."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pyarrow.parquet as pq

from accord.components.sdk import Dataset, layout
from accord.components.sdk.dataset import with_meta
from accord.computing.table import Engine
from tests.components.breast import DATA
from tests.components.harness import ComponentHarness

GUEST, HOST, ARBITER = 9999, 10000, 10001
ROW_GROUP = 37


def homo_party(name: str) -> Dataset:
    path = DATA / name
    header = path.read_text().splitlines()[0].split(",")
    table = np.loadtxt(path, delimiter=",", skiprows=1, dtype=str)
    return Dataset.instances(
        [str(s) for s in table[:, 0]],
        table[:, 2:].astype(float),
        header=header[2:],
        labels=table[:, 1].astype(float),
        label_name="y",
    )


def homo_parties() -> tuple[Dataset, Dataset]:
    return homo_party("breast_homo_guest.csv"), homo_party("breast_homo_host.csv")


def dsl(module: str, name: str, predict: bool = False) -> dict[str, Any]:
    components: dict[str, Any] = {
        "data_transform_0": {"module": "DataTransform", "output": {"data": ["data"]}},
        name: {
            "module": module,
            "input": {"data": {"data": ["data_transform_0.data"]}},
            "output": {"data": ["data"], "model": ["model"]},
        },
    }
    if predict:
        components["data_transform_1"] = {"module": "DataTransform", "output": {"data": ["data"]}}
        components[name[:-1] + "1"] = {
            "module": module,
            "input": {"data": {"data": ["data_transform_1.data"]}, "model": [f"{name}.model"]},
            "output": {"data": ["data"], "model": ["model"]},
        }
    return {"components": components}


def conf(name: str, common: dict[str, Any]) -> dict[str, Any]:
    return {
        "dsl_version": 2,
        "initiator": {"role": "guest", "party_id": GUEST},
        "role": {"guest": [GUEST], "host": [HOST], "arbiter": [ARBITER]},
        "component_parameters": {"common": {name: common}},
    }


def plant(harness: ComponentHarness, role: str, component: str, data: Dataset) -> None:
    party_id = GUEST if role == "guest" else HOST
    path = layout.data_path(harness.party_dir(role, party_id), component, "data")
    path.parent.mkdir(parents=True, exist_ok=True)
    table = data.table.replace_schema_metadata(with_meta(data.table.schema, data.meta()))
    pq.write_table(table, path, row_group_size=ROW_GROUP)


def harness(
    home: Path, job_dsl: dict[str, Any], job_conf: dict[str, Any], engine: Engine | None
) -> ComponentHarness:
    return ComponentHarness(home, job_dsl, job_conf, engine=engine)
