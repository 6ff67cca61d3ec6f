"""Intersection on block tables, on the local engine and on Spark, against a plain set intersection.

Inputs are planted in many small row groups (many input partitions) and outputs are cut small, so
every step runs over many partitions. Besides the rows (each party's own rows of the common ids, in
ascending order of the id string), the contract downstream components rely on is checked: every
party's output has the same partitions, with the same ids in each (row i of partition p is the same
id everywhere), partitions of near-equal size.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from accord.components.intersection import output
from accord.components.intersection.routing import route, routing_keys
from accord.components.intersection.rsa import FactorStream, PrivateKey, blind
from accord.components.sdk import Dataset, layout
from accord.components.sdk.dataset import with_meta
from accord.computing import sid_partition
from accord.computing.block import SID
from accord.computing.table import Engine

from ..harness import ComponentHarness
from .test_intersection import (
    COMPONENT,
    DSL,
    GUEST,
    RAW,
    RSA,
    UPSTREAM,
    assert_rows_of,
    breast_guest,
    breast_host,
    conf,
    generated,
    reference_ids,
    spark_covered_by_a_sibling,
    summary,
)

ROW_GROUP = 120
OUTPUT_ROWS = 45


@pytest.fixture
def small_partitions(monkeypatch: pytest.MonkeyPatch) -> None:
    # Outputs of a few hundred rows then span several partitions, as big ones do.
    monkeypatch.setattr(output, "MIN_PARTITION_ROWS", OUTPUT_ROWS)


def _plant(harness: ComponentHarness, role: str, party_id: int, data: Dataset) -> None:
    path = layout.data_path(harness.party_dir(role, party_id), UPSTREAM, "data")
    path.parent.mkdir(parents=True, exist_ok=True)
    table = data.table.replace_schema_metadata(with_meta(data.table.schema, data.meta()))
    pq.write_table(table, path, row_group_size=ROW_GROUP)


def _run(
    tmp_path: Path,
    made: list[ComponentHarness],
    engine: Engine,
    job_conf: dict[str, Any],
    guest: Dataset,
    hosts: Sequence[Dataset],
) -> ComponentHarness:
    harness = ComponentHarness(tmp_path, DSL, job_conf, engine=engine)
    made.append(harness)
    _plant(harness, "guest", GUEST, guest)
    for host_id, host in zip(job_conf["role"]["host"], hosts, strict=True):
        _plant(harness, "host", host_id, host)
    harness.run_ok(COMPONENT)
    return harness


def _partitions(harness: ComponentHarness, role: str, party_id: int) -> list[list[str]]:
    path = harness.party_dir(role, party_id) / "outputs" / COMPONENT / "data_data.parquet"
    file = pq.ParquetFile(path)
    groups = (file.read_row_group(index).column(SID).to_pylist() for index in range(file.num_row_groups))
    return [[str(sid) for sid in group] for group in groups]


def _guest_and_host() -> tuple[Dataset, Dataset]:
    guest = generated([f"u{i}" for i in range(0, 900, 2)] + [str(i) for i in range(80)], seed=1)
    host = generated([f"u{i}" for i in range(0, 900, 3)] + [str(i) for i in range(40, 150)], seed=2)
    return guest, host


CASES: dict[str, dict[str, Any]] = {
    "rsa": RSA,
    "rsa_split": {**RSA, "rsa_params": {"key_length": 1024, "split_calculation": True}},
    "rsa_fraction": {**RSA, "rsa_params": {"key_length": 1024, "random_base_fraction": 0.3, "salt": "s"}},
    "raw": RAW,
    "raw_hash_host": {**RAW, "raw_params": {"use_hash": True, "hash_method": "sha256", "join_role": "host"}},
}


@pytest.mark.usefixtures("small_partitions")
@pytest.mark.parametrize("case", sorted(CASES))
def test_every_party_outputs_the_common_rows_in_the_same_partitions(
    tmp_path: Path, harnesses: list[ComponentHarness], engine: Engine, case: str
) -> None:
    if case not in ("rsa", "raw"):
        spark_covered_by_a_sibling(engine, case, "rsa and raw")
    guest, host = _guest_and_host()
    harness = _run(tmp_path, harnesses, engine, conf(CASES[case]), guest, [host])
    expected = reference_ids(guest, host)
    assert 0 < len(expected) < len(host)
    assert_rows_of(harness.output("guest", GUEST, COMPONENT), guest, expected)
    assert_rows_of(harness.output("host", 10000, COMPONENT), host, expected)
    cuts = [_partitions(harness, role, party) for role, party in (("guest", GUEST), ("host", 10000))]
    assert cuts[0] == cuts[1] and len(cuts[0]) > 1
    sizes = [len(part) for part in cuts[0]]
    assert max(sizes) - min(sizes) <= 1 and sum(sizes) == len(expected)
    assert len(sizes) == output.output_partitions(len(expected), max(engine.partitions, _groups(guest, host)))
    for role, party_id, source in (("guest", GUEST, guest), ("host", 10000, host)):
        assert summary(harness, role, party_id)["intersect_num"] == len(expected)
        assert summary(harness, role, party_id)["unique_id_num"] == len(source)


def _groups(*datasets: Dataset) -> int:
    return max(-(-len(data) // ROW_GROUP) for data in datasets)


@pytest.mark.usefixtures("small_partitions")
@pytest.mark.parametrize(
    "params", [RSA, {**RAW, "raw_params": {"join_role": "host"}}], ids=["rsa", "raw_host"]
)
def test_two_hosts_share_the_partitions_of_the_guest(
    tmp_path: Path, harnesses: list[ComponentHarness], engine: Engine, params: dict[str, Any]
) -> None:
    guest = generated([str(i) for i in range(0, 500)], seed=3)
    first = generated([str(i) for i in range(0, 500, 2)] + ["only-first"], seed=4)
    second = generated([str(i) for i in range(0, 600, 3)] + ["only-second"], seed=5)
    harness = _run(tmp_path, harnesses, engine, conf(params, hosts=(10000, 10001)), guest, [first, second])
    expected = reference_ids(guest, first, second)
    for role, party_id, source in (("guest", GUEST, guest), ("host", 10000, first), ("host", 10001, second)):
        assert_rows_of(harness.output(role, party_id, COMPONENT), source, expected)
    cuts = [
        _partitions(harness, role, party)
        for role, party in (("guest", GUEST), ("host", 10000), ("host", 10001))
    ]
    assert cuts[0] == cuts[1] == cuts[2] and len(cuts[0]) > 1


def test_breast_over_partitions_equals_the_reference(
    tmp_path: Path, harnesses: list[ComponentHarness], engine: Engine
) -> None:
    guest, host = breast_guest(), breast_host()
    harness = _run(tmp_path, harnesses, engine, conf(RSA), guest, [host])
    expected = reference_ids(guest, host)
    assert_rows_of(harness.output("guest", GUEST, COMPONENT), guest, expected)
    assert_rows_of(harness.output("host", 10000, COMPONENT), host, expected)
    # 569 rows stay one partition, as the whole-table output was.
    assert len(_partitions(harness, "guest", GUEST)) == len(_partitions(harness, "host", 10000)) == 1


@pytest.mark.parametrize("params", [RSA, RAW], ids=["rsa", "raw"])
def test_an_empty_intersection_is_one_empty_partition(
    tmp_path: Path, harnesses: list[ComponentHarness], engine: Engine, params: dict[str, Any]
) -> None:
    guest, host = generated([f"g{i}" for i in range(100)]), generated([f"h{i}" for i in range(90)])
    harness = _run(tmp_path, harnesses, engine, conf(params), guest, [host])
    for role, party_id in (("guest", GUEST), ("host", 10000)):
        got = harness.output(role, party_id, COMPONENT)
        assert len(got) == 0 and got.header == guest.header
        assert summary(harness, role, party_id)["intersect_num"] == 0


@pytest.mark.usefixtures("small_partitions")
def test_only_output_key_over_partitions(
    tmp_path: Path, harnesses: list[ComponentHarness], engine: Engine
) -> None:
    guest, host = _guest_and_host()
    harness = _run(tmp_path, harnesses, engine, conf({**RAW, "only_output_key": True}), guest, [host])
    expected = reference_ids(guest, host)
    for role, party_id in (("guest", GUEST), ("host", 10000)):
        got = harness.output(role, party_id, COMPONENT)
        assert list(got.ids()) == expected and got.header == () and got.features().shape == (len(expected), 0)
    assert _partitions(harness, "guest", GUEST) == _partitions(harness, "host", 10000)


# ---- the pieces ---------------------------------------------------------------------------------


def test_routing_keys_land_in_their_partition() -> None:
    for partitions in (1, 2, 7, 64):
        keys = routing_keys(partitions)
        assert [sid_partition(key, partitions) for key in keys] == list(range(partitions))


def test_route_puts_each_row_where_it_is_told(engine: Engine) -> None:
    rng = np.random.default_rng(0)
    sids = [f"r{i}" for i in range(300)]
    targets = rng.integers(0, 5, size=len(sids))
    batch = pa.RecordBatch.from_arrays(
        [pa.array(sids), pa.array(targets.astype(np.int32)), pa.array(np.arange(300.0))],
        names=[SID, "to", "x"],
    )
    table = engine.parallelize([batch.slice(start, 60) for start in range(0, 300, 60)])
    routed = route(table, "to", 5)
    assert routed.partitions == 5
    for index, block in routed.blocks():
        assert isinstance(block, pa.RecordBatch) and block.schema.names == [SID, "to", "x"]
        assert set(block.column("to").to_pylist()) <= {index}
        assert sorted(str(sid) for sid in block.column(SID).to_pylist()) == sorted(
            s for s, t in zip(sids, targets, strict=True) if t == index
        )


@pytest.mark.parametrize("fraction", [None, 0.4])
def test_blinding_factors_are_drawn_again_alike_from_their_seed(fraction: float | None) -> None:
    key = PrivateKey.generate(1024).public
    messages = list(range(1000, 1050))
    seed = b"k" * 32
    draw = functools.partial(blind, messages, key, random_bit=128, base_fraction=fraction)
    first, again = draw(stream=FactorStream(seed, 3)), draw(stream=FactorStream(seed, 3))
    other = draw(stream=FactorStream(seed, 4))
    assert first.values == again.values and [int(f) for f in first.factors] == [int(f) for f in again.factors]
    assert first.values != other.values
    assert all(1 < int(factor) < 2**128 for factor in first.factors)


def _with_match_ids(data: Dataset, sid_prefix: str) -> Dataset:
    """``data`` as DataTransform reads it with_match_id from a table uploaded with extend_sid: a
    generated sid per row (different on every party) and the original id as the match id."""
    table = data.table.set_column(
        data.table.schema.get_field_index(SID), SID, pa.array([f"{sid_prefix}{i}" for i in range(len(data))])
    ).append_column("match_id", pa.array([str(sid) for sid in data.ids()]))
    meta = data.meta()
    meta["extra"] = {**meta.get("extra", {}), "match_id_name": "id"}
    return Dataset.of(table, meta)


def test_rows_read_with_a_match_id_are_intersected_by_it(
    tmp_path: Path, harnesses: list[ComponentHarness], engine: Engine
) -> None:
    guest, host = _guest_and_host()
    harness = _run(
        tmp_path, harnesses, engine, conf(RSA), _with_match_ids(guest, "g"), [_with_match_ids(host, "h")]
    )
    expected = reference_ids(guest, host)
    # The match ids are the rows' ids from here on, the same on every party (the generated sids differ).
    assert_rows_of(harness.output("guest", GUEST, COMPONENT), guest, expected)
    assert_rows_of(harness.output("host", 10000, COMPONENT), host, expected)
