"""Uploading again (replace or merge), generated ids, and a table's life: info, list, read, delete."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from accord.errors import ArgumentError, DataMismatchError, RecordNotFound, UploadFileError
from accord.storage import TableStore

from .helpers import conf, reference, rows_of, write

BREAST = Path(__file__).resolve().parents[2].parent / "shared/fate/examples/data/breast_hetero_guest.csv"


def _versions(store: TableStore, namespace: str = "ns", name: str = "t") -> list[Path]:
    return sorted((store.root / namespace / name).iterdir())


def _csv(path: Path, header: str, rows: list[tuple[str, ...]]) -> Path:
    return write(path, "\n".join([header, *(",".join(row) for row in rows)]) + "\n")


def test_drop_replaces_the_table_and_its_files(store: TableStore, tmp_path: Path) -> None:
    old = _csv(tmp_path / "old.csv", "id,a,b", [("1", "x", "y"), ("2", "z", "w")])
    new = _csv(tmp_path / "new.csv", "id,a,b", [("3", "p", "q")])
    first = store.upload(conf(old))
    second = store.upload(conf(new, drop=1))
    assert second.count == 1
    assert rows_of(store.read("ns", "t")) == [["3", "p", "q"]]
    assert second.address != first.address and not Path(first.address).exists()
    assert _versions(store) == [Path(second.address)]
    assert second.create_time == first.create_time


def test_a_failed_reupload_leaves_the_old_table_readable(store: TableStore, tmp_path: Path) -> None:
    original = store.upload(conf(BREAST, drop=1))
    # Bad only near its end: several blocks are written before the upload fails.
    lines = [f"{i},{i % 2},{','.join(['0.5'] * 10)}" for i in range(60_000)]
    lines[-3] += ",surplus"
    bad = write(
        tmp_path / "bad.csv", "\n".join(["id,y," + ",".join(f"x{i}" for i in range(10)), *lines]) + "\n"
    )
    assert bad.stat().st_size > 2 << 20
    with pytest.raises(UploadFileError) as raised:
        store.upload(conf(bad, drop=1))
    assert raised.value.details["line"] == 60_000 - 2 + 1
    assert store.info("ns", "t") == original
    assert _versions(store) == [Path(original.address)]
    assert rows_of(store.read("ns", "t")) == reference(BREAST, head=True).rows


def test_a_merge_that_does_not_fit_leaves_the_table_as_it_was(store: TableStore, tmp_path: Path) -> None:
    original = store.upload(conf(_csv(tmp_path / "a.csv", "id,a,b", [("1", "x", "y")])))
    other = _csv(tmp_path / "b.csv", "id,a,c", [("2", "p", "q")])
    with pytest.raises(DataMismatchError) as raised:
        store.upload(conf(other))
    assert "drop: 1" in raised.value.retmsg and "'a,b'" in raised.value.message
    wider = _csv(tmp_path / "c.csv", "id,a,b,c", [("2", "p", "q", "r")])
    with pytest.raises(DataMismatchError, match="2 value columns, not 3"):
        store.upload(conf(wider))
    assert store.info("ns", "t") == original
    assert _versions(store) == [Path(original.address)]


def test_without_drop_rows_merge_by_id(store: TableStore, tmp_path: Path) -> None:
    rng = np.random.default_rng(7)
    old_ids = rng.permutation(5000)[:3000]
    new_ids = rng.permutation(5000)[:2500]
    old_rows = [(str(i), f"old{i}", str(rng.integers(9))) for i in old_ids]
    new_rows = [(str(i), f"new{i}", str(rng.integers(9))) for i in new_ids]
    store.upload(conf(_csv(tmp_path / "old.csv", "id,a,b", old_rows)))
    merged = store.upload(conf(_csv(tmp_path / "new.csv", "id,a,b", new_rows)))

    expected = {row[0]: list(row[1:]) for row in old_rows}
    expected.update({row[0]: list(row[1:]) for row in new_rows})
    got = {row[0]: row[1:] for row in rows_of(store.read("ns", "t"))}
    assert got == expected
    assert merged.count == len(expected) == store.read("ns", "t").count
    assert len(_versions(store)) == 1


def test_extend_sid_generates_unique_ids_and_keeps_whole_lines(store: TableStore, tmp_path: Path) -> None:
    source = _csv(tmp_path / "dup.csv", "id,v", [("1", "a"), ("1", "b"), ("2", "c")])
    info = store.upload(conf(source, extend_sid=True))
    raw = store.read("ns", "t")
    ids = raw.table.column(0).to_pylist()
    assert len(set(ids)) == 3
    # FATE's form: one random hex prefix per upload, then the data line's index.
    prefix = ids[0][:-1]
    assert re.fullmatch(r"[0-9a-f]{32}", prefix) and ids == [f"{prefix}{i}" for i in range(3)]
    assert [row[1:] for row in rows_of(raw)] == [["1", "a"], ["1", "b"], ["2", "c"]]
    assert (info.sid, info.header, info.extend_sid) == ("extend_sid", ["id", "v"], True)
    # Uploading the same file again adds its lines under new ids.
    assert store.upload(conf(source, extend_sid=True)).count == 6

    counted = store.upload(conf(source, name="n", extend_sid=True, auto_increasing_sid=True))
    assert store.read("ns", "n").table.column(0).to_pylist() == ["0", "1", "2"]
    assert counted.count == 3
    store.download("ns", "n", tmp_path / "back.csv")
    assert (tmp_path / "back.csv").read_bytes() == source.read_bytes()


def test_info_list_and_delete(store: TableStore, tmp_path: Path) -> None:
    source = _csv(tmp_path / "a.csv", "sid,x", [("1", "2")])
    for namespace, name in [("b", "t2"), ("a", "t1"), ("b", "t1")]:
        store.upload(conf(source, name=name, namespace=namespace, partition=4, with_meta=True, meta={"k": 1}))
    info = store.info("b", "t1")
    assert (info.count, info.partitions, info.engine, info.sid, info.header) == (
        1,
        4,
        "PARQUET",
        "sid",
        ["x"],
    )
    assert info.schema["meta"] == {"k": 1}
    assert Path(info.address).parent == store.root / "b" / "t1"
    fate = info.to_fate()
    assert (fate["table_name"], fate["namespace"], fate["exist"], fate["partition"]) == ("t1", "b", 1, 4)
    assert fate["schema"]["header"] == "x" and fate["schema"]["sid"] == "sid"

    assert [(t.namespace, t.name) for t in store.list()] == [("a", "t1"), ("b", "t1"), ("b", "t2")]
    assert [t.name for t in store.list(namespace="b", limit=1)] == ["t1"]

    assert store.delete("b", "t1")
    assert not (store.root / "b" / "t1").exists()
    assert not store.delete("b", "t1")
    assert store.find("b", "t1") is None
    with pytest.raises(RecordNotFound):
        store.read("b", "t1")
    with pytest.raises(RecordNotFound):
        store.iter_batches("b", "t1")


def test_names_that_are_not_one_directory_are_refused(store: TableStore) -> None:
    for namespace, name in [("..", "t"), ("ns", "a/b"), ("ns", ".hidden"), ("", "t"), ("ns", "x" * 200)]:
        with pytest.raises(ArgumentError):
            store.info(namespace, name)


def test_iter_batches_reads_in_bounded_batches(store: TableStore) -> None:
    store.upload(conf(BREAST))
    batches = list(store.iter_batches("ns", "t", batch_rows=100))
    assert max(b.num_rows for b in batches) == 100
    assert pa.Table.from_batches(batches).equals(store.read("ns", "t").table)


def test_a_reader_keeps_the_version_it_opened(store: TableStore, tmp_path: Path) -> None:
    old = _csv(tmp_path / "old.csv", "id,a", [(str(i), "old") for i in range(1000)])
    store.upload(conf(old))
    batches = store.iter_batches("ns", "t", batch_rows=10)
    first = next(batches)
    store.upload(conf(_csv(tmp_path / "new.csv", "id,a", [("1", "new")]), drop=1))
    rest = list(batches)
    assert {v for b in [first, *rest] for v in b.column(1).to_pylist()} == {"old"}
    assert sum(b.num_rows for b in [first, *rest]) == 1000
    assert rows_of(store.read("ns", "t")) == [["1", "new"]]


def test_write_stores_a_component_output_and_downloads_it(store: TableStore, tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    scores = rng.random(250)
    table = pa.table({"id": [f"r{i}" for i in range(250)], "score": scores, "label": rng.integers(0, 2, 250)})
    info = store.write("out", "scores", table, schema_meta={"label_name": "label"}, partitions=2)
    assert (info.count, info.partitions, info.sid, info.header) == (250, 2, "id", ["score", "label"])
    assert info.schema["label_name"] == "label"
    assert store.read("out", "scores").table.equals(table)

    store.download("out", "scores", tmp_path / "scores.csv")
    lines = (tmp_path / "scores.csv").read_text().splitlines()
    assert lines[0] == "id,score,label"
    parsed = np.array([float(line.split(",")[1]) for line in lines[1:]])
    np.testing.assert_allclose(parsed, scores, rtol=1e-12)

    replaced = store.write("out", "scores", table.slice(0, 5), schema_meta={})
    assert replaced.count == 5 and len(_versions(store, "out", "scores")) == 1


def test_download_with_another_delimiter(store: TableStore, tmp_path: Path) -> None:
    store.upload(conf(BREAST))
    store.download("ns", "t", tmp_path / "tabs.tsv", delimiter="\t")
    expected = BREAST.read_text().replace(",", "\t")
    assert (tmp_path / "tabs.tsv").read_text() == expected


def test_layout_of_the_file_is_kept(store: TableStore, tmp_path: Path) -> None:
    source = write(tmp_path / "win.csv", b"\xef\xbb\xbfid;a\r\n1;x\r\n2;\r\n3;z")
    info = store.upload(conf(source, id_delimiter=";"))
    assert rows_of(store.read("ns", "t")) == [["1", "x"], ["2", ""], ["3", "z"]]
    assert (info.sid, info.header, info.id_delimiter) == ("id", ["a"], ";")
    layout = info.layout
    assert layout is not None
    assert (layout.line_ending, layout.final_newline, layout.bom) == ("\r\n", False, True)
    store.download("ns", "t", tmp_path / "back.csv")
    assert (tmp_path / "back.csv").read_bytes() == source.read_bytes()


def test_a_relative_file_is_searched_for(store: TableStore, tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    _csv(tmp_path / "data" / "a.csv", "id,a", [("1", "x")])
    info = store.upload(conf("data/a.csv"), search_dirs=[tmp_path / "nowhere", tmp_path])
    assert info.count == 1
    with pytest.raises(UploadFileError) as raised:
        store.upload(conf("data/missing.csv"), search_dirs=[tmp_path / "nowhere", tmp_path])
    assert str(tmp_path / "nowhere" / "data" / "missing.csv") in raised.value.message
    assert str(tmp_path / "data" / "missing.csv") in raised.value.message
    with pytest.raises(UploadFileError, match="not a regular file"):
        store.upload(conf(tmp_path / "data"))
