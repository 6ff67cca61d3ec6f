"""Intersection on every party over the real data plane, against a plain Python set intersection.

Each party's output must be exactly its own input rows whose ids every party holds, sorted by the id
string, so that guest and hosts list the same ids in the same order.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from accord.components.sdk import Dataset
from accord.computing import LocalEngine
from accord.computing.table import Engine
from accord.errors import ComponentParameterError, DataFormatError
from accord.federation import codec

from ..breast import DATA
from ..harness import JOB_ID, ComponentHarness

GUEST = 9999
COMPONENT = "intersection_0"
UPSTREAM = "data_transform_0"

DSL: dict[str, Any] = {
    "components": {
        UPSTREAM: {"module": "DataTransform", "output": {"data": ["data"], "model": ["model"]}},
        COMPONENT: {
            "module": "Intersection",
            "input": {"data": {"data": [f"{UPSTREAM}.data"]}},
            "output": {"data": ["data"]},
        },
    }
}

# FATE's example confs mostly use 1024-bit keys; the tests do too, to stay quick.
RSA: dict[str, Any] = {"intersect_method": "rsa", "rsa_params": {"key_length": 1024}}
RAW: dict[str, Any] = {"intersect_method": "raw"}


def conf(params: dict[str, Any], hosts: Sequence[int] = (10000,)) -> dict[str, Any]:
    return {
        "dsl_version": 2,
        "initiator": {"role": "guest", "party_id": GUEST},
        "role": {"guest": [GUEST], "host": list(hosts)},
        "component_parameters": {"common": {COMPONENT: params}, "role": {}},
    }


def read_csv(name: str, id_column: int = 0, label_column: int | None = None) -> Dataset:
    path = DATA / name
    header = path.read_text().splitlines()[0].split(",")
    table = np.loadtxt(path, delimiter=",", skiprows=1, dtype=str)
    skip = {id_column} | ({label_column} if label_column is not None else set())
    features = [i for i in range(len(header)) if i not in skip]
    return Dataset.instances(
        [str(sid) for sid in table[:, id_column]],
        table[:, features].astype(float),
        header=[header[i] for i in features],
        labels=table[:, label_column].astype(float) if label_column is not None else None,
        label_name=header[label_column] if label_column is not None else None,
    )


def generated(ids: Sequence[str], width: int = 3, seed: int = 0) -> Dataset:
    features = np.random.default_rng(seed).normal(size=(len(ids), width))
    return Dataset.instances(list(ids), features, header=[f"x{i}" for i in range(width)])


def breast_guest() -> Dataset:
    return read_csv("breast_hetero_guest.csv", label_column=1)


def breast_host() -> Dataset:
    return read_csv("breast_hetero_host.csv")


def spark_covered_by_a_sibling(engine: Engine, case: str, siblings: str) -> None:
    """Skip a Spark case whose engine path a sibling case already runs on Spark.

    The cases differ only in per-id arithmetic, which is the same code on either engine; on Spark
    each costs tens of seconds of CI time for no new path.
    """
    if not isinstance(engine, LocalEngine):
        pytest.skip(f"{case} on Spark: its engine path is run on Spark by {siblings}")


class Harnesses(list[ComponentHarness]):
    """The harnesses a test made, all on the engine the test runs on."""

    def __init__(self, engine: Engine) -> None:
        super().__init__()
        self.engine = engine


def run(
    tmp_path: Path,
    made: list[ComponentHarness],
    job_conf: dict[str, Any],
    guest: Dataset,
    hosts: Sequence[Dataset],
) -> ComponentHarness:
    harness = ComponentHarness(tmp_path, DSL, job_conf, engine=getattr(made, "engine", None))
    made.append(harness)
    harness.transfer_timeout_s = 20
    harness.plant("guest", GUEST, UPSTREAM, guest)
    for host_id, host in zip(job_conf["role"]["host"], hosts, strict=True):
        harness.plant("host", host_id, UPSTREAM, host)
    return harness


def reference_ids(*datasets: Dataset) -> list[str]:
    common = set(datasets[0].ids())
    for dataset in datasets[1:]:
        common &= set(dataset.ids())
    return sorted(common)


def assert_rows_of(output: Dataset, source: Dataset, expected: list[str]) -> None:
    """``output`` is ``source``'s rows for ``expected`` ids, in that order, features and label intact."""
    assert list(output.ids()) == expected
    row_of = {sid: row for row, sid in enumerate(source.ids())}
    rows = [row_of[sid] for sid in expected]
    assert output.header == source.header
    np.testing.assert_array_equal(output.features(), source.features()[rows])
    source_labels = source.labels()
    if source_labels is None:
        assert output.labels() is None
    else:
        np.testing.assert_array_equal(output.labels(), source_labels[rows])


def summary(harness: ComponentHarness, role: str, party_id: int) -> dict[str, Any]:
    path = harness.party_dir(role, party_id) / "outputs" / COMPONENT / "summary.json"
    document: dict[str, Any] = json.loads(path.read_text())
    return document


def has_output(harness: ComponentHarness, role: str, party_id: int) -> bool:
    return (harness.party_dir(role, party_id) / "outputs" / COMPONENT / "data_data.parquet").exists()


# ---- one host -------------------------------------------------------------------------------------


@pytest.mark.parametrize("params", [RSA, RAW], ids=["rsa", "raw"])
def test_breast_guest_and_host_share_all_569_ids(
    tmp_path: Path, harnesses: list[ComponentHarness], params: dict[str, Any]
) -> None:
    guest, host = breast_guest(), breast_host()
    harness = run(tmp_path, harnesses, conf(params), guest, [host])
    harness.run_ok(COMPONENT)
    expected = reference_ids(guest, host)
    assert len(expected) == 569
    assert_rows_of(harness.output("guest", GUEST, COMPONENT), guest, expected)
    assert_rows_of(harness.output("host", 10000, COMPONENT), host, expected)
    for role, party_id, source in (("guest", GUEST, guest), ("host", 10000, host)):
        assert summary(harness, role, party_id) == {
            "intersect_num": len(expected),
            "intersect_rate": len(expected) / len(source),
            "cardinality_only": False,
            "unique_id_num": len(source),
        }
    (record,) = harness.metrics.query(JOB_ID, COMPONENT, "host", 10000, metric_name="intersection")
    assert record.key.metric_namespace == "train" and record.metric_type == "INTERSECTION"
    assert dict(record.data)["intersect_count"] == len(expected)
    assert record.meta["intersect_method"] == params["intersect_method"]


PARTIAL_CASES = {
    # The host's table of FATE's sample-id example holds 299 of the guest's 569 ids.
    "breast_sample_id": lambda: (breast_guest(), read_csv("breast_hetero_host_sample_id.csv", id_column=1)),
    "generated": lambda: (
        generated([f"u{i}" for i in range(0, 700, 2)] + [str(i) for i in range(50)], seed=1),
        generated([f"u{i}" for i in range(0, 700, 3)] + [str(i) for i in range(25, 90)], seed=2),
    ),
}


@pytest.mark.parametrize("case", sorted(PARTIAL_CASES))
@pytest.mark.parametrize(
    "params",
    [
        RSA,
        {**RSA, "rsa_params": {"key_length": 1024, "split_calculation": True}},
        {**RSA, "rsa_params": {"key_length": 1024, "random_base_fraction": 0.5, "salt": "pepper"}},
        {**RSA, "rsa_params": {"key_length": 1024, "hash_method": "sha512", "final_hash_method": "md5"}},
        RAW,
        {**RAW, "raw_params": {"use_hash": True, "hash_method": "sha256", "salt": "pepper"}},
        {**RAW, "raw_params": {"use_hash": True, "hash_method": "sm3", "base64": True, "join_role": "host"}},
        {**RAW, "with_encode": True, "encode_params": {"encode_method": "md5", "salt": "s"}},
    ],
    ids=[
        "rsa",
        "rsa_split",
        "rsa_fraction_salt",
        "rsa_sha512_md5",
        "raw",
        "raw_sha256",
        "raw_sm3_host",
        "raw_encode",
    ],
)
def test_partial_overlap_matches_set_intersection(
    tmp_path: Path, harnesses: list[ComponentHarness], case: str, params: dict[str, Any]
) -> None:
    guest, host = PARTIAL_CASES[case]()
    harness = run(tmp_path, harnesses, conf(params), guest, [host])
    harness.run_ok(COMPONENT)
    expected = reference_ids(guest, host)
    assert 0 < len(expected) < len(guest)
    assert_rows_of(harness.output("guest", GUEST, COMPONENT), guest, expected)
    assert_rows_of(harness.output("host", 10000, COMPONENT), host, expected)


# ---- several hosts --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "params",
    [
        RSA,
        {**RSA, "rsa_params": {"key_length": 1024, "split_calculation": True}},
        RAW,
        {**RAW, "raw_params": {"join_role": "host", "use_hash": True, "hash_method": "sha1"}},
    ],
    ids=["rsa", "rsa_split", "raw_join_guest", "raw_join_host"],
)
def test_two_hosts_every_party_gets_the_intersection_across_all(
    tmp_path: Path, harnesses: list[ComponentHarness], params: dict[str, Any]
) -> None:
    guest = generated([str(i) for i in range(0, 400)], seed=3)
    first = generated([str(i) for i in range(0, 400, 2)] + ["only-first"], seed=4)
    second = generated([str(i) for i in range(0, 400, 3)] + ["only-second"], seed=5)
    harness = run(tmp_path, harnesses, conf(params, hosts=(10000, 10001)), guest, [first, second])
    harness.run_ok(COMPONENT)
    expected = reference_ids(guest, first, second)
    # Sorted as strings, not as numbers: "102" comes before "12".
    assert expected[:3] == ["0", "102", "108"]
    assert_rows_of(harness.output("guest", GUEST, COMPONENT), guest, expected)
    assert_rows_of(harness.output("host", 10000, COMPONENT), first, expected)
    assert_rows_of(harness.output("host", 10001, COMPONENT), second, expected)


# ---- who learns what ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "params",
    [
        {**RSA, "sync_intersect_ids": False},
        {**RSA, "sync_intersect_ids": False, "rsa_params": {"key_length": 1024, "split_calculation": True}},
        {**RAW, "sync_intersect_ids": False},
    ],
    ids=["rsa", "rsa_split", "raw"],
)
def test_without_sync_only_the_guest_outputs(
    tmp_path: Path, harnesses: list[ComponentHarness], params: dict[str, Any]
) -> None:
    guest, host = PARTIAL_CASES["generated"]()
    harness = run(tmp_path, harnesses, conf(params), guest, [host])
    harness.run_ok(COMPONENT)
    assert_rows_of(harness.output("guest", GUEST, COMPONENT), guest, reference_ids(guest, host))
    assert not has_output(harness, "host", 10000)
    assert summary(harness, "host", 10000)["intersect_num"] == -1


def test_raw_joined_on_hosts_without_sync_leaves_each_host_its_own_intersection(
    tmp_path: Path, harnesses: list[ComponentHarness]
) -> None:
    guest = generated([str(i) for i in range(100)])
    first, second = (
        generated([str(i) for i in range(0, 200, 2)]),
        generated([str(i) for i in range(0, 200, 3)]),
    )
    params = {**RAW, "sync_intersect_ids": False, "join_role": "host"}
    harness = run(tmp_path, harnesses, conf(params, hosts=(10000, 10001)), guest, [first, second])
    harness.run_ok(COMPONENT)
    assert not has_output(harness, "guest", GUEST)
    assert_rows_of(harness.output("host", 10000, COMPONENT), first, reference_ids(guest, first))
    assert_rows_of(harness.output("host", 10001, COMPONENT), second, reference_ids(guest, second))


def test_only_output_key_keeps_ids_alone(tmp_path: Path, harnesses: list[ComponentHarness]) -> None:
    guest, host = breast_guest(), read_csv("breast_hetero_host_sample_id.csv", id_column=1)
    harness = run(tmp_path, harnesses, conf({**RSA, "only_output_key": True}), guest, [host])
    harness.run_ok(COMPONENT)
    expected = reference_ids(guest, host)
    for role, party_id in (("guest", GUEST), ("host", 10000)):
        output = harness.output(role, party_id, COMPONENT)
        assert list(output.ids()) == expected
        assert output.header == () and output.features().shape == (len(expected), 0)
        assert output.labels() is None and output.kind == "instances"


@pytest.mark.parametrize("host_ids", [["d", "e"], []], ids=["disjoint", "host_has_no_rows"])
@pytest.mark.parametrize("params", [RSA, RAW], ids=["rsa", "raw"])
def test_an_empty_intersection_is_an_empty_output(
    tmp_path: Path, harnesses: list[ComponentHarness], params: dict[str, Any], host_ids: list[str]
) -> None:
    guest, host = generated(["a", "b", "c"]), generated(host_ids)
    harness = run(tmp_path, harnesses, conf(params), guest, [host])
    harness.run_ok(COMPONENT)
    for role, party_id in (("guest", GUEST), ("host", 10000)):
        assert len(harness.output(role, party_id, COMPONENT)) == 0
        assert summary(harness, role, party_id)["intersect_num"] == 0


# ---- privacy: what crosses the wire ---------------------------------------------------------------


def _leaves(value: Any) -> Iterator[Any]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield key
            yield from _leaves(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _leaves(item)
    else:
        yield value


@pytest.mark.parametrize("split", [False, True], ids=["unified", "split"])
def test_rsa_sends_neither_ids_nor_their_hashes(
    tmp_path: Path, harnesses: list[ComponentHarness], split: bool
) -> None:
    guest, host = PARTIAL_CASES["generated"]()
    params = {**RSA, "rsa_params": {"key_length": 1024, "split_calculation": split}}
    harness = run(tmp_path, harnesses, conf(params), guest, [host])
    harness.run_ok(COMPONENT)
    secrets_of: dict[str, tuple[set[str], set[int], list[bytes]]] = {}
    for role, dataset in (("guest", guest), ("host", host)):
        own_ids = [str(sid) for sid in dataset.ids()]
        own_digests = [hashlib.sha256(sid.encode()).digest() for sid in own_ids]
        secrets_of[role] = (set(own_ids), {int.from_bytes(d, "big") for d in own_digests}, own_digests)
    sent = sorted(path for path in (harness.home / "transfer").rglob("*") if path.is_file())
    assert {path.name.split("-", 1)[0] for path in sent} == {"guest", "host"}
    for path in sent:
        source_role = path.name.split("-", 1)[0]
        ids, numbers, digests = secrets_of[source_role]
        for leaf in _leaves(codec.decode(path.read_bytes())):
            assert not (isinstance(leaf, str) and leaf in ids), f"{path} holds an id"
            assert not (isinstance(leaf, int) and leaf in numbers), f"{path} holds an id's hash"
            assert not (isinstance(leaf, bytes) and any(d in leaf for d in digests)), f"{path} holds a hash"


# ---- refusals -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"intersect_method": "dh", "dh_params": {"key_length": 1280}}, "dh_params.key_length"),
        ({**RAW, "run_cache": True}, "run_cache"),
        ({**RSA, "join_method": "left_join"}, "join_method"),
        ({**RSA, "rsa_params": {"key_length": 512}}, "rsa_params.key_length"),
        ({**RSA, "rsa_params": {"hash_method": "md5"}}, "rsa_params.hash_method"),
        ({**RSA, "unknown_option": 1}, "unknown_option"),
    ],
)
def test_unsupported_or_invalid_options_are_refused_by_name(
    tmp_path: Path, harnesses: list[ComponentHarness], params: dict[str, Any], field: str
) -> None:
    harness = run(tmp_path, harnesses, conf(params), generated(["1", "2"]), [generated(["2", "3"])])
    errors = harness.run(COMPONENT)
    assert len(errors) == 2
    for error in errors.values():
        assert isinstance(error, ComponentParameterError)
        assert field in str(error)


def test_parties_that_disagree_on_shared_settings_all_stop(
    tmp_path: Path, harnesses: list[ComponentHarness]
) -> None:
    job = conf(RSA, hosts=(10000, 10001))
    job["component_parameters"]["role"]["host"] = {
        "0": {COMPONENT: {"rsa_params": {"final_hash_method": "sha1"}}},
        "1": {COMPONENT: {"rsa_params": {"salt": "other"}}},
    }
    datasets = [generated([str(i) for i in range(10)]) for _ in range(3)]
    harness = run(tmp_path, harnesses, job, datasets[0], datasets[1:])
    errors = harness.run(COMPONENT)
    assert all(isinstance(error, ComponentParameterError) for error in errors.values())
    message = str(errors[next(party for party in errors if party.role == "guest")])
    assert "rsa_params.final_hash_method is 'sha256' on guest 9999 but 'sha1' on host 10000" in message
    assert "rsa_params.salt differs between guest 9999 and host 10001" in message
    assert "other" not in message


def test_repeated_ids_are_refused(tmp_path: Path, harnesses: list[ComponentHarness]) -> None:
    harness = run(tmp_path, harnesses, conf(RAW), generated(["1", "2", "1"]), [generated(["1"])])
    harness.transfer_timeout_s = 2
    errors = harness.run(COMPONENT)
    guest_error = errors[next(party for party in errors if party.role == "guest")]
    assert isinstance(guest_error, DataFormatError) and "'1'" in str(guest_error)
