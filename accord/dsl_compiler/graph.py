"""The component graph of a DSL: modules, references between components, order and stages."""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from accord.dsl_compiler import catalog
from accord.dsl_compiler.catalog import DATA_SLOTS, ModuleSpec
from accord.dsl_compiler.plan import InputKind, InputRef
from accord.dsl_compiler.schema import V1_HINT, Dsl, DslComponent
from accord.errors import (
    DependencyCycleError,
    DslStructureError,
    DslVersionError,
    DuplicateOutputError,
    ModelInputError,
    UnknownInputKindError,
    UnknownModuleError,
    UnknownReferenceError,
)

EXTERNAL_PREFIX = "pipeline."


def did_you_mean(word: str, choices: Sequence[str]) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f"; did you mean '{close[0]}'?" if close else ""


def resolve_modules(dsl: Dsl, extra: Mapping[str, ModuleSpec] | None = None) -> dict[str, ModuleSpec]:
    specs: dict[str, ModuleSpec] = {}
    for name, cpn in dsl.components.items():
        spec = catalog.lookup(cpn.module, extra)
        if spec is None:
            suggestions = catalog.suggest(cpn.module)
            hint = (
                f"did you mean {' or '.join(repr(s) for s in suggestions)}?"
                if suggestions
                else "use a FATE 1.x module name such as Reader, DataTransform, Intersection, HeteroLR"
            )
            raise UnknownModuleError(
                f"dsl: component '{name}' uses unknown module '{cpn.module}'", hint=hint, component=name
            )
        specs[name] = spec
    return specs


def check_outputs(dsl: Dsl, specs: Mapping[str, ModuleSpec]) -> None:
    for name, cpn in dsl.components.items():
        seen: dict[str, str] = {}
        declared = (("data", cpn.output.data), ("model", cpn.output.model), ("cache", cpn.output.cache))
        for kind, names in declared:
            for output in names:
                if output in seen:
                    raise DuplicateOutputError(
                        f"dsl: component '{name}' declares output '{output}' twice "
                        f"(in output.{seen[output]} and output.{kind})",
                        hint="give each output of a component its own name",
                        component=name,
                    )
                seen[output] = kind
        spec = specs[name]
        offered = {"data": spec.data_output, "model": spec.model_output, "cache": spec.cache_output}
        for kind, names in declared:
            if names and not offered[kind]:
                raise UnknownInputKindError(
                    f"dsl: component '{name}' ({spec.name}) declares output.{kind}, "
                    f"but {spec.name} produces no {kind} output",
                    hint=f"remove output.{kind} from '{name}'",
                    component=name,
                )


@dataclass(frozen=True)
class _Target:
    component: str
    output: str
    external: bool


def _parse_reference(text: str, owner: str, field: str) -> _Target:
    if text.startswith("args."):
        raise DslVersionError(
            f"dsl: component '{owner}' {field} uses the DSL v1 reference '{text}'", hint=V1_HINT
        )
    external = text.startswith(EXTERNAL_PREFIX)
    body = text[len(EXTERNAL_PREFIX) :] if external else text
    component, dot, output = body.rpartition(".")
    if not dot or not component or not output:
        raise UnknownReferenceError(
            f"dsl: component '{owner}' {field} has malformed reference '{text}'",
            hint="references are written '<component>.<output name>', e.g. 'reader_0.data'",
            component=owner,
        )
    return _Target(component, output, external)


def collect_inputs(dsl: Dsl, specs: Mapping[str, ModuleSpec]) -> dict[str, tuple[InputRef, ...]]:
    """Every component's inputs, each reference checked against what its source declares."""
    result: dict[str, tuple[InputRef, ...]] = {}
    for name, cpn in dsl.components.items():
        spec = specs[name]
        refs: list[InputRef] = []
        for slot, references in cpn.input.data.items():
            if slot not in DATA_SLOTS:
                raise UnknownInputKindError(
                    f"dsl: component '{name}' has unknown data input '{slot}'",
                    hint=f"input.data slots are {', '.join(DATA_SLOTS)}{did_you_mean(slot, DATA_SLOTS)}",
                    component=name,
                )
            refs.extend(_resolve(dsl, name, "data", slot, r) for r in references)
            _check_accepts(name, spec, f"input.data.{slot}", slot in spec.data_inputs)
        other: tuple[tuple[InputKind, list[str], bool], ...] = (
            ("model", cpn.input.model, spec.model_input),
            ("isometric_model", cpn.input.isometric_model, spec.isometric_model_input),
            ("cache", cpn.input.cache, spec.cache_input),
        )
        for kind, references, accepted in other:
            refs.extend(_resolve(dsl, name, kind, kind, r) for r in references)
            if references:
                _check_accepts(name, spec, f"input.{kind}", accepted)
        result[name] = tuple(refs)
    return result


def _check_accepts(name: str, spec: ModuleSpec, field: str, accepted: bool) -> None:
    if accepted:
        return
    kinds = [f"input.data.{slot}" for slot in DATA_SLOTS if slot in spec.data_inputs]
    kinds += [f"input.{k}" for k, ok in _other_kinds(spec) if ok]
    raise UnknownInputKindError(
        f"dsl: component '{name}' ({spec.name}) does not accept {field}",
        hint=f"{spec.name} accepts {', '.join(kinds) if kinds else 'no inputs'}",
        component=name,
    )


def _other_kinds(spec: ModuleSpec) -> tuple[tuple[str, bool], ...]:
    return (
        ("model", spec.model_input),
        ("isometric_model", spec.isometric_model_input),
        ("cache", spec.cache_input),
    )


def _resolve(dsl: Dsl, owner: str, kind: InputKind, slot: str, text: str) -> InputRef:
    field = f"input.data.{slot}" if kind == "data" else f"input.{kind}"
    target = _parse_reference(text, owner, field)
    if target.external:
        if kind not in ("model", "isometric_model"):
            raise UnknownReferenceError(
                f"dsl: component '{owner}' {field} refers to '{text}', but only model inputs may "
                "refer to the deployed training job (pipeline.<component>.model)",
                hint=f"refer to a component of this DSL in {field}",
                component=owner,
            )
        return InputRef(kind=kind, slot=slot, component=target.component, output=target.output, external=True)
    source = dsl.components.get(target.component)
    if source is None:
        raise UnknownReferenceError(
            f"dsl: component '{owner}' {field} refers to unknown component '{target.component}'",
            hint="refer to a component declared in this DSL"
            + did_you_mean(target.component, list(dsl.components)),
            component=owner,
        )
    if target.component == owner:
        raise DependencyCycleError(
            f"dsl: component '{owner}' {field} refers to itself ('{text}')",
            hint="a component cannot consume its own output",
            component=owner,
            cycle=[owner, owner],
        )
    _check_output_kind(source, owner, field, kind, target, text)
    return InputRef(kind=kind, slot=slot, component=target.component, output=target.output)


def _check_output_kind(
    source: DslComponent, owner: str, field: str, kind: InputKind, target: _Target, text: str
) -> None:
    outputs = {"data": source.output.data, "model": source.output.model, "cache": source.output.cache}
    wanted = "model" if kind in ("model", "isometric_model") else kind
    if target.output in outputs[wanted]:
        return
    actual = next((k for k, names in outputs.items() if target.output in names), None)
    error = ModelInputError if wanted == "model" else UnknownReferenceError
    if actual is not None:
        message = f"dsl: component '{owner}' {field} refers to '{text}', which is a {actual} output"
    elif wanted == "model" and not outputs["model"]:
        message = (
            f"dsl: component '{owner}' {field} refers to '{text}', but '{target.component}' "
            "has no model output"
        )
    else:
        message = (
            f"dsl: component '{owner}' {field} refers to unknown output '{target.output}' "
            f"of '{target.component}'"
        )
    declared = outputs[wanted]
    hint = (
        f"'{target.component}' declares {wanted} outputs: {', '.join(declared)}"
        if declared
        else f"refer to a component that declares output.{wanted}"
    )
    raise error(message, hint=hint, component=owner)


def topological_order(names: Sequence[str], upstream: Mapping[str, Sequence[str]]) -> list[str]:
    """Kahn's order; ties go to the component declared first, so the order is stable."""
    position = {name: i for i, name in enumerate(names)}
    pending = {name: len(set(upstream[name])) for name in names}
    downstream: dict[str, list[str]] = {name: [] for name in names}
    for name in names:
        for parent in set(upstream[name]):
            downstream[parent].append(name)
    ready = sorted((n for n in names if pending[n] == 0), key=position.__getitem__)
    order: list[str] = []
    while ready:
        current = ready.pop(0)
        order.append(current)
        for child in downstream[current]:
            pending[child] -= 1
            if pending[child] == 0:
                ready.append(child)
        ready.sort(key=position.__getitem__)
    if len(order) != len(names):
        cycle = find_cycle([n for n in names if pending[n] > 0], upstream)
        raise DependencyCycleError(
            f"dsl: components depend on each other in a cycle: {' -> '.join(cycle)}",
            hint="remove one of these inputs to break the cycle",
            cycle=cycle,
        )
    return order


def find_cycle(candidates: Sequence[str], upstream: Mapping[str, Sequence[str]]) -> list[str]:
    """A cycle among ``candidates``, written in data-flow order and closed (first name repeated)."""
    remaining = set(candidates)
    start = candidates[0]
    path: list[str] = [start]
    index = {start: 0}
    current = start
    while True:
        nxt = next(p for p in upstream[current] if p in remaining)
        if nxt in index:
            loop = path[index[nxt] :]
            loop.reverse()
            # Start at the member declared first, so the message is the same however it was found.
            first = min(range(len(loop)), key=lambda i: candidates.index(loop[i]))
            loop = loop[first:] + loop[:first]
            return [*loop, loop[0]]
        index[nxt] = len(path)
        path.append(nxt)
        current = nxt


def stage_numbers(order: Sequence[str], upstream: Mapping[str, Sequence[str]]) -> dict[str, int]:
    """Stage = longest path from a root, so every component runs after all of its inputs."""
    stage: dict[str, int] = {}
    for name in order:
        stage[name] = 1 + max((stage[p] for p in upstream[name]), default=-1)
    return stage


def require_components(dsl: Dsl) -> None:
    for name in dsl.components:
        if not name or "." in name:
            raise DslStructureError(
                f"dsl: component name {name!r} is not usable",
                hint="component names are non-empty and contain no '.' (it separates the output name)",
                component=name,
            )
