"""HomoOneHotEncoder against pandas.get_dummies over the union of the clients' values.

The guest and the host see different values of some columns; with need_alignment both encode with
the union (pandas: get_dummies with the union's categories), so their result headers agree.
Without it each encodes with its own values, as OneHotEncoder does.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from accord.components.sdk import Dataset
from accord.computing.table import Engine

from .homo_support import GUEST, HOST, conf, dsl, harness, homo_parties, plant

NAME = "homo_onehot_0"


def integers(data: Dataset, shift: int) -> Dataset:
    """Each feature as a small whole number; ``shift`` moves one party's values so the sets differ."""
    features = data.features()
    buckets = np.floor((features - features.min(axis=0)) / (np.ptp(features, axis=0) + 1e-12) * 4)
    buckets[:, :3] += shift
    return Dataset.instances(data.ids(), buckets, header=data.header, labels=data.labels(), label_name="y")


def reference(data: Dataset, categories: dict[str, list[int]]) -> pd.DataFrame:
    frame = pd.DataFrame(data.features(), columns=list(data.header))
    parts = []
    for col in frame.columns:
        if col not in categories:
            parts.append(frame[[col]])
            continue
        values = categories[col]
        dummies = pd.get_dummies(pd.Categorical(frame[col].astype(int), categories=values), dtype=float)
        dummies.columns = [f"{col}_{v}" for v in values]
        parts.append(dummies)
    return pd.concat(parts, axis=1)


def run(tmp_path: Path, engine: Engine | None, params: dict[str, Any]) -> Any:
    running = harness(
        tmp_path / "home", dsl("HomoOneHotEncoder", NAME, predict=True), conf(NAME, params), engine
    )
    guest, host = homo_parties()
    guest, host = integers(guest, 0), integers(host, 2)
    plant(running, "guest", "data_transform_0", guest)
    plant(running, "host", "data_transform_0", host)
    plant(running, "guest", "data_transform_1", host)
    plant(running, "host", "data_transform_1", guest)
    running.run_ok(NAME)
    return running, guest, host


@pytest.mark.parametrize("alignment", [True, False])
def test_encoding_equals_get_dummies_over_the_union(tmp_path: Path, engine: Engine, alignment: bool) -> None:
    chosen = [1, 2, 5, 6, 8]
    running, guest, host = run(
        tmp_path, engine, {"transform_col_indexes": chosen, "need_alignment": alignment}
    )
    try:
        names = [guest.header[i] for i in chosen]
        for role, party_id, data in (("guest", GUEST, guest), ("host", HOST, host)):
            both = pd.DataFrame(np.vstack([guest.features(), host.features()]), columns=list(guest.header))
            own = pd.DataFrame(data.features(), columns=list(data.header))
            source = both if alignment else own
            categories = {n: sorted(int(v) for v in source[n].unique()) for n in names}
            want = reference(data, categories)
            out = running.output(role, party_id, NAME)
            assert list(out.header) == list(want.columns)
            np.testing.assert_array_equal(out.features(), want.to_numpy())
            np.testing.assert_array_equal(out.ids(), data.ids())
        if alignment:
            assert running.output("guest", GUEST, NAME).header == running.output("host", HOST, NAME).header
            # The guest's model applied to the host's rows gives the host's own aligned encoding.
            running.run_ok("homo_onehot_1")
            applied = running.output("guest", GUEST, "homo_onehot_1")
            np.testing.assert_array_equal(applied.features(), running.output("host", HOST, NAME).features())
    finally:
        running.close()
