"""Files that cannot become tables, and confs that cannot be uploads: a coded error naming the line or field.

Nothing of a refused upload stays behind: no table row, no version directory.
"""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from accord.errors import ComponentParameterError, UploadFileError
from accord.storage import TableStore, UploadConf

from .helpers import conf, write


def _refused(store: TableStore, source: Path, **fields: object) -> UploadFileError:
    with pytest.raises(UploadFileError) as raised:
        store.upload(conf(source, **fields))
    error = raised.value
    assert error.code == 10201
    assert str(source) in error.message and error.hint
    assert store.find("ns", "t") is None
    leftover = store.root / "ns" / "t"
    assert not leftover.exists() or not any(leftover.iterdir())
    return error


def _lines(count: int, width: int = 3) -> list[str]:
    return [",".join([str(i), *(f"{i}.{j}" for j in range(width - 1))]) for i in range(count)]


@pytest.mark.parametrize("crlf", [False, True])
def test_a_ragged_row_names_its_line_and_both_widths(store: TableStore, tmp_path: Path, crlf: bool) -> None:
    # Far enough in that it lies several blocks into the file.
    lines = ["id,a,b", *_lines(200_000)]
    lines[150_000] = "150000,only"
    ending = "\r\n" if crlf else "\n"
    source = write(tmp_path / "ragged.csv", ending.join(lines) + ending)
    error = _refused(store, source)
    assert error.details["line"] == 150_001
    assert "has 2 fields but the header has 3" in error.message
    assert "id_delimiter" in error.hint


def test_without_a_header_the_first_line_sets_the_width(store: TableStore, tmp_path: Path) -> None:
    source = write(tmp_path / "nohead.csv", "1,a,b\n2,c\n")
    error = _refused(store, source, head=0)
    assert error.details["line"] == 2 and "but line 1 has 3" in error.message


def test_duplicate_ids_name_both_lines(store: TableStore, tmp_path: Path) -> None:
    lines = ["id,a,b", *_lines(120_000)]
    lines[100_001] = "77,again,here"
    lines[110_001] = "77,and,again"
    lines[115_001] = "5,also,repeated"
    error = _refused(store, write(tmp_path / "dups.csv", "\n".join(lines) + "\n"))
    # id 77 first stands on line 79 (after the header, ids start at 0).
    assert error.details["line"] == 100_002
    assert "repeats id '77' of line 79" in error.message
    assert "3 repeated ids" in error.message and "extend_sid" in error.hint


def test_an_empty_file_and_a_header_alone(store: TableStore, tmp_path: Path) -> None:
    assert "is empty" in _refused(store, write(tmp_path / "empty.csv", "")).message
    assert "no data lines" in _refused(store, write(tmp_path / "head.csv", "id,a,b\n")).message
    assert "no data lines" in _refused(store, write(tmp_path / "head2.csv", "id,a,b")).message


@pytest.mark.parametrize(
    ("text", "line"),
    [("id,a\n1,x\n\n2,y\n", 3), ("id,a\n1,x\n2,y\n\n", 4), ("\nid,a\n1,x\n", 1), ("id,a\r\n1,x\r\n\r\n", 3)],
)
def test_an_empty_line_is_refused(store: TableStore, tmp_path: Path, text: str, line: int) -> None:
    error = _refused(store, write(tmp_path / "blank.csv", text))
    assert error.details["line"] == line and "is empty" in error.message


def test_binary_garbage_is_refused_at_once(store: TableStore, tmp_path: Path) -> None:
    packed = gzip.compress(b"id,a\n" + b"1,x\n" * 1000)
    error = _refused(store, write(tmp_path / "data.csv.gz", packed))
    assert "binary" in error.hint and error.details["line"] >= 1
    nul = _refused(store, write(tmp_path / "nul.csv", b"id,a\n1,x\n2,y\x00z\n"))
    assert nul.details["line"] == 3 and "0x00" in nul.message
    utf16 = _refused(store, write(tmp_path / "utf16.csv", "id,a\n1,x\n".encode("utf-16")))
    assert utf16.details["line"] == 1


def test_text_that_is_not_utf8_names_the_line_and_byte(store: TableStore, tmp_path: Path) -> None:
    source = write(tmp_path / "latin1.csv", "id,name\n1,Zoe\n2,Zoë\n".encode("latin-1"))
    error = _refused(store, source)
    assert error.details["line"] == 3
    assert "0xeb at byte 5" in error.message and "UTF-8" in error.hint


def test_a_carriage_return_inside_a_line_is_refused(store: TableStore, tmp_path: Path) -> None:
    error = _refused(store, write(tmp_path / "cr.csv", "id,a\n1,x\r2,y\n"))
    assert error.details["line"] == 2 and "carriage return" in error.message


def test_a_missing_file_says_where_it_was_looked_for(store: TableStore, tmp_path: Path) -> None:
    with pytest.raises(UploadFileError) as raised:
        store.upload(conf(tmp_path / "nope.csv"))
    assert str(tmp_path / "nope.csv") in raised.value.message


@pytest.mark.parametrize(
    ("fields", "named"),
    [
        ({"head": 2}, "'head' must be 0 or 1"),
        ({"partition": 0}, "'partition'"),
        ({"partition": 1024}, "'partition'"),
        ({"drop": 3}, "'drop' must be 0 or 1"),
        ({"id_delimiter": ""}, "'id_delimiter' must not be empty"),
        ({"namespace": "../up"}, "'namespace'"),
        ({"table_name": "a/b"}, "'table_name'"),
        ({"extend_sid": "perhaps"}, "'extend_sid'"),
        ({"heads": 1}, "'heads' is not an upload field"),
    ],
)
def test_a_bad_conf_names_the_field(fields: dict[str, object], named: str) -> None:
    values = {"file": "a.csv", "table_name": "t", "namespace": "ns", **fields}
    with pytest.raises(ComponentParameterError) as raised:
        UploadConf.parse(values)
    assert raised.value.code == 10126
    assert named in raised.value.message
    assert "table_name" in (raised.value.hint or "")


def test_a_conf_needs_its_file_and_table() -> None:
    with pytest.raises(ComponentParameterError) as raised:
        UploadConf.parse({"namespace": "ns"})
    assert "'file' is required" in raised.value.message and "'table_name' is required" in raised.value.message


def test_fate_conf_keys_this_store_does_not_use_are_accepted() -> None:
    parsed = UploadConf.parse(
        {
            "file": "examples/data/breast_hetero_guest.csv",
            "name": "breast_hetero_guest",
            "namespace": "experiment",
            "storage_engine": "EGGROLL",
            "role": "guest",
            "count": 569,
            "use_local_data": 0,
        }
    )
    assert (parsed.table_name, parsed.head, parsed.partition, parsed.id_delimiter) == (
        "breast_hetero_guest",
        1,
        10,
        ",",
    )
    assert (parsed.extend_sid, parsed.drop) == (False, 0)
