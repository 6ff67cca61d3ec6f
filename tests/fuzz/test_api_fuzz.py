"""Fuzzing the HTTP API with FATE's own jobs, mutated: every reply is a coded envelope, never a 5xx.

The bodies start from real DSL/conf pairs of FATE's example testsuites (tests/corpus.py) and go through
the mutations of tests/test_dsl_properties.py plus the ones below (random JSON at random paths, huge and
unicode strings, bad role indexes, negative party ids, unknown modules, cycles), then through mutations
of the request itself (non-object bodies, bodies that are not JSON). A second test sends random JSON to
every POST path of the OpenAPI document.

The site has no worker: a job the API accepts starts a workflow nobody runs, which the test terminates
at once, so accepted jobs neither pile up nor touch anything else. Hypothesis runs in a thread and hands
each request to the session's event loop, where the site and its Temporal client live.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from functools import cache
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
import pytest_asyncio
from hypothesis import HealthCheck, event, given, note, settings
from hypothesis import strategies as st
from temporalio.testing import WorkflowEnvironment

from accord.server import Site, start_site
from accord.storage import UploadConf
from tests.corpus import corpus_jobs, load
from tests.http_server import full_app
from tests.scheduling.harness import site_settings
from tests.test_dsl_properties import (
    MUTATIONS,
    Json,
    _all_paths,
    _at,
    _components,
    _object_paths,
    json_values,
)

pytestmark = pytest.mark.asyncio(loop_scope="session")

T = TypeVar("T")
JSON_TYPE = {"content-type": "application/json"}
REQUEST_TIMEOUT_S = 60.0


def fuzz_settings(max_examples: int) -> settings:
    return settings(
        max_examples=max_examples,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[HealthCheck.too_slow],
    )


# ---- a site without a worker, its whole API in process ---------------------------------------------


@pytest_asyncio.fixture(loop_scope="session")
async def idle_site(temporal_env: WorkflowEnvironment, tmp_path: Path) -> AsyncIterator[Site]:
    """A real site (SQLite, tables, models, serving) whose task queue no worker polls."""
    address = temporal_env.client.service_client.config.target_host
    site = await start_site(site_settings(tmp_path / "idle", address), temporal=temporal_env.client)
    # A standalone submit refuses a Reader naming a table the site lacks: give it every corpus table.
    await asyncio.to_thread(_stand_in_tables, site, tmp_path / "stand-in.csv")
    yield site
    await site.stop()


def _stand_in_tables(site: Site, source: Path) -> None:
    """A one-row table under every (namespace, name) a corpus conf's Reader names."""
    source.write_text("id,x0\n1,0.5\n", encoding="utf-8")
    for table in sorted(_reader_tables()):
        namespace, name = table
        conf = UploadConf.parse({"file": str(source), "namespace": namespace, "table_name": name})
        site.tables.upload_file(conf, source)


def _reader_tables() -> set[tuple[str, str]]:
    found: set[tuple[str, str]] = set()
    for _, conf_text in corpus_pairs().values():
        roles = (json.loads(conf_text).get("component_parameters") or {}).get("role") or {}
        for parties in roles.values():
            for components in (parties or {}).values():
                for parameters in (components or {}).values():
                    table = parameters.get("table") if isinstance(parameters, dict) else None
                    if isinstance(table, dict) and table.get("namespace") and table.get("name"):
                        found.add((str(table["namespace"]), str(table["name"])))
    return found


@pytest_asyncio.fixture(loop_scope="session")
async def full_api(idle_site: Site) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=full_app(idle_site))
    async with httpx.AsyncClient(transport=transport, base_url="http://accord.test") as client:
        yield client


class LoopBridge:
    """Runs coroutines on the test's event loop from the thread hypothesis runs in."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop

    def run(self, make: Callable[[], Awaitable[T]]) -> T:
        async def call() -> T:
            return await make()

        return asyncio.run_coroutine_threadsafe(call(), self.loop).result(REQUEST_TIMEOUT_S)


# ---- what every reply promises ------------------------------------------------------------------


# The HTTP status each retcode family answers with (accord.errors.http_status).
STATUS_OF_FAMILY = {101: 400, 102: 400, 103: 409, 108: 403, 109: 401, 404: 404}


def assert_coded_reply(response: httpx.Response) -> dict[str, Any]:
    """A reply under 500 carrying the envelope; a refusal has a coded retcode and a readable retmsg."""
    text = response.text
    assert response.status_code < 500, text[:2000]
    assert "Traceback" not in text, text[:2000]
    assert response.headers.get("content-type", "").startswith("application/json"), response.headers
    envelope = response.json()
    assert isinstance(envelope, dict) and {"retcode", "retmsg", "data"} <= set(envelope), envelope
    retcode, retmsg = envelope["retcode"], envelope["retmsg"]
    assert isinstance(retcode, int) and not isinstance(retcode, bool), envelope
    assert isinstance(retmsg, str) and retmsg.strip(), envelope
    if response.status_code == 200:
        assert retcode == 0, envelope
    else:
        assert retcode not in (0, 100), envelope
        family = retcode if retcode < 1000 else retcode // 100
        assert STATUS_OF_FAMILY.get(family) == response.status_code, (response.status_code, envelope)
    return envelope


# ---- the corpus -----------------------------------------------------------------------------------


@cache
def corpus_pairs() -> dict[str, tuple[str, str]]:
    """Every FATE testsuite task: id -> (DSL text, conf text)."""
    try:
        jobs = corpus_jobs()
    except RuntimeError:
        return {}
    return {job.id: (json.dumps(load(job.dsl_path)), json.dumps(load(job.conf_path))) for job in jobs}


def load_pair(name: str) -> dict[str, Json]:
    dsl, conf = corpus_pairs()[name]
    return {"dsl": json.loads(dsl), "conf": json.loads(conf)}


corpus_required = pytest.mark.skipif(not corpus_pairs(), reason="the FATE example corpus is missing")
# Pairs whose modules this site implements get past the compiler to the site's own checks and, unmutated,
# are accepted; they are sampled as often as all the others together.
IMPLEMENTED = ("hetero_logistic_regression/", "intersect/", "data_transform/", "homo_logistic_regression/")
implemented_names = sorted(n for n in corpus_pairs() if n.startswith(IMPLEMENTED)) or [""]
corpus_names = st.one_of(st.sampled_from(implemented_names), st.sampled_from(sorted(corpus_pairs()) or [""]))


# ---- mutations beyond tests/test_dsl_properties.py ---------------------------------------------------

HUGE_OR_ODD_STRINGS = [
    "x" * 200_000,
    "é" * 50_000,
    "😀" * 1000,
    "\u202eevil",
    "\x00",
    "\ud800",  # a lone surrogate: valid in JSON escapes, not encodable as UTF-8
    "../../etc/passwd",
    "a.b.c",
    "0|x",
    " ",
    "",
]
odd_strings: st.SearchStrategy[str] = st.one_of(
    st.sampled_from(HUGE_OR_ODD_STRINGS), st.text(max_size=20), st.text(min_size=1000, max_size=3000)
)
wild_values: st.SearchStrategy[Json] = st.one_of(json_values, odd_strings, st.integers(min_value=-(2**80)))


def random_json_at_path(data: st.DataObject, docs: dict[str, Json]) -> str:
    which = data.draw(st.sampled_from(["dsl", "conf"]), label="document")
    doc = docs[which]
    if data.draw(st.booleans(), label="new key"):
        path = data.draw(st.sampled_from(_object_paths(doc) or [()]), label="object")
        holder = _at(doc, path)
        key = data.draw(odd_strings, label="key")
        if isinstance(holder, dict):
            holder[key] = data.draw(wild_values, label="value")
        return f"add {which}{list(path)}[{key[:40]!r}]"
    paths = _all_paths(doc)
    if not paths:
        return "random json: nothing to replace"
    path = data.draw(st.sampled_from(paths), label="path")
    _at(doc, path[:-1])[path[-1]] = value = data.draw(wild_values, label="value")
    return f"set {which}{list(path)} = {repr(value)[:80]}"


def odd_string_leaf(data: st.DataObject, docs: dict[str, Json]) -> str:
    which = data.draw(st.sampled_from(["dsl", "conf"]), label="document")
    paths = [p for p in _all_paths(docs[which]) if isinstance(_at(docs[which], p), str)]
    if not paths:
        return "odd string: no strings"
    path = data.draw(st.sampled_from(paths), label="string")
    value = data.draw(odd_strings, label="odd string")
    _at(docs[which], path[:-1])[path[-1]] = value
    return f"string {which}{list(path)} = {value[:40]!r} ({len(value)} chars)"


BAD_ROLE_INDEXES = ["0|x", "x", "-1", "99", "all|0", "", "0|", "1.0", "²", "0,1"]


def bad_role_index(data: st.DataObject, docs: dict[str, Json]) -> str:
    conf = docs["conf"]
    if not isinstance(conf, dict):
        return "role index: conf is not an object"
    params = conf.setdefault("component_parameters", {})
    if not isinstance(params, dict):
        return "role index: component_parameters is not an object"
    by_role = params.setdefault("role", {})
    if not isinstance(by_role, dict):
        return "role index: component_parameters.role is not an object"
    role = data.draw(st.sampled_from(["guest", "host", "arbiter", "boss"]), label="role")
    index = data.draw(st.one_of(st.sampled_from(BAD_ROLE_INDEXES), st.text(max_size=5)), label="index")
    names = sorted(_components(docs["dsl"])) or ["reader_0"]
    component = data.draw(st.sampled_from(names), label="component")
    sections = by_role.setdefault(role, {})
    if isinstance(sections, dict):
        sections[index] = {component: {"table": {"name": "t", "namespace": "ns"}}}
    return f"component_parameters.role.{role}[{index!r}].{component}"


def negative_party_id(data: st.DataObject, docs: dict[str, Json]) -> str:
    conf = docs["conf"]
    roles = conf.get("role") if isinstance(conf, dict) else None
    if not isinstance(roles, dict) or not roles:
        return "negative party: no roles"
    role = data.draw(st.sampled_from(sorted(roles)), label="role")
    value = data.draw(st.integers(max_value=-1) | st.sampled_from([-0.5, "-9999"]), label="party id")
    ids = roles[role]
    roles[role] = [value, *(ids[1:] if isinstance(ids, list) else [])]
    return f"role.{role}[0] = {value!r}"


def unknown_module(data: st.DataObject, docs: dict[str, Json]) -> str:
    components = _components(docs["dsl"])
    if not components:
        return "unknown module: no components"
    name = data.draw(st.sampled_from(sorted(components)), label="component")
    module = data.draw(
        st.one_of(st.sampled_from(["NoSuchModule", "reader", "HeteroLr", "", "Reader "]), odd_strings),
        label="module",
    )
    if isinstance(components[name], dict):
        components[name]["module"] = module
    return f"{name}.module = {module[:40]!r}"


def add_cycle(data: st.DataObject, docs: dict[str, Json]) -> str:
    """Make a component read the output of one that (maybe indirectly) reads it, or its own output."""
    components = {k: v for k, v in _components(docs["dsl"]).items() if isinstance(v, dict)}
    if not components:
        return "cycle: no components"
    names = sorted(components)
    first = data.draw(st.sampled_from(names), label="reader of")
    last = data.draw(st.sampled_from(names), label="read")
    body = components[first]
    inputs = body.setdefault("input", {})
    if not isinstance(inputs, dict):
        return "cycle: input is not an object"
    section = inputs.setdefault("data", {})
    if isinstance(section, dict):
        slot = section.setdefault("data", [])
        if isinstance(slot, list):
            slot.append(f"{last}.data")
    outputs = components[last].setdefault("output", {})
    if isinstance(outputs, dict):
        outputs.setdefault("data", ["data"])
    # And the other way round, so the two read each other.
    other = components[last].setdefault("input", {})
    if isinstance(other, dict) and first != last:
        other_data = other.setdefault("data", {})
        if isinstance(other_data, dict):
            other_data["data"] = [f"{first}.data"]
    return f"cycle {first} <-> {last}"


ALL_MUTATIONS = (
    *MUTATIONS,
    random_json_at_path,
    odd_string_leaf,
    bad_role_index,
    negative_party_id,
    unknown_module,
    add_cycle,
)


# ---- mutations of the request itself ----------------------------------------------------------------


def _dumps(body: Json) -> bytes:
    """JSON as a client would send it; NaN and Infinity come out as Python writes them."""
    return json.dumps(body).encode()


def _garble(data: st.DataObject, raw: bytes) -> tuple[str, bytes]:
    how = data.draw(
        st.sampled_from(
            ["truncate", "insert byte", "invalid utf-8", "bom", "latin-1", "trailing", "deep", "empty"]
        ),
        label="garble",
    )
    at = data.draw(st.integers(min_value=0, max_value=max(len(raw) - 1, 0)), label="at")
    if how == "truncate":
        return how, raw[:at]
    if how == "insert byte":
        byte = data.draw(st.binary(min_size=1, max_size=3), label="bytes")
        return how, raw[:at] + byte + raw[at:]
    if how == "invalid utf-8":
        return how, raw[:at] + b"\xff\xfe\xc3" + raw[at:]
    if how == "bom":
        return how, b"\xef\xbb\xbf" + raw
    if how == "latin-1":
        return how, json.dumps(json.loads(raw), ensure_ascii=False).encode("utf-8").replace(b"\xc3", b"\xe9")
    if how == "trailing":
        return how, raw + b" }{"
    if how == "deep":
        depth = data.draw(st.sampled_from([100, 1000, 100_000]), label="depth")
        return f"deep {depth}", b'{"job_dsl": ' + b"[" * depth + b"]" * depth + b"}"
    return how, b""


def submit_request(data: st.DataObject) -> tuple[bytes, dict[str, str]]:
    """A mutated corpus pair as the raw bytes and headers of a POST /v1/job/submit."""
    draw = data.draw
    docs = load_pair(draw(corpus_names, label="corpus pair"))
    for _ in range(draw(st.integers(min_value=0, max_value=3), label="mutations")):
        mutation = draw(st.sampled_from(ALL_MUTATIONS), label="mutation")
        note(mutation(data, docs))
    body: Json = {"job_dsl": docs["dsl"], "job_runtime_conf": docs["conf"]}
    shape = draw(
        st.sampled_from(["object"] * 6 + ["wrapper", "non-object", "garbled", "content-type"]), label="shape"
    )
    headers = dict(JSON_TYPE)
    if shape == "wrapper":
        change = draw(st.sampled_from(["drop dsl", "drop conf", "swap", "extra", "rename", "null"]))
        if change == "drop dsl":
            del body["job_dsl"]
        elif change == "drop conf":
            del body["job_runtime_conf"]
        elif change == "swap":
            body = {"job_dsl": body["job_runtime_conf"], "job_runtime_conf": body["job_dsl"]}
        elif change == "extra":
            body[draw(odd_strings, label="extra key")] = draw(wild_values, label="extra value")
        elif change == "rename":
            body = {"dsl": body["job_dsl"], "conf": body["job_runtime_conf"]}
        else:
            body["job_dsl"] = None
        note(f"wrapper: {change}")
    elif shape == "non-object":
        body = draw(
            st.one_of(
                st.just(docs["dsl"]),
                st.just([docs["dsl"], docs["conf"]]),
                st.sampled_from([None, 0, 1.5, True, "job_dsl", []]),
                json_values.filter(lambda value: not isinstance(value, dict)),
            ),
            label="non-object body",
        )
        note(f"non-object body: {repr(body)[:80]}")
    raw = _dumps(body)
    if shape == "garbled":
        how, raw = _garble(data, raw)
        note(f"garbled: {how}")
    if shape == "content-type":
        headers = {"content-type": draw(st.sampled_from(["text/plain", "application/xml", "", "json"]))}
        note(f"content-type {headers['content-type']!r}")
    return raw, headers


@pytest.fixture
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Run from a scratch directory: fuzzed paths such as an upload's ``file`` resolve under it."""
    monkeypatch.chdir(tmp_path)
    yield tmp_path


@corpus_required
async def test_mutated_corpus_jobs_get_coded_replies(
    idle_site: Site, full_api: httpx.AsyncClient, in_tmp: Path
) -> None:
    bridge = LoopBridge(asyncio.get_running_loop())
    accepted: list[str] = []

    async def terminate(job_id: str) -> None:
        await idle_site.temporal.get_workflow_handle(job_id).terminate(reason="fuzz test")

    @fuzz_settings(150)
    @given(data=st.data())
    def check(data: st.DataObject) -> None:
        raw, headers = submit_request(data)
        response = bridge.run(lambda: full_api.post("/v1/job/submit", content=raw, headers=headers))
        note(f"-> {response.status_code} {response.text[:300]}")
        envelope = assert_coded_reply(response)
        event(f"{response.status_code} {envelope['retcode']}")
        if response.status_code == 200:
            job_id = envelope["jobId"]
            assert isinstance(job_id, str) and envelope["data"]["job_id"] == job_id
            accepted.append(job_id)
            bridge.run(lambda: terminate(job_id))

    await asyncio.to_thread(check)
    # The unmutated pairs of implemented modules are accepted: the fuzz reaches past the compiler.
    assert accepted


# ---- every POST path, random JSON -------------------------------------------------------------------


Schema = dict[str, Any]


def post_operations(document: dict[str, Any]) -> dict[str, Schema]:
    """POST path -> the schema of its JSON body, ``$ref`` resolved in it and in its fields."""
    schemas = document["components"]["schemas"]

    def resolve(schema: Schema) -> Schema:
        if "$ref" in schema:
            return resolve(schemas[schema["$ref"].rsplit("/", 1)[-1]])
        if "anyOf" in schema:
            return {**schema, "anyOf": [resolve(option) for option in schema["anyOf"]]}
        return schema

    found: dict[str, Schema] = {}
    for path, methods in document["paths"].items():
        operation = methods.get("post")
        if operation is None:
            continue
        content = operation.get("requestBody", {}).get("content", {})
        body = resolve(content.get("application/json", {}).get("schema", {}))
        fields = {name: resolve(field) for name, field in body.get("properties", {}).items()}
        found[path] = {**body, "properties": fields}
    return found


def typed_values(schema: Schema) -> st.SearchStrategy[Json]:
    """Values of the field's own type, mostly valid and near its bounds, so requests get past parsing."""
    if "anyOf" in schema:
        return st.one_of([typed_values(option) for option in schema["anyOf"]])
    if "enum" in schema:
        return st.one_of(st.sampled_from(schema["enum"]), st.sampled_from(["", "Guest", "unknown"]))
    kind = schema.get("type")
    if kind == "string":
        return st.one_of(
            st.sampled_from(["guest", "host", "9999", "experiment", "reader_0", "202401011200000000000"]),
            st.text(max_size=12),
            odd_strings,
        )
    if kind == "integer":
        return st.one_of(
            st.sampled_from([0, 1, -1, 9999, 10000, 2**63 - 1, 2**63]), st.integers(min_value=-(2**70))
        )
    if kind == "number":
        return st.floats(allow_nan=True, allow_infinity=True)
    if kind == "boolean":
        return st.one_of(st.booleans(), st.sampled_from([0, 1, "true", "no"]))
    if kind == "null":
        return st.none()
    return json_values


@st.composite
def bodies_for(draw: st.DrawFn, schema: Schema) -> tuple[bytes, dict[str, str]]:
    """A body for an endpoint: mostly its own fields with values of their type, sometimes anything."""
    fields: dict[str, Schema] = schema["properties"]
    required = set(schema.get("required", ()))
    kind = draw(st.sampled_from(["fields"] * 6 + ["any json", "garbage", "zip"]), label="kind")
    if kind == "any json":
        return _dumps(draw(json_values, label="body")), dict(JSON_TYPE)
    if kind == "garbage":
        return draw(st.binary(max_size=64), label="bytes"), dict(JSON_TYPE)
    if kind == "zip":
        zipped = b"PK\x03\x04" + draw(st.binary(max_size=64), label="bytes")
        return zipped, {"content-type": "application/zip"}
    if draw(st.integers(min_value=0, max_value=3), label="complete"):
        # The required fields and some optional ones: such bodies get past parsing into the endpoint.
        names = [n for n in sorted(fields) if n in required or draw(st.booleans(), label=f"with {n}")]
    else:
        names = draw(st.lists(st.sampled_from(sorted(fields) or ["x"]), unique=True), label="fields")
    body: dict[str, Json] = {}
    for name in names:
        typed = typed_values(fields.get(name, {}))
        body[name] = draw(st.one_of(typed, typed, typed, wild_values), label=name)
    if draw(st.integers(min_value=0, max_value=9), label="extra field") == 0:
        body[draw(st.text(max_size=6), label="extra name")] = draw(json_values, label="extra value")
    return _dumps(body), dict(JSON_TYPE)


async def test_random_json_to_every_post_path_is_never_a_server_error(
    full_api: httpx.AsyncClient, in_tmp: Path
) -> None:
    bridge = LoopBridge(asyncio.get_running_loop())
    operations = post_operations((await full_api.get("/openapi.json")).json())
    assert {"/v1/job/submit", "/v1/data/upload", "/v1/model/import", "/v1/tracking/component/list"} <= set(
        operations
    )
    # Nesting deeper than Python's recursion limit, to every path.
    deep = b"[" * 100_000 + b"]" * 100_000
    for path in operations:
        assert_coded_reply(await full_api.post(path, content=deep, headers=JSON_TYPE))
    seen: set[str] = set()

    @fuzz_settings(250)
    @given(data=st.data())
    def check(data: st.DataObject) -> None:
        path = data.draw(st.sampled_from(sorted(operations)), label="path")
        raw, headers = data.draw(bodies_for(operations[path]), label="body")
        note(f"POST {path} {raw[:200]!r}")
        response = bridge.run(lambda: full_api.post(path, content=raw, headers=headers))
        note(f"-> {response.status_code} {response.text[:300]}")
        if path.endswith("/download") and response.status_code == 200:
            return  # a file, not an envelope
        event(f"{path} {response.status_code} {assert_coded_reply(response)['retcode']}")
        seen.add(path)

    await asyncio.to_thread(check)
    assert len(seen) >= len(operations) // 2


@pytest.mark.parametrize(
    ("path", "body"),
    [
        # Found by tests/fuzz/test_openapi_schemathesis.py: a NUL in the archive path was a 500.
        ("/v1/model/import", {"file": "a\x00b.zip"}),
        ("/v1/data/upload", {"file": "a\x00b.csv", "namespace": "ns", "table_name": "t"}),
        ("/v1/data/download", {"namespace": "ns", "table_name": "t", "output_path": "a\x00b"}),
    ],
)
async def test_a_nul_byte_in_a_path_is_a_coded_refusal(
    full_api: httpx.AsyncClient, in_tmp: Path, path: str, body: dict[str, Any]
) -> None:
    response = await full_api.post(path, json=body)
    # 403: the site reads no server path outside upload_roots and writes none at all.
    assert response.status_code in (400, 403, 404)
    assert_coded_reply(response)
