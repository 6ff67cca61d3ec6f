"""Running one per-party module on the breast data in the harness, inputs planted over many partitions."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow.parquet as pq

from accord.components.sdk import Dataset, layout
from accord.components.sdk.dataset import with_meta
from accord.computing.table import Engine
from tests.components.breast import breast_parties
from tests.components.harness import ComponentHarness

GUEST, HOST = 9999, 10000
ROW_GROUP = 41


def dsl(module: str, name: str, *, source: str = "data_transform_0", predict: bool = False) -> dict[str, Any]:
    """``source`` -> ``name`` (module); with ``predict``, a second one applying its model to source_1."""
    components: dict[str, Any] = {
        source: {"module": "DataTransform", "output": {"data": ["data"]}},
        name: {
            "module": module,
            "input": {"data": {"data": [f"{source}.data"]}},
            "output": {"data": ["data"], "model": ["model"]},
        },
    }
    if predict:
        other, applied = source[:-1] + "1", name[:-1] + "1"
        components[other] = copy.deepcopy(components[source])
        components[applied] = {
            "module": module,
            "input": {"data": {"data": [f"{other}.data"]}, "model": [f"{name}.model"]},
            "output": {"data": ["data"], "model": ["model"]},
        }
    return {"components": components}


def conf(name: str, common: dict[str, Any], guest: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "dsl_version": 2,
        "initiator": {"role": "guest", "party_id": GUEST},
        "role": {"guest": [GUEST], "host": [HOST]},
        "component_parameters": {
            "common": {name: common},
            "role": {"guest": {"0": {name: guest or {}}}},
        },
    }


def plant(harness: ComponentHarness, role: str, component: str, data: Dataset) -> None:
    """``data`` as ``component``'s output, in row groups of ROW_GROUP rows (one partition each)."""
    party_id = GUEST if role == "guest" else HOST
    path = layout.data_path(harness.party_dir(role, party_id), component, "data")
    path.parent.mkdir(parents=True, exist_ok=True)
    table = data.table.replace_schema_metadata(with_meta(data.table.schema, data.meta()))
    pq.write_table(table, path, row_group_size=ROW_GROUP)


def with_gaps(data: Dataset, share: float = 0.07, seed: int = 3) -> Dataset:
    """Some cells missing (NaN), as DataTransform leaves them without missing_fill."""
    features = data.features().copy()
    features[np.random.default_rng(seed).random(features.shape) < share] = np.nan
    return Dataset.instances(
        data.ids(), features, header=data.header, labels=data.labels(), label_name=data.label_name
    )


def parties(gaps: bool = True) -> tuple[Dataset, Dataset]:
    guest, host = breast_parties()
    return (with_gaps(guest), with_gaps(host, seed=4)) if gaps else (guest, host)


def harness(
    home: Path, job_dsl: dict[str, Any], job_conf: dict[str, Any], engine: Engine | None
) -> ComponentHarness:
    return ComponentHarness(home, job_dsl, job_conf, engine=engine)
