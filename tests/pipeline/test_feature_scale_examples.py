"""FATE's feature_scale examples through a whole standalone site, then their model in a predict job.

Real Temporal, real gRPC, real SQLite, real RSA intersection. FATE's two examples chain FeatureScale
after Intersection and FederatedSample and go on to binning, selection, one-hot and HeteroLR; Accord
does not run those modules yet, so each example runs as its prefix up to FeatureScale (reader_0,
data_transform_0, intersection_0, feature_scale_0), FeatureScale reading the intersection's rows in
place of the sampler's. Every parameter of those four components is FATE's conf, unchanged.

The guest's and the host's scaled rows must equal scikit-learn's MinMaxScaler on the joined rows (the
guest's columns cut at FATE's feat_upper list in the normal example) to 1e-9; the deployed model, run
on fewer rows, must scale them with the training numbers (no refit).
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sklearn.preprocessing import MinMaxScaler

from accord.components.sdk import Dataset, layout
from accord.dsl_compiler import read_json_file
from accord.persistence import TableMetaRepository
from accord.status import JobStatus
from accord.storage import TableStore, UploadConf
from tests.corpus import DSL_V2, FATE_ROOT
from tests.scheduling.harness import RunningSite

pytestmark = pytest.mark.asyncio(loop_scope="session")

DATA = FATE_ROOT / "examples" / "data"
EXAMPLES = DSL_V2 / "feature_scale"
GUEST, HOST = 9999, 10000
RUN = ("reader_0", "data_transform_0", "intersection_0", "feature_scale_0")
CPN_LIST = ",".join(RUN)
PREDICT_ROWS = 300


def prefix(dsl: dict[str, Any], keep: tuple[str, ...]) -> dict[str, Any]:
    """``dsl`` with only ``keep``; an input from a dropped component is taken from that one's input."""
    components: dict[str, Any] = dsl["components"]

    def source(ref: str) -> str:
        name = ref.split(".")[0]
        while name not in keep:
            (ref,) = components[name]["input"]["data"]["data"]
            name = ref.split(".")[0]
        return ref

    kept = {}
    for name in keep:
        body = copy.deepcopy(components[name])
        for slots in body.get("input", {}).values():
            if isinstance(slots, dict):
                for slot, refs in slots.items():
                    slots[slot] = [source(ref) for ref in refs]
        kept[name] = body
    return {"components": kept}


def conf_for(conf: dict[str, Any], keep: tuple[str, ...]) -> dict[str, Any]:
    """``conf`` with the parameters of the components that are not run left out (the rest unchanged)."""
    trimmed = copy.deepcopy(conf)
    params = trimmed["component_parameters"]
    params["common"] = {name: body for name, body in params["common"].items() if name in keep}
    for sections in params["role"].values():
        for index, section in sections.items():
            sections[index] = {name: body for name, body in section.items() if name in keep}
    return trimmed


def upload(site: RunningSite, tmp_path: Path) -> None:
    """FATE's breast tables, and for the predict job the guest's first rows as breast_hetero_guest_head."""
    store = TableStore(site.settings.home / "tables", TableMetaRepository(site.site.database))
    head = tmp_path / "breast_hetero_guest_head.csv"
    head.write_text(
        "\n".join((DATA / "breast_hetero_guest.csv").read_text().splitlines()[: PREDICT_ROWS + 1])
    )
    files = {
        "breast_hetero_guest": DATA / "breast_hetero_guest.csv",
        "breast_hetero_host": DATA / "breast_hetero_host.csv",
        "breast_hetero_guest_head": head,
    }
    for name, path in files.items():
        store.upload(UploadConf(file=str(path), table_name=name, namespace="experiment", head=1, partition=4))


def output(site: RunningSite, job_id: str, role: str, party_id: int) -> Dataset:
    party = layout.party_dir(site.settings.home, job_id, role, party_id)
    return Dataset.load(layout.data_path(party, "feature_scale_0", "data"))


def by_id(data: Dataset) -> dict[str, np.ndarray]:
    return {str(sid): row for sid, row in zip(data.ids(), data.features(), strict=True)}


def source_rows(name: str, first: int, ids: list[str]) -> np.ndarray:
    """The feature columns (from index ``first``) of a FATE breast file, in the order of ``ids``."""
    table = np.loadtxt(DATA / name, delimiter=",", skiprows=1)
    position = {str(int(sid)): row for row, sid in enumerate(table[:, 0])}
    return np.asarray(table[[position[sid] for sid in ids], first:])


async def run_job(site: RunningSite, dsl: dict[str, Any], conf: dict[str, Any]) -> str:
    job_id = await site.submit(dsl, conf)
    result = await site.site.jobs.wait(job_id)
    assert result.status == JobStatus.SUCCESS, result
    return job_id


async def train_and_predict(site: RunningSite, tmp_path: Path, name: str) -> tuple[str, str]:
    upload(site, tmp_path)
    dsl = prefix(read_json_file(EXAMPLES / f"{name}_dsl.json", "dsl"), RUN)
    conf = conf_for(read_json_file(EXAMPLES / f"{name}_conf.json", "conf"), RUN)
    train_id = await run_job(site, dsl, conf)

    record = site.jobs.get(train_id, "guest", GUEST)
    assert record.model_id
    deployed = await site.site.deployment.deploy(record.model_id, train_id, CPN_LIST)
    assert deployed.components == RUN
    predict_conf = site.site.deployment.predict_conf(record.model_id, deployed.model_version)
    reader = predict_conf["component_parameters"]["role"]["guest"]["0"]["reader_0"]
    reader["table"]["name"] = "breast_hetero_guest_head"
    predict_id = await run_job(site, deployed.predict_dsl, predict_conf)
    return train_id, predict_id


def check_predicted(site: RunningSite, train_id: str, predict_id: str) -> None:
    """The predict job's rows are the training rows with the same ids: same numbers, not refitted."""
    for role, party_id in (("guest", GUEST), ("host", HOST)):
        trained = by_id(output(site, train_id, role, party_id))
        predicted = by_id(output(site, predict_id, role, party_id))
        assert len(predicted) == PREDICT_ROWS
        for sid, row in predicted.items():
            np.testing.assert_allclose(row, trained[sid], rtol=0, atol=1e-9)


async def test_feature_scale_normal(site: RunningSite, tmp_path: Path) -> None:
    train_id, predict_id = await train_and_predict(site, tmp_path, "test_feature_scale_normal")
    guest, host = output(site, train_id, "guest", GUEST), output(site, train_id, "host", HOST)
    assert len(guest) == len(host) == 569
    ids = [str(sid) for sid in guest.ids()]
    assert guest.labels() is not None and guest.label_name == "y" and host.labels() is None

    # The guest's columns: min and max pulled under FATE's feat_upper list, values cut to them.
    upper = np.array([1, 2, 1, 1, 0.5, 1, 2, 2, 1, 1])
    rows = source_rows("breast_hetero_guest.csv", 2, ids)
    low, high = np.minimum(rows.min(axis=0), upper), np.minimum(rows.max(axis=0), upper)
    np.testing.assert_allclose(guest.features(), (np.clip(rows, low, high) - low) / (high - low), atol=1e-9)
    host_rows = source_rows("breast_hetero_host.csv", 1, [str(sid) for sid in host.ids()])
    np.testing.assert_allclose(host.features(), MinMaxScaler().fit_transform(host_rows), atol=1e-9)
    check_predicted(site, train_id, predict_id)


async def test_feature_scale_cap(site: RunningSite, tmp_path: Path) -> None:
    train_id, predict_id = await train_and_predict(site, tmp_path, "test_feature_scale_cap")
    # Percentiles 0 and 1 of each column are its min and max: plain min-max scaling on both parties.
    for role, party_id, name, first in (
        ("guest", GUEST, "breast_hetero_guest.csv", 2),
        ("host", HOST, "breast_hetero_host.csv", 1),
    ):
        scaled = output(site, train_id, role, party_id)
        rows = source_rows(name, first, [str(sid) for sid in scaled.ids()])
        np.testing.assert_allclose(scaled.features(), MinMaxScaler().fit_transform(rows), atol=1e-9)
    check_predicted(site, train_id, predict_id)
