"""FeldmanVerifiableSum against a plain numpy sum of the parties' columns on the breast data.

FATE's fixed point truncates each value to q_n decimals, so a total equals the numpy sum of the
truncated values to 1e-9 and the plain numpy sum to parties * 10**-q_n. A share or a sum altered on
its way to the guest is refused with code 10402.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pyarrow.parquet as pq
import pytest

from accord.components.data.feldman import FeldmanVerifiableSum
from accord.components.data.feldman.component import SHARE_TAG, SUM_TAG
from accord.components.sdk import Dataset, layout
from accord.components.sdk.dataset import with_meta
from accord.components.sdk.transfer import Transfer
from accord.computing.table import Engine
from accord.errors import ComponentParameterError, TransferError
from tests.components.breast import breast_parties
from tests.components.harness import ComponentHarness

NAME = "feldmanverifiablesum_0"
GUEST, HOSTS = 9999, [10000, 10001]


def dsl() -> dict[str, Any]:
    return {
        "components": {
            "data_transform_0": {"module": "DataTransform", "output": {"data": ["data"]}},
            NAME: {
                "module": "FeldmanVerifiableSum",
                "input": {"data": {"data": ["data_transform_0.data"]}},
                "output": {"data": ["data"]},
            },
        }
    }


def conf(params: dict[str, Any], hosts: list[int]) -> dict[str, Any]:
    return {
        "dsl_version": 2,
        "initiator": {"role": "guest", "party_id": GUEST},
        "role": {"guest": [GUEST], "host": hosts},
        "component_parameters": {"common": {NAME: params}},
    }


def plant(running: ComponentHarness, role: str, party_id: int, data: Dataset) -> None:
    """``data`` as DataTransform's output, 41 rows a partition."""
    path = layout.data_path(running.party_dir(role, party_id), "data_transform_0", "data")
    path.parent.mkdir(parents=True, exist_ok=True)
    table = data.table.replace_schema_metadata(with_meta(data.table.schema, data.meta()))
    pq.write_table(table, path, row_group_size=41)


def three_parties() -> dict[tuple[str, int], Dataset]:
    guest, host = breast_parties()
    # A third party with negative values and only some of the ids.
    other = Dataset.instances(guest.ids()[:300], -1.5 * guest.features()[:300], header=guest.header)
    return {("guest", GUEST): guest, ("host", HOSTS[0]): host, ("host", HOSTS[1]): other}


def run(
    tmp_path: Path, engine: Engine | None, params: dict[str, Any], data: dict[tuple[str, int], Dataset]
) -> Any:
    hosts = [party for role, party in data if role == "host"]
    running = ComponentHarness(tmp_path / "home", dsl(), conf(params, hosts), engine=engine)
    for (role, party), rows in data.items():
        plant(running, role, party, rows)
    return running


def truncated(values: np.ndarray, q_n: int) -> np.ndarray:
    """FATE's encoding read back: each value truncated toward zero to q_n decimals."""
    scaled: np.ndarray = np.trunc(values * 10**q_n) / 10**q_n
    return scaled


def test_sums_equal_numpy_on_joined_breast(tmp_path: Path, engine: Engine) -> None:
    data = three_parties()
    running = run(tmp_path, engine, {"sum_cols": [5, 0, 2], "q_n": 6}, data)
    try:
        running.run_ok(NAME)
        out = running.output("guest", GUEST, NAME)
    finally:
        running.close()
    guest = data[("guest", GUEST)]
    assert out.header == tuple(guest.header[i] for i in (0, 2, 5))
    common = [sid for sid in guest.ids() if sid in set(data[("host", HOSTS[1])].ids())]
    assert out.ids().tolist() == common
    plain = np.zeros((len(common), 3))
    exact = np.zeros((len(common), 3))
    for rows in data.values():
        where = {sid: i for i, sid in enumerate(rows.ids())}
        picked = rows.features()[[where[sid] for sid in common]][:, [0, 2, 5]]
        plain += picked
        exact += truncated(picked, 6)
    np.testing.assert_allclose(out.features(), exact, rtol=0, atol=1e-9)
    np.testing.assert_allclose(out.features(), plain, rtol=0, atol=3e-6 + 1e-9)
    assert (out.features() < 0).any()


def test_every_column_by_default_with_one_host(tmp_path: Path) -> None:
    guest, host = breast_parties(limit=60)
    host10 = Dataset.instances(host.ids(), host.features()[:, :10], header=host.header[:10])
    running = run(tmp_path, None, {"q_n": 2}, {("guest", GUEST): guest, ("host", HOSTS[0]): host10})
    try:
        running.run_ok(NAME)
        out = running.output("guest", GUEST, NAME)
    finally:
        running.close()
    assert out.header == guest.header
    expected = truncated(guest.features(), 2) + truncated(host10.features(), 2)
    np.testing.assert_allclose(out.features(), expected, rtol=0, atol=1e-9)


def _tampering(monkeypatch: pytest.MonkeyPatch, tag: str, key: str) -> None:
    """A host's value under ``tag`` to the guest arrives with its first ``key`` entry changed."""
    original = Transfer.remote

    def remote(self: Transfer, value: Any, *, role: str, tag: str, index: Any = "all") -> None:
        if tag == wanted and self.party.role == "host" and role == "guest":
            value = dict(value)
            value[key] = [value[key][0] + 1, *value[key][1:]]
        original(self, value, role=role, tag=tag, index=index)

    wanted = tag
    monkeypatch.setattr(Transfer, "remote", remote)


@pytest.mark.parametrize(("tag", "key", "what"), [(SHARE_TAG, "shares", "shares"), (SUM_TAG, "sums", "sums")])
def test_tampered_values_are_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, tag: str, key: str, what: str
) -> None:
    _tampering(monkeypatch, tag, key)
    guest, host = breast_parties(limit=30)
    running = run(tmp_path, None, {"sum_cols": [1, 3]}, {("guest", GUEST): guest, ("host", HOSTS[0]): host})
    try:
        errors = running.run(NAME)
    finally:
        running.close()
    failed = next(error for party, error in errors.items() if party.role == "guest")
    assert isinstance(failed, TransferError) and failed.code == 10402
    assert f"{what} that do not match" in failed.message and "host 10000" in failed.message


@pytest.mark.parametrize(
    "params", [{"q_n": 17}, {"q_n": -1}, {"q_n": 2.5}, {"sum_cols": ["x0"]}, {"cols": [1]}]
)
def test_bad_parameters_are_refused(params: dict[str, Any]) -> None:
    with pytest.raises(ComponentParameterError):
        FeldmanVerifiableSum().check_parameters(params, component=NAME, module="FeldmanVerifiableSum")
