"""Every table operation on both engines against plain pyarrow/numpy on the same rows.

Integer and string results must be equal exactly; float sums agree to 1e-9 relative (the engines
fold partials in partition order, so they agree with each other exactly, and with numpy's
pairwise sum to rounding).
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from accord.computing import BlockTable, Engine, sid_partition
from accord.computing.block import decode, encode
from accord.errors import ArgumentError, DataError
from tests.computing import ops
from tests.computing.conftest import PARTITIONS

LEFT = ops.rows(2000)
RIGHT = ops.rows(2000, first=1000, seed=1).rename_columns(["sid", "z", "y"])


def table_of(engine: Engine, rows: pa.Table, partitions: int | None = None) -> BlockTable:
    return engine.from_batches(rows.to_batches(max_chunksize=500), partitions)


def by_sid(table: pa.Table) -> pa.Table:
    return table.sort_by("sid")


def assert_rows(actual: pa.Table, expected: pa.Table) -> None:
    actual, expected = by_sid(actual), by_sid(expected.select(actual.column_names))
    assert actual.num_rows == expected.num_rows
    for name in actual.column_names:
        assert actual.column(name).to_pylist() == expected.column(name).to_pylist(), name


def test_rows_land_in_their_sid_partition(engine: Engine) -> None:
    table = table_of(engine, LEFT)
    assert (table.partitions, table.sid_partitioned, table.count()) == (PARTITIONS, True, 2000)
    for index, block in table.blocks():
        assert isinstance(block, pa.RecordBatch)
        assert {sid_partition(sid, PARTITIONS) for sid in block.column("sid").to_pylist()} <= {index}
    assert_rows(table.to_arrow(), LEFT)


def test_map_batches_filter_and_map_partitions_with_index(engine: Engine) -> None:
    table = table_of(engine, LEFT)
    doubled = table.map_batches(ops.doubled_y)
    assert doubled.sid_partitioned
    expected = LEFT.set_column(2, "y", pa.array(LEFT.column("y").to_numpy() * 2.0))
    assert_rows(doubled.to_arrow(), expected)

    kept = table.filter(ops.x_multiple_of_3).to_arrow()
    assert_rows(kept, LEFT.filter(pa.array(LEFT.column("x").to_numpy() % 3 == 0)))

    tagged = table.map_partitions_with_index(ops.tag_partition).to_arrow()
    assert not table.map_partitions_with_index(ops.tag_partition).sid_partitioned
    for sid, part in zip(tagged.column("sid").to_pylist(), tagged.column("part").to_pylist(), strict=True):
        assert part == sid_partition(sid, PARTITIONS)


def test_aggregate_and_count(engine: Engine) -> None:
    table = table_of(engine, LEFT)
    assert table.aggregate(0, ops.sum_x, ops.add) == int(LEFT.column("x").to_numpy().sum())
    total = table.aggregate(0.0, ops.sum_y, ops.add)
    assert total == pytest.approx(float(LEFT.column("y").to_numpy().sum()), rel=1e-9)
    assert table.aggregate(7, ops.sum_x, ops.add) == 7 + int(LEFT.column("x").to_numpy().sum())


def test_join_of_co_partitioned_tables_and_of_shuffled_ones(engine: Engine) -> None:
    expected = LEFT.join(RIGHT, "sid", join_type="inner", right_suffix="_right")
    left, right = table_of(engine, LEFT), table_of(engine, RIGHT)
    joined = left.join(right)
    assert joined.sid_partitioned and joined.partitions == PARTITIONS
    assert_rows(joined.to_arrow(), expected)
    # The same join written as a zip of the co-partitioned blocks, then aggregated.
    zipped = left.zip_partitions(right, ops.same_rows)
    dot = float(np.dot(expected.column("x").to_numpy(), expected.column("z").to_numpy().astype(float)))
    assert zipped.aggregate(0.0, ops.dot_xz, ops.add) == pytest.approx(dot, rel=1e-12)
    # Partitioned differently (3 against 4) and not by sid at all: both are shuffled to 4.
    other = engine.parallelize(RIGHT.to_batches(max_chunksize=700))
    assert not other.sid_partitioned
    assert_rows(table_of(engine, LEFT, 3).join(other).to_arrow(), expected)


def test_union_and_subtract(engine: Engine) -> None:
    extra = ops.rows(2000, first=1000, seed=2)
    left, right = table_of(engine, LEFT), table_of(engine, extra, 2)
    union = left.union(right).to_arrow()
    new_sids = pa.array(sorted(set(extra.column("sid").to_pylist()) - set(LEFT.column("sid").to_pylist())))
    assert_rows(
        union, pa.concat_tables([LEFT, extra.filter(pa.compute.is_in(extra.column("sid"), new_sids))])
    )
    remaining = left.subtract(right).to_arrow()
    assert_rows(
        remaining, LEFT.filter(pa.compute.invert(pa.compute.is_in(LEFT.column("sid"), extra.column("sid"))))
    )
    with pytest.raises(DataError, match="different columns"):
        left.union(table_of(engine, RIGHT)).count()


def test_repartition_sample_take(engine: Engine) -> None:
    table = table_of(engine, LEFT).repartition_by_sid(3)
    assert table.partitions == 3 and table.count() == 2000
    for index, block in table.blocks():
        assert isinstance(block, pa.RecordBatch)
        assert {sid_partition(sid, 3) for sid in block.column("sid").to_pylist()} <= {index}

    sample = table.sample(0.3, seed=7)
    expected = []
    for index, block in table.blocks():
        assert isinstance(block, pa.RecordBatch)
        draws = np.random.default_rng([7, index]).random(block.num_rows)
        expected.extend(np.asarray(block.column("sid").to_pylist())[draws < 0.3].tolist())
    assert sorted(sample.to_arrow().column("sid").to_pylist()) == sorted(expected)
    # 2000 draws of p = 0.3: five standard deviations is ±102.
    assert abs(len(expected) - 600) < 102

    first = table.take(5)
    assert first.num_rows == 5
    _, block = next(table.blocks())
    assert first.column("sid").to_pylist() == block.column("sid").to_pylist()[:5]
    with pytest.raises(DataError, match="more than 100 rows"):
        table.to_arrow(max_rows=100)


def test_persist_write_and_read(engine: Engine, tmp_path_factory: pytest.TempPathFactory) -> None:
    table = table_of(engine, LEFT).map_batches(ops.doubled_y)
    assert table.persist() is table
    assert table.count() == 2000
    location = str(tmp_path_factory.mktemp("written") / "t")
    table.write(location)
    table.unpersist()
    back = engine.read(location)
    assert back.partitions == PARTITIONS and back.sid_partitioned
    assert_rows(back.to_arrow(), table.to_arrow())

    file = tmp_path_factory.mktemp("parquet") / "data.parquet"
    pq.write_table(LEFT, file, row_group_size=600)
    groups = engine.read_parquet(str(file))
    assert groups.partitions == 4 and not groups.sid_partitioned
    assert [block.num_rows for _, block in groups.blocks() if isinstance(block, pa.RecordBatch)] == [
        600,
        600,
        600,
        200,
    ]
    assert_rows(groups.to_arrow(), LEFT)


def test_blobs(engine: Engine) -> None:
    blobs = [bytes(range(index, index + 16)) for index in range(3)]
    table = engine.from_blobs(blobs)
    assert table.count() == 3 and table.partitions == 3
    tagged = table.map_partitions_with_index(ops.blob_with_index)
    assert [block for _, block in tagged.blocks()] == [blob + bytes([i]) for i, blob in enumerate(blobs)]
    xored = tagged.zip_partitions(tagged, ops.xor_blobs)
    assert xored.aggregate(0, ops.blob_bytes, ops.add) == 3 * 17
    assert all(block == bytes(17) for _, block in xored.blocks())
    with pytest.raises(DataError, match="opaque blob"):
        table.join(table).count()


def test_send_and_receive_go_partition_by_partition(engine: Engine) -> None:
    table = table_of(engine, LEFT)
    sent: list[tuple[int, bytes]] = []
    assert table.send(lambda index, payload: sent.append((index, payload))) == PARTITIONS
    assert [index for index, _ in sent] == list(range(PARTITIONS))
    for (index, payload), (_, block) in zip(sent, table.blocks(), strict=True):
        # Each call carries exactly one partition, never the table.
        assert decode(payload) == block, index

    taken: list[int] = []

    def arriving() -> object:
        for index, payload in sent:
            taken.append(index)
            yield index, payload

    received = engine.receive(arriving(), PARTITIONS)  # type: ignore[arg-type]
    assert taken == list(range(PARTITIONS))
    assert_rows(received.to_arrow(), LEFT)
    assert received.join(table).count() == 2000

    blobs = engine.from_blobs([b"one", b"two"])
    copied: list[tuple[int, bytes]] = []
    blobs.send(lambda index, payload: copied.append((index, payload)))
    assert [block for _, block in engine.receive(copied, 2).blocks()] == [b"one", b"two"]


def test_refusals(engine: Engine, local_engine: Engine) -> None:
    from accord.errors import TransferError

    four, three = table_of(engine, LEFT), table_of(engine, LEFT, 3)
    with pytest.raises(ArgumentError, match="4 partitions against 3"):
        four.zip_partitions(three, ops.same_rows)
    if engine is not local_engine:
        with pytest.raises(ArgumentError, match="same"):
            four.zip_partitions(table_of(local_engine, LEFT), ops.same_rows)
    with pytest.raises(TransferError, match="never came"):
        engine.receive([(0, encode(b"xx"))], 2)
    with pytest.raises(TransferError, match="came twice"):
        engine.receive([(0, encode(b"xx")), (0, encode(b"xx"))], 2)
    with pytest.raises(ArgumentError, match="fraction"):
        four.sample(1.5, seed=1)


def test_a_table_one_engine_wrote_reads_on_the_other(
    local_engine: Engine, spark_engine: Engine, tmp_path_factory: pytest.TempPathFactory
) -> None:
    root = tmp_path_factory.mktemp("crossed")
    table_of(local_engine, LEFT).write(str(root / "local"))
    table_of(spark_engine, RIGHT).write(str(root / "spark"))
    joined = spark_engine.read(str(root / "local")).join(spark_engine.read(str(root / "spark")))
    again = local_engine.read(str(root / "local")).join(local_engine.read(str(root / "spark")))
    assert_rows(joined.to_arrow(), again.to_arrow())
    assert joined.aggregate(0.0, ops.sum_y, ops.add) == again.aggregate(0.0, ops.sum_y, ops.add)
