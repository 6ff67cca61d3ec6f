"""SecureInformationRetrieval against a plain dict lookup of the host's values on the breast data.

As in FATE's example the guest holds ids (breast_hetero_host's, plus ids the host does not have) and
the host breast_hetero_guest's rows. The guest gets exactly the host's values for its ids (NaN for the
others); nothing the host receives, outputs or stores names an id only the guest has, except in raw
retrieval (security_level 0), which sends the ids in the clear as FATE does.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import gmpy2  # type: ignore[import-untyped]
import numpy as np
import pyarrow.parquet as pq
import pytest

from accord.components.data.retrieval import SecureInformationRetrieval
from accord.components.data.retrieval.groups import OFFSETS, prime
from accord.components.data.retrieval.guest import block_count
from accord.components.sdk import Dataset, layout
from accord.components.sdk.dataset import with_meta
from accord.components.sdk.transfer import Transfer
from accord.computing.table import Engine
from accord.errors import ComponentFeatureUnsupported, ComponentParameterError, TransferError
from tests.components.breast import breast_parties
from tests.components.harness import ComponentHarness

NAME = "secure_information_retrieval_0"
GUEST, HOST = 9999, 9998
EXTRA = [f"only-guest-{i:03d}" for i in range(40)]


def dsl() -> dict[str, Any]:
    return {
        "components": {
            "data_transform_0": {"module": "DataTransform", "output": {"data": ["data"]}},
            NAME: {
                "module": "SecureInformationRetrieval",
                "input": {"data": {"data": ["data_transform_0.data"]}},
                "output": {"data": ["data"], "model": ["model"]},
            },
        }
    }


def conf(params: dict[str, Any]) -> dict[str, Any]:
    return {
        "dsl_version": 2,
        "initiator": {"role": "guest", "party_id": GUEST},
        "role": {"guest": [GUEST], "host": [HOST]},
        "component_parameters": {"common": {NAME: params}},
    }


def plant(running: ComponentHarness, role: str, party_id: int, data: Dataset) -> None:
    path = layout.data_path(running.party_dir(role, party_id), "data_transform_0", "data")
    path.parent.mkdir(parents=True, exist_ok=True)
    table = data.table.replace_schema_metadata(with_meta(data.table.schema, data.meta()))
    pq.write_table(table, path, row_group_size=41)


def parties() -> tuple[Dataset, Dataset]:
    """Guest: 300 of the host's ids (no label) and 40 ids of its own; host: breast guest rows, labelled."""
    labelled, features = breast_parties()
    ids = [*features.ids()[100:400].tolist(), *EXTRA]
    rng = np.random.default_rng(5)
    guest = Dataset.instances(ids, rng.random((len(ids), 3)), header=["a", "b", "c"])
    return guest, labelled


def run(
    tmp_path: Path, engine: Engine | None, params: dict[str, Any]
) -> tuple[ComponentHarness, Dataset, Dataset]:
    running = ComponentHarness(tmp_path / "home", dsl(), conf(params), engine=engine)
    guest, host = parties()
    plant(running, "guest", GUEST, guest)
    plant(running, "host", HOST, host)
    return running, guest, host


def lookup(host: Dataset, ids: list[str], columns: list[str] | None) -> np.ndarray:
    """The reference: a plain dict from the host's ids to its values."""
    labels = host.labels()
    assert labels is not None
    values = host.features()[:, [host.header.index(c) for c in columns]] if columns else labels
    table = {sid: np.atleast_1d(v) for sid, v in zip(host.ids().tolist(), values, strict=True)}
    width = len(columns) if columns else 1
    return np.array([table.get(sid, np.full(width, np.nan)) for sid in ids])


def host_saw(tmp_path: Path) -> bytes:
    """Every byte that crossed the federation in the run (both directions)."""
    return b"".join(
        path.read_bytes() for path in (tmp_path / "home" / "transfer").rglob("*") if path.is_file()
    )


def test_guest_gets_exactly_the_hosts_values(tmp_path: Path, engine: Engine) -> None:
    params = {"security_level": 0.5, "dh_params": {"key_length": 1024}, "target_cols": ["x0", "x3"]}
    running, guest, host = run(tmp_path, engine, params)
    try:
        running.run_ok(NAME)
        out = running.output("guest", GUEST, NAME)
        host_out = running.output("host", HOST, NAME)
        guest_model = running.model("guest", GUEST, NAME)
        host_model = running.model("host", HOST, NAME)
        crossed = host_saw(tmp_path)
    finally:
        running.close()
    ids = guest.ids().tolist()
    assert out.ids().tolist() == ids and out.header == ("x0", "x3")
    np.testing.assert_array_equal(out.features(), lookup(host, ids, ["x0", "x3"]))
    assert np.isnan(out.features()[-len(EXTRA) :]).all()
    # The host keeps its rows, and learns the block number and the coverage only.
    assert host_out.ids().tolist() == host.ids().tolist()
    assert host_model["SecureInformationRetrievalParam"] == {"coverage": 300 / len(host), "block_num": 45}
    assert guest_model["SecureInformationRetrievalParam"]["coverage"] == 300 / len(ids)
    stored = json.dumps(host_model) + " ".join(host_out.ids().tolist())
    assert not any(sid in stored for sid in EXTRA)
    assert not any(sid.encode() in crossed for sid in EXTRA)


def test_label_is_retrieved_without_target_cols(tmp_path: Path) -> None:
    running, guest, host = run(tmp_path, None, {"security_level": 0.2, "key_size": 1536})
    try:
        running.run_ok(NAME)
        out = running.output("guest", GUEST, NAME)
        model = running.model("guest", GUEST, NAME)
    finally:
        running.close()
    assert out.header == () and out.label_name == "retrieved_value"
    np.testing.assert_array_equal(out.labels(), lookup(host, guest.ids().tolist(), None)[:, 0])
    assert model["SecureInformationRetrievalMeta"]["key_size"] == 1536
    assert model["SecureInformationRetrievalParam"]["block_num"] == block_count(0.2) == 7


@pytest.mark.parametrize("params", [{"security_level": 0}, {"raw_retrieval": True, "security_level": 0.7}])
def test_raw_retrieval_sends_the_ids_as_fate_does(tmp_path: Path, params: dict[str, Any]) -> None:
    running, guest, host = run(tmp_path, None, {**params, "target_cols": "x7"})
    try:
        running.run_ok(NAME)
        out = running.output("guest", GUEST, NAME)
        host_model = running.model("host", HOST, NAME)
        crossed = host_saw(tmp_path)
    finally:
        running.close()
    np.testing.assert_array_equal(out.features(), lookup(host, guest.ids().tolist(), ["x7"]))
    assert host_model["SecureInformationRetrievalParam"]["block_num"] == "N/A"
    # The control for the privacy check above: here the guest's own ids do cross.
    assert EXTRA[0].encode() in crossed


def test_an_altered_block_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    original = Transfer.remote

    def remote(self: Transfer, value: Any, *, role: str, tag: str, index: Any = "all") -> None:
        if tag == "sir.sealed":
            value = [bytes(b[:-1]) + bytes([b[-1] ^ 1]) for b in value]
        original(self, value, role=role, tag=tag, index=index)

    monkeypatch.setattr(Transfer, "remote", remote)
    running, _, _ = run(tmp_path, None, {"security_level": 0.1, "target_cols": ["x1"]})
    # The host then waits for a coverage that never comes: let it give up soon, though not before the
    # guest (itself waiting for the host's encrypted ids on a loaded machine) finds the altered block.
    running.transfer_timeout_s = 20.0
    try:
        errors = running.run(NAME)
    finally:
        running.close()
    failed = next(error for party, error in errors.items() if party.role == "guest")
    assert isinstance(failed, TransferError) and failed.code == 10402


def test_the_groups_are_safe_primes() -> None:
    for bits in OFFSETS:
        p = prime(bits)
        assert p.bit_length() == bits and gmpy2.is_prime(p, 40) and gmpy2.is_prime((p - 1) // 2, 40)
    # RFC 3526 group 14 begins and ends as published.
    assert hex(prime(2048)).startswith("0xffffffffffffffffc90fdaa22168c234")
    assert hex(prime(2048)).endswith("15728e5a8aacaa68ffffffffffffffff")


def check(params: dict[str, Any]) -> Any:
    component = SecureInformationRetrieval()
    checked = component.check_parameters(params, component=NAME, module="SecureInformationRetrieval")
    component.check_supported(checked, NAME)
    return checked


@pytest.mark.parametrize(
    "params",
    [
        {"security_level": 1.5},
        {"oblivious_transfer_protocol": "OT_Naor"},
        {"commutative_encryption": "rsa"},
        {"non_committing_encryption": "des"},
        {"key_size": 512},
        {"target_cols": [3]},
        {"dh_params": {"key_length": 1024, "curve": "x"}},
    ],
)
def test_bad_parameters_are_refused(params: dict[str, Any]) -> None:
    with pytest.raises(ComponentParameterError):
        check(params)


def test_fate_spellings_are_accepted() -> None:
    checked = check(
        {
            "oblivious_transfer_protocol": "OT_Hauck",
            "commutative_encryption": "CommutativeEncryptionPohligHellman",
            "non_committing_encryption": "AES",
            "key_size": 2048,
            "target_cols": "x0",
        }
    )
    assert checked.key_length == 2048 and checked.target_cols == ["x0"]


def test_an_unsupported_key_length_is_refused_naming_it() -> None:
    with pytest.raises(ComponentFeatureUnsupported) as caught:
        check({"dh_params": {"key_length": 1280}})
    assert caught.value.code == 10127 and "dh_params.key_length" in caught.value.message
