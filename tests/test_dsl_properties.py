"""Property-based tests of the DSL compiler: parameter merging, role indexes, graph order, robustness.

Every test is derandomized, so a failure found once is found on every run (and fixing it makes the
test pass for good) instead of depending on the random seed or on the local example database.
"""

from __future__ import annotations

import copy
import itertools
import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, note, settings
from hypothesis import strategies as st

from accord.dsl_compiler import CompileOptions, JobPlan, compile_job
from accord.dsl_compiler.params import deep_merge, expand_index, merge_all
from accord.errors import AccordError, DependencyCycleError, PartyIdError, RoleIndexError

CORPUS = Path(__file__).resolve().parents[1].parent / "shared/fate/examples/dsl/v2"
CORPUS_SAMPLE_SIZE = 20

Json = Any
Step = str | int
JsonPath = tuple[Step, ...]


def _settings(max_examples: int) -> settings:
    return settings(
        max_examples=max_examples,
        deadline=None,
        derandomize=True,
        suppress_health_check=[HealthCheck.too_slow],
    )


# ---- shared strategies ------------------------------------------------------------------------

_json_leaves: st.SearchStrategy[Json] = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**40), max_value=2**40),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=8),
)
json_values: st.SearchStrategy[Json] = st.recursive(
    _json_leaves,
    lambda children: st.one_of(
        st.lists(children, max_size=3), st.dictionaries(st.text(max_size=6), children, max_size=3)
    ),
    max_leaves=6,
)

# Values of one JSON type each, to replace a value by one of another type.
_VALUES_BY_TYPE: dict[type, st.SearchStrategy[Json]] = {
    type(None): st.none(),
    bool: st.booleans(),
    int: st.integers(min_value=-(2**40), max_value=2**40),
    float: st.floats(allow_nan=True, allow_infinity=True),
    str: st.text(max_size=8),
    list: st.lists(_json_leaves, max_size=3),
    dict: st.dictionaries(st.text(max_size=6), _json_leaves, max_size=3),
}


def _value_of_another_type(data: st.DataObject, current: Json) -> Json:
    other_types = [kind for kind in _VALUES_BY_TYPE if type(current) is not kind]
    kind = data.draw(st.sampled_from(other_types), label="replacement type")
    return data.draw(_VALUES_BY_TYPE[kind], label="replacement value")


def _assert_coded(error: AccordError) -> None:
    """What every deliberate error promises: a numbered code in a known family and a message."""
    assert isinstance(error.code, int)
    assert error.code >= 100
    assert error.code == error.family or error.code // 100 == error.family
    assert isinstance(error.message, str)
    assert error.message.strip()
    assert str(error).strip()


def _compile_or_coded_error(dsl: Json, conf: Json) -> JobPlan | AccordError:
    """Compile; an AccordError is returned, any other exception propagates and fails the test."""
    try:
        return compile_job(dsl, conf, CompileOptions(allow_unbound_model=True))
    except AccordError as error:
        return error


# ---- 1. parameter merging -----------------------------------------------------------------------

_merge_keys = st.sampled_from(["a", "b", "c", "d", "e"])
_merge_leaves: st.SearchStrategy[Json] = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-100, max_value=100),
    st.text(max_size=4),
    st.lists(st.integers(min_value=0, max_value=9), max_size=3),
    st.lists(st.dictionaries(_merge_keys, st.integers(min_value=0, max_value=9), max_size=2), max_size=2),
)
_nested_values: st.SearchStrategy[Json] = st.recursive(
    _merge_leaves, lambda children: st.dictionaries(_merge_keys, children, max_size=4), max_leaves=12
)
parameter_dicts: st.SearchStrategy[dict[str, Json]] = st.dictionaries(_merge_keys, _nested_values, max_size=5)

# Layers whose key paths have one shape in every layer: keys a-c always hold leaves, keys x-z always
# hold objects. Over such layers merging is associative.
_LEAF_KEYS = st.sampled_from(["a", "b", "c"])
_OBJECT_KEYS = st.sampled_from(["x", "y", "z"])


def _shaped_dicts(depth: int) -> st.SearchStrategy[dict[str, Json]]:
    leaves = st.dictionaries(_LEAF_KEYS, _merge_leaves, max_size=3)
    if depth == 0:
        return leaves
    objects = st.dictionaries(_OBJECT_KEYS, _shaped_dicts(depth - 1), max_size=2)
    return st.builds(lambda a, b: {**a, **b}, leaves, objects)


shape_consistent_layers = _shaped_dicts(3)


def _assert_merged(
    base: Mapping[str, Json], override: Mapping[str, Json], merged: Mapping[str, Json]
) -> None:
    assert set(merged) == set(base) | set(override)
    for key, value in merged.items():
        if key not in override:
            assert value == base[key]
        elif isinstance(base.get(key), dict) and isinstance(override[key], dict):
            _assert_merged(base[key], override[key], value)
        else:
            assert value == override[key]


def _scramble(value: Json) -> None:
    """Mutate every container reachable from ``value`` in place."""
    if isinstance(value, dict):
        for child in list(value.values()):
            _scramble(child)
        value.clear()
        value["scrambled"] = True
    elif isinstance(value, list):
        for child in value:
            _scramble(child)
        value.append("scrambled")


@_settings(60)
@given(base=parameter_dicts, override=parameter_dicts)
def test_deep_merge_override_wins_and_objects_merge_recursively(
    base: dict[str, Json], override: dict[str, Json]
) -> None:
    merged = deep_merge(base, override)
    _assert_merged(base, override, merged)


@_settings(60)
@given(base=parameter_dicts, override=parameter_dicts)
def test_deep_merge_neither_mutates_nor_aliases_its_inputs(
    base: dict[str, Json], override: dict[str, Json]
) -> None:
    base_before, override_before = copy.deepcopy(base), copy.deepcopy(override)
    merged = deep_merge(base, override)
    assert base == base_before
    assert override == override_before
    # Changing anything inside the result must leave both inputs as they were.
    _scramble(merged)
    assert base == base_before
    assert override == override_before


@_settings(40)
@given(layer=parameter_dicts)
def test_merging_with_empty_is_identity(layer: dict[str, Json]) -> None:
    assert deep_merge(layer, {}) == layer
    assert deep_merge({}, layer) == layer
    assert deep_merge(layer, layer) == layer
    assert merge_all([layer]) == layer
    assert merge_all([{}, layer, {}]) == layer
    assert merge_all([]) == {}
    assert deep_merge(layer, {}) is not layer


@_settings(40)
@given(layers=st.lists(parameter_dicts, max_size=4))
def test_merge_all_is_a_left_fold_of_deep_merge(layers: list[dict[str, Json]]) -> None:
    folded: dict[str, Json] = {}
    for layer in layers:
        folded = deep_merge(folded, layer)
    assert merge_all(layers) == folded
    if len(layers) == 3:
        a, b, c = layers
        assert merge_all(layers) == deep_merge(deep_merge(a, b), c)


@_settings(50)
@given(a=shape_consistent_layers, b=shape_consistent_layers, c=shape_consistent_layers)
def test_merge_is_associative_over_shape_consistent_layers(
    a: dict[str, Json], b: dict[str, Json], c: dict[str, Json]
) -> None:
    left = deep_merge(deep_merge(a, b), c)
    right = deep_merge(a, deep_merge(b, c))
    assert left == right
    assert merge_all([a, b, c]) == left
    assert merge_all([a, merge_all([b, c])]) == left


# ---- 2. role index expansion --------------------------------------------------------------------


@st.composite
def valid_index_keys(draw: st.DrawFn) -> tuple[int, str, set[int]]:
    """(party count, key, the indexes the key names)."""
    party_count = draw(st.integers(min_value=1, max_value=6))
    if draw(st.integers(min_value=0, max_value=4)) == 0:
        return party_count, "all", set(range(party_count))
    indexes = draw(st.lists(st.integers(min_value=0, max_value=party_count - 1), min_size=1, max_size=6))
    return party_count, "|".join(map(str, indexes)), set(indexes)


@st.composite
def out_of_range_keys(draw: st.DrawFn) -> tuple[int, str, list[int]]:
    """(party count, key, the out-of-range indexes in it)."""
    party_count = draw(st.integers(min_value=1, max_value=6))
    valid = draw(st.lists(st.integers(min_value=0, max_value=party_count - 1), max_size=4))
    bad = draw(
        st.lists(
            st.one_of(st.integers(min_value=party_count, max_value=party_count + 5), st.just(100)),
            min_size=1,
            max_size=2,
        )
    )
    indexes = draw(st.permutations([*valid, *bad]))
    return party_count, "|".join(map(str, indexes)), bad


def _is_ascii_index_key(key: str) -> bool:
    return key.strip() == "all" or all(part.strip().isdigit() and part.isascii() for part in key.split("|"))


MALFORMED_KEYS = [
    "a",
    "1|x",
    "",
    "-1",
    " ",
    "|",
    "0|",
    "|0",
    "1.0",
    "+1",
    "0x1",
    "ALL",
    "all|0",
    "1,2",
    "²",
    "0|¹",
]
malformed_keys = st.one_of(
    st.sampled_from(MALFORMED_KEYS),
    st.text(alphabet="0123456789|ax-+., ", max_size=6).filter(lambda key: not _is_ascii_index_key(key)),
)


@_settings(60)
@given(case=valid_index_keys())
def test_expand_index_names_exactly_the_listed_parties(case: tuple[int, str, set[int]]) -> None:
    party_count, key, expected = case
    indexes = expand_index(key, party_count, "component_parameters.role.host")
    assert set(indexes) == expected
    assert len(indexes) == len(set(indexes))
    assert all(0 <= index < party_count for index in indexes)


@_settings(50)
@given(case=out_of_range_keys())
@example(case=(1, "0|5", [5]))
@example(case=(6, "6", [6]))
def test_expand_index_rejects_an_index_beyond_the_parties(case: tuple[int, str, list[int]]) -> None:
    party_count, key, bad = case
    with pytest.raises(RoleIndexError) as raised:
        expand_index(key, party_count, "component_parameters.role.host")
    error = raised.value
    assert error.code == 10114
    _assert_coded(error)
    # Outside the quoted key, the message names an offending index and the number of parties.
    told = error.message.replace(f"'{key}'", "")
    assert any(re.search(rf"\b{index}\b", told) for index in bad), error.message
    assert re.search(rf"\b{party_count}\b", told), error.message


@_settings(50)
@given(key=malformed_keys, party_count=st.integers(min_value=1, max_value=6))
@example(key="²", party_count=3)
@example(key="0|¹", party_count=3)
@example(key="9" * 5000, party_count=3)
def test_expand_index_rejects_malformed_keys(key: str, party_count: int) -> None:
    with pytest.raises(RoleIndexError) as raised:
        expand_index(key, party_count, "component_parameters.role.host")
    assert raised.value.code == 10114
    _assert_coded(raised.value)


@st.composite
def host_sections(draw: st.DrawFn) -> tuple[int, list[str]]:
    """(host party count, role section keys in the order they are written)."""
    party_count = draw(st.integers(min_value=1, max_value=6))
    kinds: list[st.SearchStrategy[str]] = [
        st.just("all"),
        st.integers(min_value=0, max_value=party_count - 1).map(str),
    ]
    if party_count >= 2:
        groups = st.lists(st.integers(min_value=0, max_value=party_count - 1), min_size=2, max_size=4).filter(
            lambda indexes: len(set(indexes)) >= 2
        )
        kinds.append(groups.map(lambda indexes: "|".join(map(str, indexes))))
    keys = draw(st.lists(st.one_of(kinds), unique=True, max_size=6))
    return party_count, keys


def _covered(key: str, party_count: int) -> set[int]:
    return set(range(party_count)) if key == "all" else {int(part) for part in key.split("|")}


def _most_specific(keys: Sequence[str], index: int, party_count: int) -> str | None:
    """Single index beats a group, a smaller group a larger one, any group beats "all"; among
    equally specific sections the one written last wins."""

    def rank(position: int) -> tuple[int, int, int]:
        key = keys[position]
        covered = _covered(key, party_count)
        kind = 2 if key == "all" else 0 if "|" not in key else 1
        return kind, len(covered), -position

    covering = [pos for pos, key in enumerate(keys) if index in _covered(key, party_count)]
    return keys[min(covering, key=rank)] if covering else None


@_settings(60)
@given(case=host_sections())
@example(case=(2, ["0|0|1", "all"]))
@example(case=(3, ["0|2", "0|1|1"]))
@example(case=(3, ["1", "0|1", "all"]))
def test_most_specific_role_section_wins(case: tuple[int, list[str]]) -> None:
    party_count, keys = case
    host_ids = [10000 + i for i in range(party_count)]
    cores = {key: 2 + position for position, key in enumerate(keys)}
    conf = {
        "dsl_version": 2,
        "initiator": {"role": "guest", "party_id": 9999},
        "role": {"guest": [9999], "host": host_ids},
        "job_parameters": {
            "common": {"task_cores": 1},
            "role": {"host": {key: {"task_cores": cores[key]} for key in keys}} if keys else {},
        },
        "component_parameters": {
            "common": {
                "reader_0": {
                    "table": {"name": "t", "namespace": "ns"},
                    "p": "common",
                    "layers": {"common": 1},
                }
            },
            "role": {"host": {key: {"reader_0": {"p": key, "layers": {key: 1}}} for key in keys}}
            if keys
            else {},
        },
    }
    dsl = {"components": {"reader_0": {"module": "Reader", "output": {"data": ["data"]}}}}
    plan = compile_job(dsl, conf)

    guest = plan.party("guest", 9999)
    assert guest.component_parameters["reader_0"]["p"] == "common"
    assert guest.job_parameters.task_cores == 1
    for index, party_id in enumerate(host_ids):
        party = plan.party("host", party_id)
        assert party.index == index
        winner = _most_specific(keys, index, party_count)
        params = party.component_parameters["reader_0"]
        assert params["p"] == (winner or "common"), (index, keys)
        assert party.job_parameters.task_cores == (cores[winner] if winner else 1), (index, keys)
        # Every covering section is merged in, not only the winner.
        covering = {key for key in keys if index in _covered(key, party_count)}
        assert set(params["layers"]) == {"common", *covering}
        assert params["table"] == {"name": "t", "namespace": "ns"}


# ---- 3. topological order and stages ------------------------------------------------------------

# Modules that take input.data.data and declare output.data; roots of the DAG are Readers.
PASS_THROUGH_MODULES = ("Union", "FeatureScale", "DataStatistics", "FederatedSample", "DataTransform")


@dataclass(frozen=True)
class Dag:
    inputs: dict[str, tuple[str, ...]]
    declared: tuple[str, ...]
    modules: dict[str, str]


@st.composite
def dags(draw: st.DrawFn, min_size: int = 1, with_readers: bool = True) -> Dag:
    """Components c0..cn-1 whose inputs have lower numbers, declared in a shuffled order."""
    size = draw(st.integers(min_value=min_size, max_value=8))
    names = [f"c{i}" for i in range(size)]
    inputs: dict[str, tuple[str, ...]] = {}
    for j, name in enumerate(names):
        parents = (
            draw(st.lists(st.integers(min_value=0, max_value=j - 1), unique=True, max_size=3)) if j else []
        )
        inputs[name] = tuple(names[i] for i in parents)
    modules = {
        name: "Reader" if with_readers and not inputs[name] else draw(st.sampled_from(PASS_THROUGH_MODULES))
        for name in names
    }
    declared = tuple(draw(st.permutations(names)))
    return Dag(inputs=inputs, declared=declared, modules=modules)


def _dag_dsl(dag: Dag) -> dict[str, Json]:
    components: dict[str, Json] = {}
    for name in dag.declared:
        body: dict[str, Json] = {"module": dag.modules[name], "output": {"data": ["data"]}}
        if dag.inputs[name]:
            body["input"] = {"data": {"data": [f"{parent}.data" for parent in dag.inputs[name]]}}
        components[name] = body
    return {"components": components}


def _dag_conf(dag: Dag) -> dict[str, Json]:
    tables = {
        name: {"table": {"name": f"table_{name}", "namespace": "experiment"}}
        for name, module in dag.modules.items()
        if module == "Reader"
    }
    return {
        "dsl_version": 2,
        "initiator": {"role": "guest", "party_id": 9999},
        "role": {"guest": [9999], "host": [10000]},
        "component_parameters": {"common": tables},
    }


def _earliest_declared_first(declared: Sequence[str], inputs: Mapping[str, Sequence[str]]) -> list[str]:
    """The topological order that always takes the earliest-declared component whose inputs are done."""
    placed: list[str] = []
    remaining = list(declared)
    while remaining:
        ready = next(name for name in remaining if all(parent in placed for parent in inputs[name]))
        placed.append(ready)
        remaining.remove(ready)
    return placed


def _expected_stages(dag: Dag) -> dict[str, int]:
    stage: dict[str, int] = {}
    for name in sorted(dag.inputs, key=lambda n: int(n[1:])):
        stage[name] = 1 + max((stage[parent] for parent in dag.inputs[name]), default=-1)
    return stage


@_settings(60)
@given(dag=dags())
def test_topological_order_and_stages_respect_dependencies(dag: Dag) -> None:
    plan = compile_job(_dag_dsl(dag), _dag_conf(dag))
    order = list(plan.order)
    position = {name: i for i, name in enumerate(order)}

    assert sorted(order) == sorted(dag.inputs)
    assert len(order) == len(set(order))
    for name, parents in dag.inputs.items():
        assert all(position[parent] < position[name] for parent in parents), (name, parents, order)
    assert order == _earliest_declared_first(dag.declared, dag.inputs)

    stages = _expected_stages(dag)
    assert [cpn.name for cpn in plan.components] == order
    for cpn in plan.components:
        assert cpn.stage == stages[cpn.name]
        assert set(cpn.upstream) == set(dag.inputs[cpn.name])
        assert set(cpn.downstream) == {n for n, parents in dag.inputs.items() if cpn.name in parents}
    assert len(plan.stages) == max(stages.values()) + 1
    for number, members in enumerate(plan.stages):
        assert set(members) == {name for name, stage in stages.items() if stage == number}
        assert list(members) == [name for name in order if name in members]

    again = compile_job(_dag_dsl(dag), _dag_conf(dag))
    assert again.order == plan.order
    assert again == plan


@st.composite
def cyclic_graphs(draw: st.DrawFn) -> tuple[Dag, str, str]:
    """A DAG plus a back edge: ``consumer`` (lower number) also reads ``producer``, which it reaches."""
    dag = draw(dags(min_size=2, with_readers=False).filter(lambda d: any(d.inputs.values())))
    reaches: dict[str, set[str]] = {}
    for name in sorted(dag.inputs, key=lambda n: int(n[1:])):
        reaches[name] = set()
        for parent in dag.inputs[name]:
            reaches[name] |= {parent} | reaches[parent]
    pairs = sorted((ancestor, name) for name, ancestors in reaches.items() for ancestor in ancestors)
    consumer, producer = draw(st.sampled_from(pairs))
    inputs = dict(dag.inputs)
    inputs[consumer] = (*inputs[consumer], producer)
    return Dag(inputs=inputs, declared=dag.declared, modules=dag.modules), consumer, producer


@_settings(40)
@given(case=cyclic_graphs())
def test_back_edge_raises_cycle_error_naming_a_real_cycle(case: tuple[Dag, str, str]) -> None:
    dag, consumer, producer = case
    note(f"back edge: {consumer} reads {producer}.data")
    with pytest.raises(DependencyCycleError) as raised:
        compile_job(_dag_dsl(dag), _dag_conf(dag))
    error = raised.value
    assert error.code == 10108
    _assert_coded(error)
    assert "cycle: " in error.message
    cycle = error.message.split("cycle: ", 1)[1].split(" -> ")
    assert error.details["cycle"] == cycle
    assert len(cycle) >= 3
    assert cycle[0] == cycle[-1]
    assert len(set(cycle[:-1])) == len(cycle) - 1
    for source, target in itertools.pairwise(cycle):
        assert source in dag.inputs[target], f"{source} -> {target} is not an edge of {dag.inputs}"


# ---- 4. mutated corpus pairs raise only coded errors --------------------------------------------


@cache
def corpus_pairs() -> dict[str, tuple[str, str]]:
    """name -> (dsl text, conf text) of about CORPUS_SAMPLE_SIZE testsuite tasks spread over the corpus."""
    if not CORPUS.is_dir():
        return {}
    found: list[tuple[str, Path, Path]] = []
    for suite in sorted(CORPUS.rglob("*testsuite*.json")):
        tasks = json.loads(suite.read_text()).get("tasks") or {}
        for task, files in sorted(tasks.items()):
            if isinstance(files, dict) and {"dsl", "conf"} <= set(files):
                found.append(
                    (f"{suite.parent.name}/{task}", suite.parent / files["dsl"], suite.parent / files["conf"])
                )
    step = max(1, len(found) // CORPUS_SAMPLE_SIZE)
    return {name: (dsl.read_text(), conf.read_text()) for name, dsl, conf in found[::step]}


def _load_pair(name: str) -> dict[str, Json]:
    dsl_text, conf_text = corpus_pairs()[name]
    return {"dsl": json.loads(dsl_text), "conf": json.loads(conf_text)}


corpus_names = st.sampled_from(sorted(corpus_pairs()) or [""])


def _all_paths(node: Json, prefix: JsonPath = ()) -> list[JsonPath]:
    """Paths of every object member and list item below ``node``."""
    paths: list[JsonPath] = []
    items: list[tuple[Step, Json]] = []
    if isinstance(node, dict):
        items = list(node.items())
    elif isinstance(node, list):
        items = list(enumerate(node))
    for step, child in items:
        paths.append((*prefix, step))
        paths.extend(_all_paths(child, (*prefix, step)))
    return paths


def _object_paths(node: Json, prefix: JsonPath = ()) -> list[JsonPath]:
    """Paths of every object, the document itself included."""
    paths = [prefix] if isinstance(node, dict) else []
    items: list[tuple[Step, Json]] = []
    if isinstance(node, dict):
        items = list(node.items())
    elif isinstance(node, list):
        items = list(enumerate(node))
    for step, child in items:
        paths.extend(_object_paths(child, (*prefix, step)))
    return paths


def _at(node: Json, path: JsonPath) -> Json:
    for step in path:
        node = node[step]
    return node


def _components(dsl: Json) -> dict[str, Json]:
    components = dsl.get("components") if isinstance(dsl, dict) else None
    return components if isinstance(components, dict) else {}


def _reference_paths(dsl: Json) -> list[JsonPath]:
    paths: list[JsonPath] = []
    for name, body in _components(dsl).items():
        inputs = body.get("input") if isinstance(body, dict) else None
        if not isinstance(inputs, dict):
            continue
        for kind, section in inputs.items():
            lists = section.items() if kind == "data" and isinstance(section, dict) else [(None, section)]
            for slot, refs in lists:
                if isinstance(refs, list):
                    base: JsonPath = ("components", name, "input", kind) + (() if slot is None else (slot,))
                    paths.extend((*base, i) for i in range(len(refs)))
    return paths


Mutation = Callable[[st.DataObject, dict[str, Json]], str]


def _pick_document(data: st.DataObject, docs: dict[str, Json]) -> tuple[str, Json]:
    which = data.draw(st.sampled_from(["dsl", "conf"]), label="document")
    return which, docs[which]


def delete_key(data: st.DataObject, docs: dict[str, Json]) -> str:
    which, doc = _pick_document(data, docs)
    paths = [path for path in _all_paths(doc) if isinstance(path[-1], str)]
    if not paths:
        return "delete: nothing to delete"
    path = data.draw(st.sampled_from(paths), label="deleted key")
    del _at(doc, path[:-1])[path[-1]]
    return f"delete {which}{list(path)}"


def replace_value(data: st.DataObject, docs: dict[str, Json]) -> str:
    which, doc = _pick_document(data, docs)
    paths = _all_paths(doc)
    if not paths:
        return "replace: nothing to replace"
    path = data.draw(st.sampled_from(paths), label="replaced value")
    parent = _at(doc, path[:-1])
    parent[path[-1]] = _value_of_another_type(data, parent[path[-1]])
    return f"replace {which}{list(path)} = {parent[path[-1]]!r}"


def _rename_references(node: Json, old: str, new: str) -> Json:
    if isinstance(node, str) and node.startswith(f"{old}."):
        return f"{new}.{node[len(old) + 1 :]}"
    if isinstance(node, list):
        return [_rename_references(item, old, new) for item in node]
    if isinstance(node, dict):
        return {key: _rename_references(value, old, new) for key, value in node.items()}
    return node


def _parameter_holders(params: Json) -> list[dict[str, Json]]:
    """The objects of component_parameters keyed by component name: common and role.<role>.<index>."""
    if not isinstance(params, dict):
        return []
    holders = [params["common"]] if isinstance(params.get("common"), dict) else []
    by_role = params.get("role")
    for sections in by_role.values() if isinstance(by_role, dict) else ():
        if isinstance(sections, dict):
            holders.extend(body for body in sections.values() if isinstance(body, dict))
    return holders


def rename_component(data: st.DataObject, docs: dict[str, Json]) -> str:
    components = _components(docs["dsl"])
    if not components:
        return "rename component: no components"
    old = data.draw(st.sampled_from(sorted(components)), label="renamed component")
    new = data.draw(
        st.one_of(st.sampled_from(["", "a.b", "pipeline", "args", " ", *components]), st.text(max_size=8)),
        label="new name",
    )
    components[new] = components.pop(old)
    consistent = data.draw(st.booleans(), label="rename references too")
    if consistent:
        for body in components.values():
            if isinstance(body, dict) and "input" in body:
                body["input"] = _rename_references(body["input"], old, new)
        params = docs["conf"].get("component_parameters") if isinstance(docs["conf"], dict) else None
        for holder in _parameter_holders(params):
            if old in holder:
                holder[new] = holder.pop(old)
    return f"rename component {old!r} -> {new!r} (references too: {consistent})"


def rename_reference(data: st.DataObject, docs: dict[str, Json]) -> str:
    paths = _reference_paths(docs["dsl"])
    if not paths:
        return "rename reference: no references"
    path = data.draw(st.sampled_from(paths), label="reference")
    names = sorted(_components(docs["dsl"])) or ["x"]
    other = data.draw(st.sampled_from(names), label="other component")
    owner = str(path[1])
    new = data.draw(
        st.one_of(
            st.sampled_from(
                [
                    f"{other}.data",
                    f"{other}.model",
                    f"{other}.cache",
                    f"{other}.nothing",
                    f"{owner}.data",
                    f"pipeline.{other}.model",
                    f"pipeline.{other}.data",
                    "pipeline.x",
                    "args.train_data",
                    "missing_0.data",
                    "no_dot",
                    ".data",
                    "reader_0.",
                    "",
                ]
            ),
            st.text(max_size=10),
        ),
        label="new reference",
    )
    _at(docs["dsl"], path[:-1])[path[-1]] = new
    return f"reference {list(path)} = {new!r}"


def change_role_list(data: st.DataObject, docs: dict[str, Json]) -> str:
    conf = docs["conf"]
    roles = conf.get("role") if isinstance(conf, dict) else None
    if not isinstance(roles, dict):
        return "role list: no role section"
    role = data.draw(st.sampled_from(sorted({*roles, "guest", "host", "arbiter", "local", "Host", "hots"})))
    current = roles.get(role)
    ids = list(current) if isinstance(current, list) else []
    change = data.draw(
        st.sampled_from(
            ["empty", "duplicate", "append", "remove", "not a list", "drop first", "reverse", "set"]
        )
    )
    if change == "empty":
        roles[role] = []
    elif change == "duplicate":
        roles[role] = [*ids, *ids[:1]] if ids else [10000, 10000]
    elif change == "append":
        roles[role] = [*ids, data.draw(st.integers(min_value=0, max_value=20000), label="new party")]
    elif change == "remove":
        roles.pop(role, None)
    elif change == "not a list":
        roles[role] = _value_of_another_type(data, ids)
    elif change == "drop first":
        roles[role] = ids[1:]
    elif change == "reverse":
        roles[role] = ids[::-1]
    else:
        roles[role] = data.draw(st.lists(st.integers(min_value=0, max_value=20000), max_size=3), label="ids")
    return f"role.{role}: {change} -> {roles.get(role, '<removed>')!r}"


PARTY_ID_STRINGS = ["10000", " 9999 ", "abc", "", "-1", "1e4", "9999.0", "0x10", "²", "١٢"]
party_id_replacements: st.SearchStrategy[Json] = st.one_of(
    st.sampled_from(PARTY_ID_STRINGS),
    st.text(max_size=6),
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(max_value=-1),
    st.integers(min_value=0, max_value=2**70),
    st.booleans(),
    st.none(),
    st.lists(st.integers(min_value=0, max_value=10000), max_size=2),
)


def change_party_id(data: st.DataObject, docs: dict[str, Json]) -> str:
    conf = docs["conf"]
    if not isinstance(conf, dict):
        return "party id: conf is not an object"
    places: list[JsonPath] = []
    if isinstance(conf.get("role"), dict):
        for role, ids in conf["role"].items():
            if isinstance(ids, list):
                places.extend(("role", role, i) for i in range(len(ids)))
    if isinstance(conf.get("initiator"), dict) and "party_id" in conf["initiator"]:
        places.append(("initiator", "party_id"))
    if not places:
        return "party id: no party ids"
    path = data.draw(st.sampled_from(places), label="party id")
    current = _at(conf, path)
    related: list[Json] = [str(current), f" {current} "]
    if isinstance(current, int) and not isinstance(current, bool):
        related += [float(current), -current - 1, current + 0.5]
    new = data.draw(st.one_of(party_id_replacements, st.sampled_from(related)), label="new party id")
    _at(conf, path[:-1])[path[-1]] = new
    return f"party id {list(path)} = {new!r}"


UNKNOWN_KEYS = [
    "extra",
    "modul",
    "inputs",
    "outputs",
    "need_deploy",
    "provider",
    "dsl_version",
    "common",
    "role",
    "0",
]


def inject_unknown_key(data: st.DataObject, docs: dict[str, Json]) -> str:
    which, doc = _pick_document(data, docs)
    path = data.draw(st.sampled_from(_object_paths(doc)), label="object")
    key = data.draw(st.one_of(st.sampled_from(UNKNOWN_KEYS), st.text(max_size=8)), label="key")
    value = data.draw(json_values, label="value")
    _at(doc, path)[key] = value
    return f"inject {which}{list(path)}[{key!r}] = {value!r}"


def duplicate_output(data: st.DataObject, docs: dict[str, Json]) -> str:
    candidates: list[tuple[str, str, str]] = []
    for name, body in _components(docs["dsl"]).items():
        outputs = body.get("output") if isinstance(body, dict) else None
        if isinstance(outputs, dict):
            for kind, names in outputs.items():
                if isinstance(names, list):
                    candidates.extend((name, kind, str(output)) for output in names)
    if not candidates:
        return "duplicate output: no outputs"
    name, kind, output = data.draw(st.sampled_from(candidates), label="output")
    into = data.draw(st.sampled_from(["data", "model", "cache"]), label="duplicated into")
    outputs = _components(docs["dsl"])[name]["output"]
    outputs[into] = [*outputs.get(into, []), output] if isinstance(outputs.get(into, []), list) else [output]
    return f"duplicate output {name}.{kind}.{output} into output.{into}"


JOB_PARAMETER_KEYS = [
    "task_cores",
    "timeout",
    "backend",
    "work_mode",
    "job_type",
    "federated_status_collect_type",
    "computing_engine",
    "storage_engine",
    "federation_engine",
    "federated_mode",
    "task_parallelism",
    "computing_partitions",
    "auto_retries",
    "model_id",
    "model_version",
    "eggroll_run",
    "spark_run",
]
job_parameter_values: st.SearchStrategy[Json] = st.one_of(
    json_values,
    st.sampled_from([-1, 0, 1, "2", "abc", 10**12, 1.5, "PULL", "pull", "predict", "Train", "SPARK", "", []]),
)
# Settings inside eggroll_run / spark_run that the resource computation reads as numbers; the Spark ones
# are read only when Spark computes, so setting them also selects backend 1.
ENGINE_SETTINGS = [
    "eggroll_run/eggroll.session.processors.per.node",
    "spark_run/num-executors",
    "spark_run/executor-cores",
]
job_parameter_targets = st.sampled_from([*JOB_PARAMETER_KEYS, *ENGINE_SETTINGS])


def _set_job_parameter(conf: Json, target: str, value: Json, section: JsonPath = ("common",)) -> str:
    """Set a job parameter (or an engine setting written 'eggroll_run/<setting>') in one section."""
    if not isinstance(conf, dict):
        return "job parameter: conf is not an object"
    holder = conf.setdefault("job_parameters", {})
    for step in section:
        if not isinstance(holder, dict):
            return f"job parameter: job_parameters.{'.'.join(map(str, section))} is not an object"
        holder = holder.setdefault(step, {})
    if not isinstance(holder, dict):
        return f"job parameter: job_parameters.{'.'.join(map(str, section))} is not an object"
    key, _, setting = target.partition("/")
    if setting:
        holder[key] = {setting: value}
        if key == "spark_run":
            holder["backend"] = 1
    else:
        holder[key] = value
    return f"job_parameters.{'.'.join(map(str, section))}.{target} = {value!r}"


def set_job_parameter(data: st.DataObject, docs: dict[str, Json]) -> str:
    target = data.draw(job_parameter_targets, label="job parameter")
    value = data.draw(job_parameter_values, label="value")
    return _set_job_parameter(docs["conf"], target, value)


MUTATIONS: tuple[Mutation, ...] = (
    delete_key,
    replace_value,
    rename_component,
    rename_reference,
    change_role_list,
    change_party_id,
    inject_unknown_key,
    duplicate_output,
    set_job_parameter,
)

corpus_required = pytest.mark.skipif(not corpus_pairs(), reason=f"FATE example corpus not found at {CORPUS}")


def _check_outcome(outcome: JobPlan | AccordError, dsl: Json) -> None:
    if isinstance(outcome, AccordError):
        note(f"-> {type(outcome).__name__} {outcome.code}: {outcome}")
        _assert_coded(outcome)
    else:
        assert set(outcome.order) == set(_components(dsl))
        assert outcome.parties


def test_corpus_sample_compiles_unmutated() -> None:
    if not corpus_pairs():
        pytest.skip(f"FATE example corpus not found at {CORPUS}")
    assert len(corpus_pairs()) >= CORPUS_SAMPLE_SIZE
    for name in corpus_pairs():
        docs = _load_pair(name)
        plan = compile_job(docs["dsl"], docs["conf"], CompileOptions(allow_unbound_model=True))
        assert set(plan.order) == set(docs["dsl"]["components"]), name


@corpus_required
@_settings(150)
@given(data=st.data())
def test_mutated_corpus_pairs_raise_only_coded_errors(data: st.DataObject) -> None:
    docs = _load_pair(data.draw(corpus_names, label="corpus pair"))
    for _ in range(data.draw(st.integers(min_value=1, max_value=3), label="mutation count")):
        mutation = data.draw(st.sampled_from(MUTATIONS), label="mutation")
        note(mutation(data, docs))
    _check_outcome(_compile_or_coded_error(docs["dsl"], docs["conf"]), docs["dsl"])


EXAMPLE_PAIR = min(corpus_pairs(), default="")


@corpus_required
@_settings(60)
@given(
    pair=corpus_names,
    target=job_parameter_targets,
    value=job_parameter_values,
    role_section=st.booleans(),
)
@example(pair=EXAMPLE_PAIR, target="federated_status_collect_type", value=[], role_section=False)
@example(pair=EXAMPLE_PAIR, target="computing_engine", value={"name": "SPARK"}, role_section=True)
@example(pair=EXAMPLE_PAIR, target=ENGINE_SETTINGS[0], value=float("inf"), role_section=False)
@example(pair=EXAMPLE_PAIR, target=ENGINE_SETTINGS[1], value=float("-inf"), role_section=False)
def test_any_job_parameter_value_gives_a_plan_or_a_coded_error(
    pair: str, target: str, value: Json, role_section: bool
) -> None:
    docs = _load_pair(pair)
    section: JsonPath = ("role", "guest", "0") if role_section else ("common",)
    note(_set_job_parameter(docs["conf"], target, value, section))
    _check_outcome(_compile_or_coded_error(docs["dsl"], docs["conf"]), docs["dsl"])


@_settings(40)
@given(party_id=party_id_replacements, where=st.sampled_from(["host", "initiator"]))
@example(party_id="²", where="host")
@example(party_id="9" * 5000, where="host")
@example(party_id=[], where="initiator")
def test_any_party_id_gives_a_plan_or_a_coded_error(party_id: Json, where: str) -> None:
    dsl = {"components": {"reader_0": {"module": "Reader", "output": {"data": ["data"]}}}}
    conf: dict[str, Json] = {
        "dsl_version": 2,
        "initiator": {"role": "guest", "party_id": 9999},
        "role": {"guest": [9999], "host": [10000]},
        "component_parameters": {"common": {"reader_0": {"table": {"name": "t", "namespace": "ns"}}}},
    }
    if where == "host":
        conf["role"]["host"] = [party_id]
    else:
        conf["initiator"]["party_id"] = party_id
    outcome = _compile_or_coded_error(dsl, conf)
    _check_outcome(outcome, dsl)
    is_whole_number = (isinstance(party_id, int) and not isinstance(party_id, bool) and party_id >= 0) or (
        # int() reads exactly the strings made of decimal digits (any script), so those are whole numbers.
        isinstance(party_id, str) and party_id.strip().isdecimal()
    )
    if not is_whole_number:
        assert isinstance(outcome, PartyIdError), outcome
        assert outcome.code == 10112
