"""The module catalog knows every FATE module of the corpus and the inputs and outputs it is given."""

import json
from pathlib import Path
from typing import Any

import pytest

from accord.dsl_compiler.catalog import DATA_SLOTS, MODULES, ROLES, ModuleSpec, lookup, suggest
from tests.corpus import DSL_V2 as CORPUS

DSL_FILES = sorted(p for p in CORPUS.rglob("*dsl*.json") if "testsuite" not in p.name)


def _kinds(spec: ModuleSpec) -> tuple[set[str], set[str]]:
    """(input kinds, output kinds) a spec accepts, as DSL v2 names them; data slots stand for input.data."""
    inputs = {
        "model": spec.model_input,
        "isometric_model": spec.isometric_model_input,
        "cache": spec.cache_input,
    }
    outputs = {"data": spec.data_output, "model": spec.model_output, "cache": spec.cache_output}
    return set(spec.data_inputs) | {k for k, on in inputs.items() if on}, {
        k for k, on in outputs.items() if on
    }


def test_corpus_is_present() -> None:
    assert CORPUS.is_dir(), f"FATE example corpus not found at {CORPUS}"
    assert len(DSL_FILES) > 100


@pytest.mark.parametrize("dsl", DSL_FILES, ids=lambda p: p.relative_to(CORPUS).as_posix())
def test_corpus_dsl_is_accepted(dsl: Path) -> None:
    for component, body in json.loads(dsl.read_text())["components"].items():
        spec = lookup(body["module"])
        assert spec is not None, f"{component} uses unknown module {body['module']}"
        inputs: dict[str, Any] = body.get("input") or {}
        used_inputs = {k for k in inputs if k != "data"} | set(inputs.get("data", {}))
        accepted_inputs, produced = _kinds(spec)
        assert used_inputs <= accepted_inputs, component
        assert set(body.get("output") or {}) <= produced, component


def test_table_is_consistent() -> None:
    assert len(MODULES) > 40
    folded: dict[str, str] = {}
    for key, spec in MODULES.items():
        assert key == spec.name
        assert spec.roles and spec.roles <= set(ROLES)
        assert spec.data_inputs <= set(DATA_SLOTS)
        for name in (spec.name, *spec.aliases):
            assert folded.setdefault(name.casefold(), spec.name) == spec.name
    with pytest.raises(TypeError):
        MODULES["Bogus"] = MODULES["Reader"]  # type: ignore[index]


def test_aliases_resolve() -> None:
    assert lookup("DataIO") is MODULES["DataTransform"]
    assert lookup("HomoSecureboost") is MODULES["HomoSecureBoost"]
    assert lookup("HeteroLR") is MODULES["HeteroLR"]
    assert "DataIO" in MODULES["DataTransform"].aliases
    assert "DataIO" not in MODULES


@pytest.mark.parametrize("name", ["", "NoSuchModule", "heterolr", "HeteroStepwise", "CustNN"])
def test_unknown_names_return_none(name: str) -> None:
    assert lookup(name) is None


@pytest.mark.parametrize(
    ("typo", "expected"),
    [
        ("HeteroLr", "HeteroLR"),
        ("DataTransfrom", "DataTransform"),
        ("dataio", "DataTransform"),
        ("Intersect", "Intersection"),
        ("HeteroSecureBost", "HeteroSecureBoost"),
    ],
)
def test_suggest_finds_intended_module(typo: str, expected: str) -> None:
    suggestions = suggest(typo)
    assert suggestions[0] == expected
    assert len(suggestions) <= 3
    assert all(s in MODULES for s in suggestions)


def test_suggest_gives_nothing_for_garbage() -> None:
    assert suggest("zzzzqqq") == []


@pytest.mark.parametrize(
    ("module", "roles"),
    [
        ("Reader", {"guest", "host"}),
        ("DataTransform", {"guest", "host"}),
        ("Intersection", {"guest", "host"}),
        ("HeteroLR", {"guest", "host", "arbiter"}),
        ("HomoLR", {"guest", "host", "arbiter"}),
        ("HeteroSecureBoost", {"guest", "host"}),
        ("HomoSecureBoost", {"guest", "host", "arbiter"}),
        ("HeteroSSHELR", {"guest", "host"}),
        ("HomoNN", {"guest", "host", "arbiter"}),
        ("HeteroNN", {"guest", "host"}),
        ("LocalBaseline", {"guest", "host"}),
        ("Evaluation", {"guest", "host", "arbiter"}),
        ("ModelLoader", {"guest", "host", "arbiter"}),
        ("Upload", {"local"}),
        ("Writer", {"guest", "host", "local"}),
    ],
)
def test_roles(module: str, roles: set[str]) -> None:
    assert MODULES[module].roles == roles


@pytest.mark.parametrize(
    ("module", "inputs", "outputs"),
    [
        ("Reader", set(), {"data"}),
        ("Evaluation", {"data"}, {"data"}),
        ("Intersection", {"data", "cache"}, {"data", "cache"}),
        ("CacheLoader", set(), {"cache"}),
        ("ModelLoader", set(), {"model"}),
        ("DataTransform", {"data", "model"}, {"data", "model"}),
        ("HeteroFeatureSelection", {"data", "model", "isometric_model"}, {"data", "model"}),
        ("HeteroLR", {*DATA_SLOTS, "model"}, {"data", "model"}),
    ],
)
def test_io_kinds(module: str, inputs: set[str], outputs: set[str]) -> None:
    assert _kinds(MODULES[module]) == (inputs, outputs)


def test_only_selection_takes_isometric_model_and_only_intersection_takes_cache() -> None:
    assert {n for n, s in MODULES.items() if s.isometric_model_input} == {"HeteroFeatureSelection"}
    assert {n for n, s in MODULES.items() if s.cache_input} == {"Intersection"}
