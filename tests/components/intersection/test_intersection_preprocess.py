"""Bloom-filter preprocessing (``run_preprocess``) and RSA cardinality, against plain set intersections.

The Bloom filter is checked for what preprocessing rests on: no id it was given is ever missing, and
its false-positive rate on ids it was not given is near the rate it was sized for. The intersections
are checked against ``sorted(set(guest) & set(host) ...)``, never against an earlier output.
"""

from __future__ import annotations

import hashlib
import random
from pathlib import Path
from typing import Any

import pytest

from accord.components.intersection.bloom import BloomFilter, size_for
from accord.components.intersection.params import IntersectionParams, unsupported_options
from accord.errors import TransferError

from .test_intersection import (
    COMPONENT,
    GUEST,
    RSA,
    Harnesses,
    assert_rows_of,
    breast_guest,
    breast_host,
    conf,
    generated,
    has_output,
    reference_ids,
    run,
    summary,
)
from .test_intersection_dh import DH, ECDH


def _digests(ids: list[str]) -> list[bytes]:
    return [hashlib.sha256(sid.encode()).digest() for sid in ids]


# ---- the filter ----------------------------------------------------------------------------------


@pytest.mark.parametrize("rate", [0.01, 0.2])
def test_the_filter_never_drops_a_held_id_and_keeps_its_false_positive_rate(rate: float) -> None:
    rng = random.Random(3)
    held = [f"{rng.getrandbits(64):x}" for _ in range(5000)]
    others = [f"other-{rng.getrandbits(64):x}" for _ in range(20000)]
    bloom = BloomFilter.empty(*size_for(len(held), rate), seed=7)
    bloom.add(_digests(held))
    assert bloom.may_hold(_digests(held)).all()
    observed = float(bloom.may_hold(_digests(others)).mean())
    assert observed <= rate * 1.5 + 0.002, observed


def test_filters_cross_as_bytes_and_join_by_union() -> None:
    shape = (*size_for(100, 0.05), 11)
    first, second = BloomFilter.empty(*shape), BloomFilter.empty(*shape)
    first.add(_digests(["a", "b"]))
    second.add(_digests(["c"]))
    joined = BloomFilter.from_bytes(first.union(second).to_bytes())
    assert joined.may_hold(_digests(["a", "b", "c"])).all()
    with pytest.raises(TransferError):
        BloomFilter.from_bytes(first.to_bytes()[:-1])
    with pytest.raises(TransferError):
        BloomFilter.from_bytes("not bytes")


# ---- run_preprocess --------------------------------------------------------------------------------


def _preprocessed(base: dict[str, Any], owner: str, rate: float = 0.2) -> dict[str, Any]:
    return {
        **base,
        "run_preprocess": True,
        "intersect_preprocess_params": {
            "false_positive_rate": rate,
            "filter_owner": owner,
            "random_state": 5,
        },
    }


@pytest.mark.parametrize("method", ["rsa", "dh", "ecdh"])
@pytest.mark.parametrize("owner", ["guest", "host"])
@pytest.mark.parametrize("hosts", [1, 2])
def test_preprocessing_leaves_the_intersection_unchanged(
    tmp_path: Path, local: Harnesses, method: str, owner: str, hosts: int
) -> None:
    base = {"rsa": RSA, "dh": DH, "ecdh": ECDH}[method]
    guest = generated([str(i) for i in range(0, 400, 2)], seed=1)
    others = [generated([str(i) for i in range(k, 500, k + 2)], seed=k) for k in range(1, hosts + 1)]
    host_ids = tuple(10000 + k for k in range(hosts))
    harness = run(tmp_path, local, conf(_preprocessed(base, owner), hosts=host_ids), guest, others)
    harness.run_ok(COMPONENT)
    expected = reference_ids(guest, *others)
    assert 0 < len(expected) < 200
    assert_rows_of(harness.output("guest", GUEST, COMPONENT), guest, expected)
    for party_id, host in zip(host_ids, others, strict=True):
        assert_rows_of(harness.output("host", party_id, COMPONENT), host, expected)
    assert summary(harness, "guest", GUEST)["unique_id_num"] == len(guest)


def test_preprocessing_on_breast_on_every_engine(tmp_path: Path, harnesses: Harnesses) -> None:
    params = _preprocessed(RSA, "guest", rate=0.01)
    guest, host = breast_guest(), breast_host()
    harness = run(tmp_path, harnesses, conf(params), guest, [host])
    harness.run_ok(COMPONENT)
    assert summary(harness, "host", 10000)["intersect_num"] == 569
    assert_rows_of(harness.output("host", 10000, COMPONENT), host, reference_ids(guest, host))


def test_parties_that_disagree_on_the_filter_owner_all_stop(tmp_path: Path, local: Harnesses) -> None:
    job = conf(_preprocessed(RSA, "guest"))
    host_preprocess = {"filter_owner": "host", "false_positive_rate": 0.2}
    job["component_parameters"]["role"]["host"] = {
        "0": {COMPONENT: {"intersect_preprocess_params": host_preprocess}}
    }
    harness = run(tmp_path, local, job, generated(["1"]), [generated(["1"])])
    errors = harness.run(COMPONENT)
    assert len(errors) == 2
    assert "intersect_preprocess_params.filter_owner is" in str(next(iter(errors.values())))


# ---- RSA cardinality -------------------------------------------------------------------------------


@pytest.mark.parametrize("hosts", [1, 2])
@pytest.mark.parametrize("sync", [False, True])
def test_rsa_cardinality_counts_exactly_without_output(
    tmp_path: Path, local: Harnesses, hosts: int, sync: bool
) -> None:
    params = {**RSA, "cardinality_only": True, "cardinality_method": "rsa", "sync_cardinality": sync}
    guest = generated([str(i) for i in range(0, 300)], seed=1)
    others = [generated([str(i) for i in range(k, 400, k + 1)], seed=k) for k in range(1, hosts + 1)]
    host_ids = tuple(10000 + k for k in range(hosts))
    harness = run(tmp_path, local, conf(params, hosts=host_ids), guest, others)
    harness.run_ok(COMPONENT)
    expected = len(reference_ids(guest, *others))
    assert summary(harness, "guest", GUEST)["intersect_num"] == expected
    assert not has_output(harness, "guest", GUEST)
    for party_id in host_ids:
        assert not has_output(harness, "host", party_id)
        assert summary(harness, "host", party_id)["intersect_num"] == (expected if sync else -1)


def test_the_corpus_options_of_preprocessing_and_rsa_cardinality_are_run() -> None:
    for params in (
        _preprocessed(RSA, "guest"),
        {"cardinality_only": True, "cardinality_method": "rsa", "rsa_params": {"split_calculation": False}},
    ):
        assert unsupported_options(IntersectionParams.model_validate(params)) == []
