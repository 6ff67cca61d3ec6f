"""Fuzzing the CLI with FATE's own jobs, mutated and written to files: only coded errors, never a traceback.

``accord dsl validate`` runs in process (click's CliRunner, exceptions not caught, so a traceback would
fail the test); ``accord job submit`` runs the same way against a real uvicorn serving a site without a
worker (tests/fuzz/test_api_fuzz.py), whose accepted jobs are terminated at once.
"""

from __future__ import annotations

import asyncio
import json
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from click.testing import CliRunner, Result
from hypothesis import currently_in_test_context, given, note
from hypothesis import strategies as st

from accord.cli import main
from accord.errors import error_from_code, exit_code
from accord.server import Site
from tests.fuzz import test_api_fuzz
from tests.fuzz.test_api_fuzz import (
    ALL_MUTATIONS,
    corpus_names,
    corpus_required,
    fuzz_settings,
    implemented_names,
    load_pair,
)
from tests.http_server import full_app, serve_http
from tests.test_dsl_properties import Json, json_values

# The site without a worker of the HTTP fuzz tests, as a fixture of this module too.
idle_site = test_api_fuzz.idle_site

# What a file can be instead of a JSON object.
FILE_KINDS = ["object"] * 6 + [
    "non-object",
    "truncated",
    "invalid utf-8",
    "bom",
    "empty",
    "deep",
    "missing",
    "directory",
    "nan",
    "lone surrogate",
    "binary",
]


def write_document(data: st.DataObject, path: Path, document: Json, what: str) -> Path:
    """Write ``document`` to ``path`` as-is or broken one way; return the path to give the CLI."""
    kind = data.draw(st.sampled_from(FILE_KINDS), label=f"{what} file")
    note(f"{what} file: {kind}")
    text = json.dumps(document, ensure_ascii=False)
    if kind == "non-object":
        text = json.dumps(data.draw(json_values.filter(lambda v: not isinstance(v, dict)), label=what))
    raw = text.encode("utf-8", "surrogatepass")
    if kind == "truncated":
        raw = raw[: data.draw(st.integers(min_value=0, max_value=max(len(raw) - 1, 0)), label="cut")]
    elif kind == "invalid utf-8":
        at = data.draw(st.integers(min_value=0, max_value=len(raw)), label="at")
        raw = raw[:at] + b"\xff\xc3(" + raw[at:]
    elif kind == "bom":
        raw = b"\xef\xbb\xbf" + raw
    elif kind == "empty":
        raw = b""
    elif kind == "deep":
        raw = b'{"components": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    elif kind == "nan":
        raw = json.dumps({"x": float("nan"), **document} if isinstance(document, dict) else document).encode()
    elif kind == "lone surrogate":
        # "\ud800" escaped: valid JSON, a str Python reads, but no UTF-8 encoding of it exists.
        extra = {"\ud800": "\udfff"}
        raw = json.dumps({**document, **extra} if isinstance(document, dict) else document).encode()
    elif kind == "binary":
        raw = data.draw(st.binary(min_size=1, max_size=200), label="bytes")
    if kind == "missing":
        path.unlink(missing_ok=True)
        return path
    if kind == "directory":
        return path.parent
    path.write_bytes(raw)
    return path


def mutated_files(data: st.DataObject, folder: Path) -> tuple[Path, Path]:
    docs = load_pair(data.draw(corpus_names, label="corpus pair"))
    for _ in range(data.draw(st.integers(min_value=0, max_value=3), label="mutations")):
        note(data.draw(st.sampled_from(ALL_MUTATIONS), label="mutation")(data, docs))
    dsl = write_document(data, folder / "dsl.json", docs["dsl"], "dsl")
    conf = write_document(data, folder / "conf.json", docs["conf"], "conf")
    return dsl, conf


def assert_coded_exit(result: Result, *, plain_success: bool = False) -> dict[str, Any] | None:
    """Exit 0, or the exit status of a coded error whose envelope is what the command printed."""
    output = result.output
    if currently_in_test_context():
        note(f"exit {result.exit_code}: {output[:500]}")
    assert "Traceback" not in output, output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    if result.exit_code == 0 and plain_success:
        return None
    envelope = json.loads(result.stdout)
    assert isinstance(envelope, dict), output
    retcode, retmsg = envelope["retcode"], envelope["retmsg"]
    assert isinstance(retcode, int) and isinstance(retmsg, str) and retmsg.strip(), envelope
    if result.exit_code == 0:
        assert retcode == 0, envelope
    else:
        # Not exit 1 with "internal error" (retcode 100): the code the error's family exits with.
        assert retcode not in (0, 100), envelope
        assert result.exit_code == exit_code(error_from_code(retcode, retmsg)) != 1, envelope
    return envelope


@corpus_required
@fuzz_settings(150)
@given(data=st.data(), as_json=st.booleans())
def test_dsl_validate_on_mutated_corpus_files(data: st.DataObject, as_json: bool) -> None:
    with tempfile.TemporaryDirectory() as folder:
        dsl, conf = mutated_files(data, Path(folder))
        args = ["dsl", "validate", "-d", str(dsl), "-c", str(conf), *(["--json"] if as_json else [])]
        result = CliRunner().invoke(main, args, catch_exceptions=False)
    envelope = assert_coded_exit(result, plain_success=not as_json)
    if envelope is not None and envelope["retcode"] == 0:
        assert envelope["data"]["components"]


@pytest.mark.parametrize(
    ("raw", "says"),
    [
        # Found by this fuzz: nesting past Python's recursion limit was an internal error.
        (b'{"components": ' + b"[" * 100_000 + b"]" * 100_000 + b"}", "nested too deeply"),
        (b"\xff\xfe{}", "not UTF-8"),
        (b"", "invalid JSON at line 1"),
        (b"[1]", "top level must be a JSON object"),
    ],
)
def test_dsl_validate_names_what_is_wrong_with_the_file(tmp_path: Path, raw: bytes, says: str) -> None:
    dsl = tmp_path / "dsl.json"
    dsl.write_bytes(raw)
    args = ["dsl", "validate", "-d", str(dsl), "-c", str(dsl)]
    envelope = assert_coded_exit(CliRunner().invoke(main, args, catch_exceptions=False))
    assert envelope is not None and envelope["retcode"] == 10101 and says in envelope["retmsg"], envelope


# ---- accord job submit against a real server -------------------------------------------------------


@pytest_asyncio.fixture(loop_scope="session")
async def idle_server(idle_site: Site) -> AsyncIterator[str]:
    """A real uvicorn serving the idle site's whole API, started as ``accord server`` starts it."""
    settings = idle_site.settings
    async with serve_http(full_app(idle_site), settings.http_host, settings.http_port) as address:
        yield address


@corpus_required
@pytest.mark.asyncio(loop_scope="session")
async def test_job_submit_on_mutated_corpus_files(
    idle_site: Site, idle_server: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ACCORD_CLI_CONF", str(tmp_path / "cli.json"))
    monkeypatch.delenv("ACCORD_SERVER", raising=False)
    monkeypatch.delenv("ACCORD_DEBUG", raising=False)
    loop = asyncio.get_running_loop()

    @fuzz_settings(40)
    @given(data=st.data())
    def check(data: st.DataObject) -> None:
        dsl, conf = mutated_files(data, tmp_path)
        args = ["job", "submit", "-d", str(dsl), "-c", str(conf), "--server", idle_server]
        envelope = assert_coded_exit(CliRunner().invoke(main, args, catch_exceptions=False))
        assert envelope is not None
        if envelope["retcode"] == 0:
            job_id = envelope["jobId"]
            handle = idle_site.temporal.get_workflow_handle(job_id)
            asyncio.run_coroutine_threadsafe(handle.terminate(reason="fuzz test"), loop).result(60)

    # The CLI's HTTP client blocks: run it off the loop that serves the requests.
    await asyncio.to_thread(check)

    # And a job the server accepts goes through the same path to exit 0 with its id.
    docs = load_pair(implemented_names[0])
    dsl, conf = tmp_path / "good_dsl.json", tmp_path / "good_conf.json"
    dsl.write_text(json.dumps(docs["dsl"]))
    conf.write_text(json.dumps(docs["conf"]))
    args = ["job", "submit", "-d", str(dsl), "-c", str(conf), "--server", idle_server]
    result = await asyncio.to_thread(CliRunner().invoke, main, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    await idle_site.temporal.get_workflow_handle(json.loads(result.stdout)["jobId"]).terminate()

    # Found by this fuzz: NaN, which Python reads from a file, cannot be sent as JSON; the CLI says so.
    conf.write_text(json.dumps({**docs["conf"], "x": float("nan")}))
    result = await asyncio.to_thread(CliRunner().invoke, main, args, catch_exceptions=False)
    envelope = assert_coded_exit(result)
    assert envelope is not None and envelope["retcode"] == 101 and "NaN" in envelope["retmsg"]
