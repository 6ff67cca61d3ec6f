"""``run_cache`` then a ``cache`` input (FATE's cache intersection), against a plain set intersection.

The second Intersection must find ``sorted(set(guest) & set(host))`` from the cache without the host
encrypting its ids again; its result is checked against the set intersection, never an earlier output.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

import pytest

from accord.components.sdk import layout
from accord.errors import ComponentParameterError, DataMismatchError

from ..harness import ComponentHarness
from .test_intersection import (
    GUEST,
    RSA,
    UPSTREAM,
    Harnesses,
    assert_rows_of,
    breast_guest,
    breast_host,
    conf,
    generated,
    has_output,
    reference_ids,
)
from .test_intersection_dh import DH, ECDH

MAKER, USER = "intersect_0", "intersect_1"
DSL: dict[str, Any] = {
    "components": {
        UPSTREAM: {"module": "DataTransform", "output": {"data": ["data"], "model": ["model"]}},
        MAKER: {
            "module": "Intersection",
            "input": {"data": {"data": [f"{UPSTREAM}.data"]}},
            "output": {"cache": ["cache"]},
        },
        USER: {
            "module": "Intersection",
            "input": {"data": {"data": [f"{UPSTREAM}.data"]}, "cache": [f"{MAKER}.cache"]},
            "output": {"data": ["data"]},
        },
    }
}
METHODS = {"rsa": RSA, "dh": DH, "ecdh": ECDH}


def _job(params: dict[str, Any], user: dict[str, Any], hosts: tuple[int, ...] = (10000,)) -> dict[str, Any]:
    job = conf({}, hosts=hosts)
    job["component_parameters"]["common"] = {MAKER: {**params, "run_cache": True}, USER: {**params, **user}}
    return job


def _run(
    tmp_path: Path, made: Harnesses, job: dict[str, Any], guest: Any, hosts: list[Any]
) -> ComponentHarness:
    harness = ComponentHarness(tmp_path, DSL, job, engine=made.engine)
    made.append(harness)
    # Spark on a loaded machine can take a while between two steps of one party.
    harness.transfer_timeout_s = 120
    harness.plant("guest", GUEST, UPSTREAM, guest)
    for host_id, host in zip(job["role"]["host"], hosts, strict=True):
        harness.plant("host", host_id, UPSTREAM, host)
    return harness


def _has(harness: ComponentHarness, role: str, party_id: int, component: str) -> bool:
    path = harness.party_dir(role, party_id) / "outputs" / component / "data_data.parquet"
    return path.exists()


@pytest.mark.parametrize("method", sorted(METHODS))
@pytest.mark.parametrize("hosts", [1, 2])
@pytest.mark.parametrize("sync", [False, True])
def test_a_cached_intersection_finds_the_set_intersection(
    tmp_path: Path, local: Harnesses, method: str, hosts: int, sync: bool
) -> None:
    guest = generated([str(i) for i in range(0, 300)], seed=1)
    others = [generated([str(i) for i in range(k, 400, k + 1)], seed=k) for k in range(1, hosts + 1)]
    host_ids = tuple(10000 + k for k in range(hosts))
    harness = _run(
        tmp_path, local, _job(METHODS[method], {"sync_intersect_ids": sync}, host_ids), guest, others
    )
    harness.run_ok(MAKER)
    # The cache is the only output of the first run, and its values (keys) are private to the party.
    assert not _has(harness, "guest", GUEST, MAKER)
    for role, party_id in (("guest", GUEST), *(("host", p) for p in host_ids)):
        folder = layout.cache_dir(harness.party_dir(role, party_id), MAKER, "cache")
        assert stat.S_IMODE(os.stat(folder / "values.json").st_mode) == 0o600
    harness.run_ok(USER)
    expected = reference_ids(guest, *others)
    assert 0 < len(expected) < 300
    assert_rows_of(harness.output("guest", GUEST, USER), guest, expected)
    for party_id, host in zip(host_ids, others, strict=True):
        if sync:
            assert_rows_of(harness.output("host", party_id, USER), host, expected)
        else:
            assert not _has(harness, "host", party_id, USER)


def test_a_host_whose_ids_changed_since_the_cache_stops_both_parties(
    tmp_path: Path, local: Harnesses
) -> None:
    guest = generated([str(i) for i in range(0, 100)], seed=1)
    harness = _run(tmp_path, local, _job(RSA, {}), guest, [generated([str(i) for i in range(0, 200, 3)])])
    harness.run_ok(MAKER)
    # The host's data changes between the two runs: the cache no longer describes its ids.
    harness.plant("host", 10000, UPSTREAM, generated(["1", "4", "7"], seed=3))
    errors = harness.run(USER)
    assert len(errors) == 2 and all(isinstance(error, DataMismatchError) for error in errors.values())
    assert "run_cache again" in next(iter(errors.values())).hint


def test_a_cached_intersection_on_breast_on_every_engine(tmp_path: Path, harnesses: Harnesses) -> None:
    guest, host = breast_guest(), breast_host()
    harness = _run(tmp_path, harnesses, _job(ECDH, {}), guest, [host])
    harness.run_ok(MAKER)
    harness.run_ok(USER)
    assert_rows_of(harness.output("host", 10000, USER), host, reference_ids(guest, host))


@pytest.mark.parametrize("method", sorted(METHODS))
def test_the_cached_run_takes_the_cipher_settings_of_the_cache(
    tmp_path: Path, local: Harnesses, method: str
) -> None:
    # FATE's examples set the cipher settings (salt, key length) on the component that makes the cache.
    job = _job(METHODS[method], {})
    job["component_parameters"]["common"][USER] = {"intersect_method": method, "only_output_key": True}
    guest, host = generated([str(i) for i in range(50)]), generated([str(i) for i in range(0, 90, 3)])
    harness = _run(tmp_path, local, job, guest, [host])
    harness.run_ok(MAKER)
    harness.run_ok(USER)
    assert list(harness.output("guest", GUEST, USER).ids()) == reference_ids(guest, host)


def test_a_cache_made_with_other_settings_is_refused_by_name(tmp_path: Path, local: Harnesses) -> None:
    job = _job(DH, {})
    job["component_parameters"]["common"][USER]["dh_params"] = {"key_length": 1024, "salt": "other"}
    harness = _run(tmp_path, local, job, generated(["1", "2"]), [generated(["2"])])
    harness.run_ok(MAKER)
    errors = harness.run(USER)
    assert errors and all(isinstance(error, ComponentParameterError) for error in errors.values())
    assert "dh_params.salt" in str(next(iter(errors.values())))


def test_a_cache_input_with_run_cache_is_refused(tmp_path: Path, local: Harnesses) -> None:
    harness = _run(tmp_path, local, _job(RSA, {"run_cache": True}), generated(["1"]), [generated(["1"])])
    harness.run_ok(MAKER)
    errors = harness.run(USER)
    assert errors and all(isinstance(error, ComponentParameterError) for error in errors.values())
    assert not has_output(harness, "guest", GUEST)
