"""Malformed uploads through ``/v1/data/upload``: a coded error naming the line; the table before is intact.

tests/storage/test_errors.py refuses the same files at the table store; here they go through the HTTP
API of a real site over a table that already holds data, replaced (``drop: 1``) or merged into
(``drop: 0``), and afterwards that table's count and its download are what they were. A non-numeric
feature is not refused by upload, by design: FATE's upload stores text and DataTransform parses features,
so the job's DataTransform fails naming the row id and the column. A hypothesis test corrupts a small
valid file at random.
"""

from __future__ import annotations

import asyncio
import gzip
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
from hypothesis import given, note
from hypothesis import strategies as st

from accord.api.app import create_app
from accord.errors import DataFormatError, PathNotAllowed, UploadFileError
from accord.status import JobStatus
from tests.api.helpers import stream_upload
from tests.fuzz.test_api_fuzz import LoopBridge, assert_coded_reply, fuzz_settings
from tests.scheduling.harness import RunningSite

pytestmark = pytest.mark.asyncio(loop_scope="session")

NAMESPACE = "fuzz"
HEADER = "id,y,x0,x1"
GOOD_ROWS = [f"{i},{i % 2},{i * 0.5},{i * 1.25}" for i in range(8)]
GOOD = "\n".join([HEADER, *GOOD_ROWS]) + "\n"


@pytest_asyncio.fixture(loop_scope="session")
async def api(site: RunningSite) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(site.site.jobs, tracking=site.site.tracking, tables=site.site.tables)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://accord.test") as c:
        yield c


def upload_conf(path: Path, name: str, drop: int = 1, **fields: Any) -> dict[str, Any]:
    return {"file": str(path), "namespace": NAMESPACE, "table_name": name, "head": 1, "drop": drop, **fields}


async def upload(api: httpx.AsyncClient, conf: dict[str, Any]) -> httpx.Response:
    """The file's bytes streamed, as the CLI sends them (the site reads no path a client names)."""
    fields = {key: value for key, value in conf.items() if key != "file"}
    return await stream_upload(api, Path(conf["file"]), fields)


async def snapshot(api: httpx.AsyncClient, name: str) -> tuple[int, bytes]:
    """The table's count (table_info) and its text (download)."""
    info = (await api.post("/v1/table/table_info", json={"namespace": NAMESPACE, "table_name": name})).json()
    assert info["retcode"] == 0 and info["data"]["exist"] == 1, info
    download = await api.post("/v1/data/download", json={"namespace": NAMESPACE, "table_name": name})
    assert download.status_code == 200
    return info["data"]["count"], download.content


async def good_table(api: httpx.AsyncClient, folder: Path, name: str) -> tuple[int, bytes]:
    source = folder / f"{name}_good.csv"
    source.write_text(GOOD)
    response = await upload(api, upload_conf(source, name))
    assert response.status_code == 200, response.text
    before = await snapshot(api, name)
    assert before == (len(GOOD_ROWS), GOOD.encode())
    return before


def _lines(*rows: str) -> str:
    return "\n".join([HEADER, *rows]) + "\n"


MALFORMED: dict[str, tuple[bytes, int | None, str]] = {
    # name: (file, the line the error names, what the message says); a file without data lines has no
    # line to name, and the message says what is missing instead.
    "ragged row": (_lines(*GOOD_ROWS[:5], "5,1,2.5", *GOOD_ROWS[6:]).encode(), 7, "has 3 fields"),
    "long row": (_lines(*GOOD_ROWS[:2], "2,0,1.0,2.5,9", *GOOD_ROWS[3:]).encode(), 4, "has 5 fields"),
    "duplicate ids": (_lines(*GOOD_ROWS, "3,1,0.0,0.0").encode(), 10, "repeats id '3' of line 5"),
    "empty file": (b"", None, "is empty"),
    "header alone": (f"{HEADER}\n".encode(), None, "no data lines"),
    "blank line": (_lines(*GOOD_ROWS[:3], "", *GOOD_ROWS[3:]).encode(), 5, "is empty"),
    "gzip": (gzip.compress(GOOD.encode()), 1, "line 1"),
    "NUL byte": (_lines(*GOOD_ROWS[:3], "3,1,0.\x005,1.0").encode(), 5, "0x00"),
    "latin-1": (_lines(*GOOD_ROWS[:6], "6,0,Zoë,1.0").encode("latin-1"), 8, "0xeb"),
    "utf-16": (GOOD.encode("utf-16"), 1, "line 1"),
    "random bytes": (bytes(range(256)) * 4, 1, "line 1"),
}


@pytest.mark.parametrize("drop", [1, 0], ids=["replace", "merge"])
@pytest.mark.parametrize("kind", sorted(MALFORMED))
async def test_malformed_upload_names_the_line_and_keeps_the_table(
    api: httpx.AsyncClient, tmp_path: Path, kind: str, drop: int
) -> None:
    name = f"t_{drop}_{abs(hash(kind)) % 10**8}"
    before = await good_table(api, tmp_path, name)
    raw, line, says = MALFORMED[kind]
    source = tmp_path / "bad.csv"
    source.write_bytes(raw)

    response = await upload(api, upload_conf(source, name, drop=drop))

    envelope = assert_coded_reply(response)
    assert (response.status_code, envelope["retcode"]) == (400, UploadFileError.code), envelope
    message = envelope["retmsg"]
    assert repr(source.name) in message and says in message, message
    if line is not None:
        assert f"line {line}" in message and envelope["data"]["line"] == line, envelope
    assert await snapshot(api, name) == before


async def test_a_server_path_keeps_the_table(api: httpx.AsyncClient, tmp_path: Path) -> None:
    before = await good_table(api, tmp_path, "kept")
    response = await api.post("/v1/data/upload", json=upload_conf(tmp_path / "nope.csv", "kept"))
    envelope = assert_coded_reply(response)
    assert envelope["retcode"] == PathNotAllowed.code and "upload_roots" in envelope["retmsg"]
    assert await snapshot(api, "kept") == before


# ---- a non-numeric feature: refused by DataTransform, naming the row and the column ------------------


def transform_job(guest_table: str, host_table: str) -> tuple[dict[str, Any], dict[str, Any]]:
    dsl = {
        "components": {
            "reader_0": {"module": "Reader", "output": {"data": ["data"]}},
            "data_transform_0": {
                "module": "DataTransform",
                "input": {"data": {"data": ["reader_0.data"]}},
                "output": {"data": ["data"], "model": ["model"]},
            },
        }
    }
    conf = {
        "dsl_version": 2,
        "initiator": {"role": "guest", "party_id": 9999},
        "role": {"guest": [9999], "host": [10000]},
        "component_parameters": {
            "role": {
                "guest": {
                    "0": {
                        "reader_0": {"table": {"name": guest_table, "namespace": NAMESPACE}},
                        "data_transform_0": {"with_label": True, "label_name": "y"},
                    }
                },
                "host": {
                    "0": {
                        "reader_0": {"table": {"name": host_table, "namespace": NAMESPACE}},
                        "data_transform_0": {"with_label": False},
                    }
                },
            }
        },
    }
    return dsl, conf


async def test_a_non_numeric_feature_is_uploaded_and_data_transform_names_row_and_column(
    site: RunningSite, api: httpx.AsyncClient, tmp_path: Path
) -> None:
    guest = tmp_path / "guest.csv"
    guest.write_text(_lines(*GOOD_ROWS[:5], "5,1,2.5,abc", *GOOD_ROWS[6:]))
    host = tmp_path / "host.csv"
    host.write_text("id,h0\n" + "".join(f"{i},{i * 0.1}\n" for i in range(8)))
    for path, name in ((guest, "text_guest"), (host, "text_host")):
        response = await upload(api, upload_conf(path, name))
        # By design: upload stores text as FATE's does; features are parsed by DataTransform.
        assert response.status_code == 200 and response.json()["data"]["count"] == 8, response.text

    dsl, conf = transform_job("text_guest", "text_host")
    body = {"job_dsl": dsl, "job_runtime_conf": conf}
    submitted = assert_coded_reply(await api.post("/v1/job/submit", json=body))
    job_id = submitted["jobId"]
    await asyncio.wait_for(site.site.jobs.wait(job_id), 120)

    query = {"job_id": job_id, "role": "guest"}
    rows = assert_coded_reply(await api.post("/v1/job/query", json=query))["data"]
    assert rows[0]["f_status"] == JobStatus.FAILED.value, rows[0]
    reason = rows[0]["f_status_reason"]
    assert "data_transform_0" in reason and "row '5', column 'x1': 'abc' is not a number" in reason, reason
    assert DataFormatError.__name__ in reason, reason


# ---- random corruptions of a small valid file --------------------------------------------------------


@st.composite
def corrupted_files(draw: st.DrawFn) -> tuple[str, bytes]:
    lines = [HEADER, *GOOD_ROWS]
    how = draw(
        st.sampled_from(
            [
                "drop field",
                "extra field",
                "repeat id",
                "blank line",
                "nul",
                "invalid utf-8",
                "truncate",
                "cr inside",
                "crlf",
                "text cell",
                "binary",
                "delimiter",
            ]
        ),
        label="corruption",
    )
    row = draw(st.integers(min_value=1, max_value=len(lines) - 1), label="row")
    fields = lines[row].split(",")
    if how == "drop field":
        del fields[draw(st.integers(min_value=1, max_value=len(fields) - 1))]
        lines[row] = ",".join(fields)
    elif how == "extra field":
        lines[row] += "," + draw(st.text(alphabet="0123456789.abc", max_size=4))
    elif how == "repeat id":
        other = lines[draw(st.integers(min_value=1, max_value=len(lines) - 1))]
        lines[row] = ",".join([other.split(",")[0], *fields[1:]])
    elif how == "blank line":
        lines.insert(row, "")
    elif how == "text cell":
        cell = draw(st.text(alphabet="abcNA-? ", min_size=1, max_size=5))
        fields[draw(st.integers(min_value=2, max_value=3))] = cell
        lines[row] = ",".join(fields)
    elif how == "delimiter":
        lines[row] = lines[row].replace(",", draw(st.sampled_from([";", "\t", " ", "|"])))
    text = "\n".join(lines) + "\n"
    raw = text.encode()
    at = draw(st.integers(min_value=0, max_value=len(raw) - 1), label="byte")
    if how == "nul":
        raw = raw[:at] + b"\x00" + raw[at:]
    elif how == "invalid utf-8":
        raw = raw[:at] + draw(st.sampled_from([b"\xff", b"\xc3", b"\xe9", b"\xed\xa0\x80"])) + raw[at:]
    elif how == "truncate":
        raw = raw[:at]
    elif how == "cr inside":
        raw = raw[:at] + b"\r" + raw[at:]
    elif how == "crlf":
        raw = raw.replace(b"\n", b"\r\n")
    elif how == "binary":
        raw = draw(st.binary(min_size=1, max_size=300))
    return how, raw


async def test_random_corruptions_are_stored_or_refused_by_line_and_never_harm_the_table(
    api: httpx.AsyncClient, tmp_path: Path
) -> None:
    bridge = LoopBridge(asyncio.get_running_loop())
    before = await good_table(api, tmp_path, "target")
    good = tmp_path / "target_good.csv"
    source = tmp_path / "corrupt.csv"
    outcomes: set[str] = set()

    @fuzz_settings(80)
    @given(corrupted=corrupted_files(), drop=st.sampled_from([0, 1]))
    def check(corrupted: tuple[str, bytes], drop: int) -> None:
        how, raw = corrupted
        note(f"{how}: {raw[:300]!r}")
        source.write_bytes(raw)
        response = bridge.run(lambda: upload(api, upload_conf(source, "target", drop=drop)))
        envelope = assert_coded_reply(response)
        if response.status_code == 200:
            outcomes.add("stored")
            # Stored: the file was a table after all (a text cell, a trailing line cut cleanly, CRLF).
            assert envelope["data"]["count"] >= 1
            restored = bridge.run(lambda: upload(api, upload_conf(good, "target", drop=1)))
            assert restored.status_code == 200, restored.text
        else:
            outcomes.add("refused")
            assert envelope["retcode"] == UploadFileError.code, envelope
            line = (envelope["data"] or {}).get("line")
            if line is None:  # nothing to point at: no line at all, or no data line
                assert "is empty" in envelope["retmsg"] or "no data lines" in envelope["retmsg"], envelope
            else:
                assert isinstance(line, int) and 1 <= line <= raw.count(b"\n") + 1, envelope
                assert f"line {line}" in envelope["retmsg"], envelope
        assert bridge.run(lambda: snapshot(api, "target")) == before

    await asyncio.to_thread(check)
    assert outcomes == {"stored", "refused"}
