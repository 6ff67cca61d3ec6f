"""HeteroPearson against numpy.corrcoef on the joined breast data (guest 10 columns, host 20).

The local and the cross correlations equal numpy.corrcoef of the joined columns to 1e-6, the local VIF
equals the diagonal of the inverse correlation matrix; over many partitions on the local engine and on
Spark. Rows pass unchanged; parameters FATE refuses are refused.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from accord.components.feature.pearson import HeteroPearson
from accord.components.sdk import Dataset
from accord.computing.table import Engine
from accord.errors import ComponentParameterError
from tests.components.breast import breast_parties

from .support import GUEST, HOST, conf, dsl, harness, plant

NAME = "hetero_pearson_0"


def _matrix(rows: list[list[float | None]]) -> np.ndarray:
    return np.array([[np.nan if v is None else v for v in row] for row in rows], dtype=float)


def run(
    tmp_path: Path,
    engine: Engine | None,
    params: dict[str, Any],
    guest_params: dict[str, Any] | None = None,
    data: tuple[Dataset, Dataset] | None = None,
) -> Any:
    running = harness(tmp_path / "home", dsl("HeteroPearson", NAME), conf(NAME, params, guest_params), engine)
    guest, host = data or breast_parties()
    plant(running, "guest", "data_transform_0", guest)
    plant(running, "host", "data_transform_0", host)
    running.run_ok(NAME)
    return running, guest, host


def test_cross_and_local_correlations_equal_numpy(tmp_path: Path, engine: Engine) -> None:
    running, guest, host = run(tmp_path, engine, {"column_indexes": -1})
    try:
        g, h = guest.features(), host.features()
        joined = np.corrcoef(np.hstack([g, h]), rowvar=False)
        ng = g.shape[1]
        want_guest, want_host, want_cross = joined[:ng, :ng], joined[ng:, ng:], joined[:ng, ng:]
        gm, hm = running.model("guest", GUEST, NAME), running.model("host", HOST, NAME)
        np.testing.assert_allclose(_matrix(gm["local_corr"]), want_guest, atol=1e-6)
        np.testing.assert_allclose(_matrix(hm["local_corr"]), want_host, atol=1e-6)
        np.testing.assert_allclose(_matrix(gm["cross_corr"]), want_cross, atol=1e-6)
        np.testing.assert_allclose(_matrix(hm["cross_corr"]), want_cross.T, atol=1e-6)
        # Peers are known only by anonymous names.
        assert gm["peer_names"] == [f"host_{HOST}_{i}" for i in range(h.shape[1])]
        assert hm["peer_names"] == [f"guest_{GUEST}_{i}" for i in range(ng)]
        assert gm["names"] == list(guest.header) and hm["names"] == list(host.header)
        assert gm["parties"] == [f"(guest,{GUEST})", f"(host,{HOST})"] == hm["parties"]
        # VIF: the diagonal of the inverse correlation matrix (plain numpy).
        for model, values in ((gm, g), (hm, h)):
            want_vif = np.diag(np.linalg.inv(np.corrcoef(values, rowvar=False)))
            np.testing.assert_allclose(model["local_vif"], want_vif, rtol=1e-6)
        for role, party_id, data in (("guest", GUEST, guest), ("host", HOST, host)):
            out = running.output(role, party_id, NAME)
            assert out.ids().tolist() == data.ids().tolist()
            np.testing.assert_array_equal(out.features(), data.features())
    finally:
        running.close()


def test_chosen_columns_a_constant_column_and_mix_rand(tmp_path: Path) -> None:
    guest, host = breast_parties(limit=120)
    values = host.features().copy()
    values[:, 2] = 7.0  # sigma 0: its correlations are NaN (null), as FATE's
    host = Dataset.instances(host.ids(), values, header=host.header)
    params = {
        "column_indexes": [0, 2, 5],
        "column_names": ["x1"],
        "use_mix_rand": True,
        "calc_local_vif": False,
    }
    running, guest, host = run(tmp_path, None, params, data=(guest, host))
    try:
        gm, hm = running.model("guest", GUEST, NAME), running.model("host", HOST, NAME)
        assert gm["names"] == ["x0", "x1", "x2", "x5"] and hm["names"] == ["x0", "x1", "x2", "x5"]
        assert "local_vif" not in gm
        g, h = guest.features()[:, [0, 1, 2, 5]], host.features()[:, [0, 1, 2, 5]]
        cross = _matrix(gm["cross_corr"])
        assert np.isnan(cross[:, 2]).all() and np.isnan(_matrix(hm["local_corr"])[2]).all()
        keep = [0, 1, 3]
        joined = np.corrcoef(np.hstack([g, h[:, keep]]), rowvar=False)
        np.testing.assert_allclose(cross[:, keep], joined[:4, 4:], atol=1e-6)
        np.testing.assert_allclose(_matrix(hm["cross_corr"])[keep], joined[:4, 4:].T, atol=1e-6)
    finally:
        running.close()


def test_sole_and_host_only(tmp_path: Path) -> None:
    guest, host = breast_parties(limit=100)
    running, _, _ = run(
        tmp_path,
        None,
        {"column_indexes": -1, "cross_parties": False},
        {"need_run": False},
        data=(guest, host),
    )
    try:
        gm, hm = running.model("guest", GUEST, NAME), running.model("host", HOST, NAME)
        assert gm["need_run"] is False and "local_corr" not in gm
        assert "cross_corr" not in hm
        np.testing.assert_allclose(
            _matrix(hm["local_corr"]), np.corrcoef(host.features(), rowvar=False), atol=1e-6
        )
    finally:
        running.close()


@pytest.mark.parametrize(
    "params",
    [
        {"column_indexes": 3},
        {"column_indexes": -1, "column_names": ["x0"]},
        {},
        {"need_run": False},
        {"column_indexes": -1, "use_mix_rand": 1},
        {"column_indexes": -1, "fixpoint_bit_length": 100},
        {"column_indexes": -1, "calc_local_vaf": True},
    ],
)
def test_bad_parameters_are_refused(params: dict[str, Any]) -> None:
    with pytest.raises(ComponentParameterError):
        HeteroPearson().check_parameters(params, component=NAME, module="HeteroPearson")
