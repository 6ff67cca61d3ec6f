from __future__ import annotations

import pytest

from accord.errors import ArgumentError, RecordNotFound
from accord.persistence import Database, TableMetaRepository

from .helpers import ManualClock


@pytest.fixture
def tables(database: Database, clock: ManualClock) -> TableMetaRepository:
    return TableMetaRepository(database, clock=clock)


def test_save_then_get(tables: TableMetaRepository, clock: ManualClock) -> None:
    schema = {"header": "x0,x1", "sid": "id"}
    saved = tables.save(
        "experiment",
        "breast_hetero_guest",
        engine="STANDALONE",
        address="standalone:///experiment/breast_hetero_guest",
        partitions=4,
        count=569,
        schema=schema,
        id_delimiter="\t",
        extend_sid=True,
    )
    assert saved == tables.get("experiment", "breast_hetero_guest")
    assert (saved.engine, saved.address, saved.partitions, saved.count) == (
        "STANDALONE",
        "standalone:///experiment/breast_hetero_guest",
        4,
        569,
    )
    assert (saved.schema, saved.id_delimiter, saved.extend_sid) == (schema, "\t", True)
    assert saved.create_time == saved.update_time == clock.now


def test_saving_again_replaces_everything_but_the_creation_time(
    tables: TableMetaRepository, clock: ManualClock
) -> None:
    first = tables.save("ns", "t", engine="STANDALONE", address="a1", count=10, schema={"header": "x"})
    later = clock.advance(hours=1)
    second = tables.save("ns", "t", engine="EGGROLL", address="a2", partitions=8)
    assert (second.engine, second.address, second.partitions, second.count, second.schema) == (
        "EGGROLL",
        "a2",
        8,
        None,
        {},
    )
    assert (second.create_time, second.update_time) == (first.create_time, later)
    assert len(tables.list_tables()) == 1


def test_list_filters_by_namespace_and_limits(tables: TableMetaRepository) -> None:
    for namespace, name in [("b", "t2"), ("a", "t1"), ("b", "t1"), ("c", "t9")]:
        tables.save(namespace, name, engine="STANDALONE", address=f"{namespace}/{name}")
    assert [(t.namespace, t.name) for t in tables.list_tables()] == [
        ("a", "t1"),
        ("b", "t1"),
        ("b", "t2"),
        ("c", "t9"),
    ]
    assert [t.name for t in tables.list_tables(namespace="b")] == ["t1", "t2"]
    assert len(tables.list_tables(limit=2)) == 2


def test_update_count_and_delete(tables: TableMetaRepository) -> None:
    tables.save("ns", "t", engine="STANDALONE", address="a")
    tables.update_count("ns", "t", 1234)
    assert tables.get("ns", "t").count == 1234
    assert tables.delete("ns", "t")
    assert not tables.delete("ns", "t")
    with pytest.raises(RecordNotFound) as raised:
        tables.get("ns", "t")
    assert "ns.t" in raised.value.message
    with pytest.raises(RecordNotFound):
        tables.update_count("ns", "t", 1)


def test_a_table_has_at_least_one_partition(tables: TableMetaRepository) -> None:
    with pytest.raises(ArgumentError):
        tables.save("ns", "t", engine="STANDALONE", address="a", partitions=0)
