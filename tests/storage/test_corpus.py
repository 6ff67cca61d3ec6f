"""Every data file of FATE's examples, uploaded with its testsuites' confs and downloaded again.

The reference is the file itself: the download must be the same bytes, and the stored rows the same
fields a plain ``str.split`` of each line gives.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from accord.errors import UploadFileError
from accord.storage import TableStore, UploadConf
from tests.corpus import DSL_V2, FATE_ROOT

from .helpers import conf, reference, rows_of

DATA = FATE_ROOT / "examples" / "data"
UPLOAD_FIELDS = ("head", "id_delimiter", "extend_sid", "auto_increasing_sid")
# Its second line has one field fewer than its first: no conf makes it a table of fixed width.
RAGGED = "tag.csv"


def _testsuite_confs() -> list[dict[str, Any]]:
    """The distinct upload confs FATE's testsuites use, keyed by file and the fields that shape it."""
    suites = [*DSL_V2.glob("*/*testsuite*.json"), *(DATA / "upload_config").glob("*.json")]
    seen: dict[tuple[Any, ...], dict[str, Any]] = {}
    for suite in sorted(suites):
        for entry in json.loads(suite.read_text()).get("data", []):
            key = (entry["file"], *(entry.get(field) for field in UPLOAD_FIELDS))
            seen.setdefault(key, entry)
    return list(seen.values())


def _cases() -> list[Any]:
    confs = _testsuite_confs()
    uploaded = {Path(entry["file"]).name for entry in confs}
    cases = [pytest.param(entry, id=_case_id(entry)) for entry in confs]
    # The corpus files no testsuite uploads get FATE's default conf.
    for path in sorted(DATA.glob("*.csv")):
        if path.name not in uploaded and path.name != RAGGED:
            entry = {"file": f"examples/data/{path.name}", "head": 1}
            cases.append(pytest.param(entry, id=f"{path.stem}-default"))
    return cases


def _case_id(entry: dict[str, Any]) -> str:
    shape = "-".join(f"{field}={entry[field]}" for field in UPLOAD_FIELDS if field in entry)
    return f"{Path(entry['file']).stem}-{shape}"


@pytest.mark.parametrize("entry", _cases())
def test_upload_then_download_gives_the_file_back(
    store: TableStore, tmp_path: Path, entry: dict[str, Any]
) -> None:
    source = FATE_ROOT / entry["file"]
    if not source.exists():
        pytest.skip(f"{entry['file']} is named by a testsuite but is not in the corpus")
    name = re.sub(r"\W", "_", source.stem)
    fields = {key: value for key, value in entry.items() if key in ("file", "partition", *UPLOAD_FIELDS)}
    upload = UploadConf.parse({**fields, "table_name": name, "namespace": "experiment"})
    # Testsuites name files relative to FATE's project directory.
    info = store.upload(upload, search_dirs=[FATE_ROOT])

    head = bool(upload.head)
    expected = reference(source, head=head, delimiter=upload.id_delimiter)
    assert info.count == len(expected.rows)
    assert info.partitions == upload.partition
    raw = store.read("experiment", name)
    rows = rows_of(raw)
    if upload.extend_sid:
        ids = [row[0] for row in rows]
        assert len(set(ids)) == len(ids)
        assert [row[1:] for row in rows] == expected.rows
        assert raw.sid == "extend_sid"
        assert raw.header == (expected.header or [])
    else:
        assert rows == expected.rows
        if expected.header is not None:
            assert [raw.sid, *raw.header] == expected.header
        else:
            assert (raw.sid, raw.header) == ("", [])

    output = tmp_path / "download.csv"
    assert store.download("experiment", name, output) == info.count
    assert output.read_bytes() == source.read_bytes()


def test_the_corpus_has_files_to_test() -> None:
    assert len(_testsuite_confs()) > 40
    assert len(list(DATA.glob("*.csv"))) > 50


def test_a_file_whose_lines_differ_in_width_is_refused_and_uploads_as_whole_lines(
    store: TableStore, tmp_path: Path
) -> None:
    source = DATA / RAGGED
    lines = source.read_text().split("\n")
    widths = [len(line.split(",")) for line in lines]
    assert widths[0] != widths[1]
    for head in (1, 0):
        with pytest.raises(UploadFileError) as raised:
            store.upload(conf(source, head=head))
        assert raised.value.details["line"] == 2
        assert f"has {widths[1]} fields" in raised.value.message
    # The way to keep such a file: generated ids, and a delimiter it does not contain (one field a line).
    info = store.upload(conf(source, name="tags", head=0, extend_sid=True, id_delimiter="\t"))
    assert info.count == len(lines)
    assert [row[1] for row in rows_of(store.read("ns", "tags"))] == lines
    store.download("ns", "tags", tmp_path / "tags.csv")
    assert (tmp_path / "tags.csv").read_bytes() == source.read_bytes()
