"""DH and ECDH intersection (and cardinality only) against a plain Python set intersection.

Results are checked against ``sorted(set(guest) & set(host) ...)`` (ascending id string, the
component's order), never against an earlier output. The ciphers are checked for what the protocol
rests on: encryption commutes (thousands of random ids), the MODP primes are the RFC's safe primes.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import gmpy2  # type: ignore[import-untyped, unused-ignore]
import pytest

from accord.components.intersection import output
from accord.components.intersection.commutative import MODP_OFFSETS, DhCipher, EcdhCipher, modp_prime
from accord.components.intersection.params import IntersectionParams, unsupported_options
from accord.errors import ComponentParameterError

from ..harness import ComponentHarness
from .test_intersection import (
    COMPONENT,
    GUEST,
    Harnesses,
    assert_rows_of,
    breast_guest,
    breast_host,
    conf,
    generated,
    has_output,
    reference_ids,
    run,
    spark_covered_by_a_sibling,
    summary,
)
from .test_intersection_blocks import _groups, _guest_and_host, _partitions
from .test_intersection_blocks import _run as run_in_row_groups

DH: dict[str, Any] = {"intersect_method": "dh", "dh_params": {"key_length": 1024, "salt": "12345"}}
ECDH: dict[str, Any] = {"intersect_method": "ecdh", "ecdh_params": {"salt": "12345"}}
METHODS = {"dh": DH, "ecdh": ECDH}


# ---- the ciphers ---------------------------------------------------------------------------------


def _random_ids(count: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    return [f"{rng.getrandbits(64):x}-{index}" for index in range(count)]


@pytest.mark.parametrize("hash_method", ["sha256", "sha512"])
def test_ecdh_encryption_commutes_on_thousands_of_random_ids(hash_method: str) -> None:
    first, second = EcdhCipher.generate(hash_method, "s"), EcdhCipher.generate(hash_method, "s")
    ids = _random_ids(3000, seed=1)
    via_first = second.again(b"".join(first.first(ids)), "values")
    via_second = first.again(b"".join(second.first(ids)), "values")
    assert via_first == via_second
    assert len(set(via_first)) == len(ids)  # distinct ids stay distinct


@pytest.mark.parametrize(("key_length", "count"), [(1024, 1500), (2048, 300)])
def test_dh_encryption_commutes_on_random_ids(key_length: int, count: int) -> None:
    first = DhCipher.generate(key_length, "sha256", "")
    second = DhCipher.generate(key_length, "sha256", "")
    ids = _random_ids(count, seed=key_length)
    via_first = second.again(b"".join(first.first(ids)), "values")
    via_second = first.again(b"".join(second.first(ids)), "values")
    assert via_first == via_second and len(set(via_first)) == len(ids)
    assert all(len(value) == key_length // 8 for value in via_first)


def test_different_keys_or_salts_do_not_meet() -> None:
    ids = _random_ids(200, seed=3)
    a, b = EcdhCipher.generate("sha256", ""), EcdhCipher.generate("sha256", "")
    salted = EcdhCipher(b.secret, "sha256", "other")
    assert not set(a.first(ids)) & set(b.first(ids))
    assert not set(b.again(b"".join(a.first(ids)), "v")) & set(a.again(b"".join(salted.first(ids)), "v"))


@pytest.mark.parametrize("bits", sorted(MODP_OFFSETS)[:5])
def test_modp_primes_are_the_rfc_safe_primes(bits: int) -> None:
    prime = modp_prime(bits)
    assert prime.bit_length() == bits
    assert gmpy2.is_prime(prime, 25) and gmpy2.is_prime((prime - 1) // 2, 25)
    # Every MODP prime starts with 64 one bits and pi's digits (C90FDAA2...) and ends with 64 one bits.
    text = f"{prime:X}"
    assert text.startswith("FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD1") and text.endswith("F" * 16)


# RFC 2409 section 6.2, the 1024-bit MODP group (Oakley group 2), as the RFC prints it.
RFC_2409_GROUP_2 = (
    "FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74020BBEA63B139B22514A08798E3404DD"
    "EF9519B3CD3A431B302B0A6DF25F14374FE1356D6D51C245E485B576625E7EC6F44C42E9A637ED6B0BFF5CB6F406B7ED"
    "EE386BFB5A899FA5AE9F24117C4B1FE649286651ECE65381FFFFFFFFFFFFFFFF"
)


def test_modp_1024_is_rfc_2409_group_2() -> None:
    assert modp_prime(1024) == int(RFC_2409_GROUP_2, 16)


# ---- the component, against the set intersection ------------------------------------------------


@pytest.mark.parametrize("method", sorted(METHODS))
def test_breast_matches_the_set_intersection(
    tmp_path: Path, harnesses: list[ComponentHarness], method: str
) -> None:
    if method == "dh":
        spark_covered_by_a_sibling(harnesses.engine, method, "ecdh")
    guest, host = breast_guest(), breast_host()
    harness = run(tmp_path, harnesses, conf(METHODS[method]), guest, [host])
    harness.run_ok(COMPONENT)
    expected = reference_ids(guest, host)
    assert len(expected) == 569
    assert_rows_of(harness.output("guest", GUEST, COMPONENT), guest, expected)
    assert_rows_of(harness.output("host", 10000, COMPONENT), host, expected)
    assert summary(harness, "guest", GUEST)["intersect_num"] == 569


@pytest.fixture
def small_partitions(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(output, "MIN_PARTITION_ROWS", 45)


@pytest.mark.usefixtures("small_partitions")
@pytest.mark.parametrize("method", sorted(METHODS))
def test_partition_contract_over_many_partitions(tmp_path: Path, harnesses: Harnesses, method: str) -> None:
    if method == "dh":
        spark_covered_by_a_sibling(harnesses.engine, method, "ecdh")
    guest, host = _guest_and_host()
    harness = run_in_row_groups(tmp_path, harnesses, harnesses.engine, conf(METHODS[method]), guest, [host])
    expected = reference_ids(guest, host)
    assert 0 < len(expected) < len(host)
    assert_rows_of(harness.output("guest", GUEST, COMPONENT), guest, expected)
    assert_rows_of(harness.output("host", 10000, COMPONENT), host, expected)
    cuts = [_partitions(harness, role, party) for role, party in (("guest", GUEST), ("host", 10000))]
    assert cuts[0] == cuts[1] and len(cuts[0]) > 1
    sizes = [len(part) for part in cuts[0]]
    assert max(sizes) - min(sizes) <= 1 and sum(sizes) == len(expected)
    limit = max(harnesses.engine.partitions, _groups(guest, host))
    assert len(sizes) == output.output_partitions(len(expected), limit)


PARTIAL = {
    "dh_sha1": {**DH, "dh_params": {"key_length": 1024, "hash_method": "sha1"}},
    "dh_none": {**DH, "dh_params": {"key_length": 1024, "hash_method": "none", "salt": "x"}},
    "ecdh_sha384": {**ECDH, "ecdh_params": {"hash_method": "sha384"}},
    "ecdh_keys": {**ECDH, "only_output_key": True},
}


@pytest.mark.parametrize("case", sorted(PARTIAL))
def test_partial_overlap_with_other_hashes(tmp_path: Path, local: Harnesses, case: str) -> None:
    guest = generated([str(i) for i in range(0, 300, 2)] + ["a", "b"], seed=1)
    host = generated([str(i) for i in range(0, 300, 3)] + ["b", "c"], seed=2)
    harness = run(tmp_path, local, conf(PARTIAL[case]), guest, [host])
    harness.run_ok(COMPONENT)
    expected = reference_ids(guest, host)
    for role, party_id, source in (("guest", GUEST, guest), ("host", 10000, host)):
        out = harness.output(role, party_id, COMPONENT)
        if PARTIAL[case].get("only_output_key"):
            assert list(out.ids()) == expected and not out.header
        else:
            assert_rows_of(out, source, expected)


@pytest.mark.parametrize("method", sorted(METHODS))
def test_two_hosts_every_party_gets_the_intersection_across_all(
    tmp_path: Path, local: Harnesses, method: str
) -> None:
    guest = generated([str(i) for i in range(0, 400)], seed=3)
    first = generated([str(i) for i in range(0, 400, 2)], seed=4)
    second = generated([str(i) for i in range(0, 400, 3)] + ["x"], seed=5)
    harness = run(tmp_path, local, conf(METHODS[method], hosts=(10000, 10001)), guest, [first, second])
    harness.run_ok(COMPONENT)
    expected = reference_ids(guest, first, second)
    assert_rows_of(harness.output("guest", GUEST, COMPONENT), guest, expected)
    assert_rows_of(harness.output("host", 10000, COMPONENT), first, expected)
    assert_rows_of(harness.output("host", 10001, COMPONENT), second, expected)


@pytest.mark.parametrize("method", sorted(METHODS))
def test_without_sync_only_the_guest_outputs(tmp_path: Path, local: Harnesses, method: str) -> None:
    guest = generated([str(i) for i in range(50)])
    host = generated([str(i) for i in range(25, 90)])
    harness = run(tmp_path, local, conf({**METHODS[method], "sync_intersect_ids": False}), guest, [host])
    harness.run_ok(COMPONENT)
    assert_rows_of(harness.output("guest", GUEST, COMPONENT), guest, reference_ids(guest, host))
    assert not has_output(harness, "host", 10000)
    assert summary(harness, "host", 10000)["intersect_num"] == -1


@pytest.mark.parametrize("method", sorted(METHODS))
def test_an_empty_intersection_is_an_empty_output(tmp_path: Path, local: Harnesses, method: str) -> None:
    harness = run(tmp_path, local, conf(METHODS[method]), generated(["a", "b"]), [generated(["c"])])
    harness.run_ok(COMPONENT)
    assert len(harness.output("guest", GUEST, COMPONENT)) == 0
    assert summary(harness, "host", 10000)["intersect_num"] == 0


# ---- cardinality only -----------------------------------------------------------------------------


@pytest.mark.parametrize("method", sorted(METHODS))
@pytest.mark.parametrize("hosts", [1, 2])
@pytest.mark.parametrize("sync", [False, True])
def test_cardinality_only_counts_without_output(
    tmp_path: Path, local: Harnesses, method: str, hosts: int, sync: bool
) -> None:
    params = {
        **METHODS[method],
        "intersect_method": "rsa",  # as in FATE's examples: cardinality_method picks the protocol
        "cardinality_only": True,
        "cardinality_method": method,
        "sync_cardinality": sync,
    }
    guest = generated([str(i) for i in range(0, 300)], seed=1)
    others = [generated([str(i) for i in range(k, 400, k + 1)], seed=k) for k in range(1, hosts + 1)]
    host_ids = tuple(10000 + k for k in range(hosts))
    harness = run(tmp_path, local, conf(params, hosts=host_ids), guest, others)
    harness.run_ok(COMPONENT)
    expected = len(reference_ids(guest, *others))
    assert 0 < expected < 300
    assert summary(harness, "guest", GUEST)["intersect_num"] == expected
    assert summary(harness, "guest", GUEST)["cardinality_only"] is True
    assert not has_output(harness, "guest", GUEST)
    for party_id in host_ids:
        assert not has_output(harness, "host", party_id)
        assert summary(harness, "host", party_id)["intersect_num"] == (expected if sync else -1)


def test_cardinality_on_breast_on_every_engine(tmp_path: Path, harnesses: Harnesses) -> None:
    params = {"cardinality_only": True, "cardinality_method": "ecdh", "sync_cardinality": True}
    harness = run(tmp_path, harnesses, conf(params), breast_guest(), [breast_host()])
    harness.run_ok(COMPONENT)
    for role, party_id in (("guest", GUEST), ("host", 10000)):
        assert summary(harness, role, party_id)["intersect_num"] == 569


# ---- refusals and agreement -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"intersect_method": "dh", "dh_params": {"key_length": 1280}}, "dh_params.key_length"),
    ],
)
def test_what_is_not_run_is_refused_by_name(params: dict[str, Any], field: str) -> None:
    assert field in {name for name, _ in unsupported_options(IntersectionParams.model_validate(params))}


def test_dh_and_ecdh_with_their_options_are_accepted() -> None:
    for params in (
        DH,
        ECDH,
        {"cardinality_only": True, "cardinality_method": "dh", "sync_cardinality": True},
    ):
        assert unsupported_options(IntersectionParams.model_validate(params)) == []


def test_parties_that_disagree_on_the_dh_salt_all_stop(tmp_path: Path, local: Harnesses) -> None:
    job = conf(DH)
    job["component_parameters"]["role"]["host"] = {"0": {COMPONENT: {"dh_params": {"salt": "other"}}}}
    harness = run(tmp_path, local, job, generated(["1"]), [generated(["1"])])
    errors = harness.run(COMPONENT)
    assert len(errors) == 2 and all(isinstance(error, ComponentParameterError) for error in errors.values())
    assert "dh_params.salt differs" in str(next(iter(errors.values())))
