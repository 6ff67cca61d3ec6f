"""FederatedSample against plain numpy counts on the breast data (guest labels, host features).

Proportions as FATE defines them: downsample keeps max(1, int(rate·n)) distinct rows of each
stratum, upsample draws int(rate·n) rows (max(1, ...) per stratum) numbered 0..m-1, exact_by_weight
repeats each row ceil(weight) times; every host keeps the guest's ids, and a copy on the host is a
copy of the same source row as on the guest.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from accord.components.data.sample import FederatedSample
from accord.components.sdk import Dataset
from accord.computing.table import Engine
from accord.errors import ComponentFeatureUnsupported, ComponentParameterError
from tests.components.breast import breast_parties
from tests.components.feature.support import GUEST, HOST, conf, harness, plant

NAME = "sample_0"


def dsl() -> dict[str, Any]:
    return {
        "components": {
            "data_transform_0": {"module": "DataTransform", "output": {"data": ["data"]}},
            NAME: {
                "module": "FederatedSample",
                "input": {"data": {"data": ["data_transform_0.data"]}},
                "output": {"data": ["data"]},
            },
        }
    }


def run(tmp_path: Path, engine: Engine | None, params: dict[str, Any], guest: Dataset | None = None) -> Any:
    running = harness(tmp_path / "home", dsl(), conf(NAME, params), engine)
    g, host = breast_parties()
    guest = guest or g
    plant(running, "guest", "data_transform_0", guest)
    plant(running, "host", "data_transform_0", host)
    running.run_ok(NAME)
    return running, guest, host


def rows_by_id(data: Dataset) -> dict[str, tuple[float, ...]]:
    return {sid: tuple(row) for sid, row in zip(data.ids(), data.features(), strict=True)}


def source_of(data: Dataset, out: Dataset) -> list[str]:
    """The source id of each output row (breast rows are distinct)."""
    back = {row: sid for sid, row in rows_by_id(data).items()}
    return [back[tuple(row)] for row in out.features()]


def test_stratified_downsample_keeps_each_labels_share(tmp_path: Path, engine: Engine) -> None:
    fractions = [[0, 0.5], [1, 0.3]]
    running, guest, _host = run(
        tmp_path, engine, {"mode": "stratified", "fractions": fractions, "random_state": 7}
    )
    try:
        out_g = running.output("guest", GUEST, NAME)
        out_h = running.output("host", HOST, NAME)
        labels = guest.labels()
        assert labels is not None
        for label, rate in fractions:
            n = int(np.sum(labels == label))
            got = out_g.labels()
            assert got is not None
            assert int(np.sum(got == label)) == max(1, int(rate * n))
        ids = out_g.ids().tolist()
        assert len(set(ids)) == len(ids)
        assert sorted(ids) == sorted(out_h.ids().tolist())
        # Rows keep their ids and values, in input order.
        original = rows_by_id(guest)
        assert all(original[sid] == tuple(row) for sid, row in zip(ids, out_g.features(), strict=True))
        order = {sid: i for i, sid in enumerate(guest.ids())}
        assert ids == sorted(ids, key=order.__getitem__)
    finally:
        running.close()


def test_random_upsample_numbers_copies_and_hosts_copy_the_same_rows(tmp_path: Path, engine: Engine) -> None:
    running, guest, host = run(
        tmp_path, engine, {"mode": "random", "method": "upsample", "fractions": 1.5, "random_state": 3}
    )
    try:
        out_g = running.output("guest", GUEST, NAME)
        out_h = running.output("host", HOST, NAME)
        want = int(1.5 * len(guest))
        assert len(out_g) == len(out_h) == want
        assert sorted(out_g.ids().tolist(), key=int) == [str(i) for i in range(want)]
        by_new_g = dict(zip(out_g.ids().tolist(), source_of(guest, out_g), strict=True))
        by_new_h = dict(zip(out_h.ids().tolist(), source_of(host, out_h), strict=True))
        assert by_new_g == by_new_h
        # Draws with replacement, as sklearn's resample: a seeded RandomState's randint.
        picks = np.random.RandomState(3).randint(0, len(guest), size=want)
        expected = [str(guest.ids()[i]) for i in picks]
        assert sorted(by_new_g.values()) == sorted(expected)
    finally:
        running.close()


def test_exact_by_weight_repeats_rows_ceil_weight_times(tmp_path: Path) -> None:
    g, _ = breast_parties()
    weights = np.random.default_rng(5).choice([0.0, 0.4, 1.0, 2.5], size=len(g))
    guest = Dataset.instances(g.ids(), g.features(), header=g.header, labels=g.labels(), weights=weights)
    running, guest, host = run(tmp_path, None, {"mode": "exact_by_weight"}, guest=guest)
    try:
        out_g = running.output("guest", GUEST, NAME)
        out_h = running.output("host", HOST, NAME)
        assert len(out_g) == sum(math.ceil(w) for w in weights if w > 1e-8)
        assert len(set(out_g.ids().tolist())) == len(out_g)
        assert dict(zip(out_g.ids().tolist(), source_of(guest, out_g), strict=True)) == dict(
            zip(out_h.ids().tolist(), source_of(host, out_h), strict=True)
        )
    finally:
        running.close()


def test_homo_each_party_draws_its_own_share(tmp_path: Path) -> None:
    running, guest, host = run(tmp_path, None, {"fractions": 0.25, "task_type": "homo", "random_state": 1})
    try:
        assert len(running.output("guest", GUEST, NAME)) == max(1, int(0.25 * len(guest)))
        assert len(running.output("host", HOST, NAME)) == max(1, int(0.25 * len(host)))
    finally:
        running.close()


def test_parameters_as_fate_checks_them() -> None:
    component = FederatedSample()

    def check(params: dict[str, Any]) -> Any:
        return component.check_parameters(params, component="s", module="FederatedSample")

    assert check({"fractions": 0.9}).mode == "random"
    with pytest.raises(ComponentParameterError, match="fractions"):
        check({})
    with pytest.raises(ComponentParameterError, match="0 to 1"):
        check({"fractions": 1.5})
    with pytest.raises(ComponentParameterError, match="pairs"):
        check({"mode": "stratified", "fractions": 0.5})
    with pytest.raises(ComponentFeatureUnsupported, match="exact_by_weight"):
        check({"mode": "exact_by_weight", "task_type": "homo"})
    assert (
        check({"mode": "STRATIFIED", "method": "upsample", "fractions": [[0, 2.0], [1, 1.0]]}).mode
        == "stratified"
    )
