"""Predict-DSL generation from a training DSL and a list of components (FATE's deploy --cpn-list)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from accord.dsl_compiler import graph
from accord.dsl_compiler.plan import InputRef
from accord.dsl_compiler.schema import ComponentInput, ComponentOutput, Dsl, DslComponent, parse_dsl
from accord.errors import DeployComponentError

# In a predict DSL a trained component reads the data it used to learn from as data to predict on.
_SLOT_IN_PREDICT = {"data": "data", "train_data": "test_data", "test_data": "test_data"}


def parse_cpn_list(text: str | Sequence[str]) -> list[str]:
    items = text.split(",") if isinstance(text, str) else list(text)
    names = list(dict.fromkeys(item.strip() for item in items if item.strip()))
    if not names:
        raise DeployComponentError(
            "cpn-list is empty",
            hint="name the components to deploy, e.g. --cpn-list reader_0,data_transform_0",
        )
    return names


def generate_predict_dsl(train: Dsl | Mapping[str, Any], cpn_list: str | Sequence[str]) -> Dsl:
    train_dsl = train if isinstance(train, Dsl) else parse_dsl(dict(train))
    wanted = parse_cpn_list(cpn_list)
    unknown = [name for name in wanted if name not in train_dsl.components]
    if unknown:
        first = unknown[0]
        raise DeployComponentError(
            f"cpn-list names {', '.join(repr(n) for n in unknown)}, not in the training DSL",
            hint="deploy components of the training DSL"
            + graph.did_you_mean(first, list(train_dsl.components)),
            components=unknown,
        )
    specs = graph.resolve_modules(train_dsl)
    graph.check_outputs(train_dsl, specs)
    inputs = graph.collect_inputs(train_dsl, specs)
    deployed = set(wanted)
    _check_upstream_deployed(inputs, wanted, deployed)

    components: dict[str, DslComponent] = {}
    for name, cpn in train_dsl.components.items():
        if name not in deployed:
            continue
        components[name] = DslComponent(
            module=cpn.module,
            input=_predict_inputs(name, cpn, inputs[name]),
            output=ComponentOutput(data=list(cpn.output.data)),
            provider=cpn.provider,
        )
    return Dsl(components=components, provider=train_dsl.provider)


def _needed(ref: InputRef) -> bool:
    # Validation data and isometric models matter only while fitting.
    return not ref.external and ref.slot != "validate_data" and ref.kind != "isometric_model"


def _check_upstream_deployed(
    inputs: Mapping[str, tuple[InputRef, ...]], wanted: list[str], deployed: set[str]
) -> None:
    missing: dict[str, list[str]] = {}
    for name in wanted:
        for ref in inputs[name]:
            if _needed(ref) and ref.component not in deployed:
                field = f"input.data.{ref.slot}" if ref.kind == "data" else f"input.{ref.kind}"
                missing.setdefault(ref.component, []).append(f"{name} ({field})")
    if missing:
        details = "; ".join(f"'{up}' feeds {', '.join(users)}" for up, users in missing.items())
        raise DeployComponentError(
            f"cpn-list leaves out components the deployed ones need: {details}",
            hint=f"add {', '.join(missing)} to the cpn-list",
            missing=list(missing),
        )


def _predict_inputs(name: str, cpn: DslComponent, refs: tuple[InputRef, ...]) -> ComponentInput:
    data: dict[str, list[str]] = {}
    for ref in refs:
        if ref.kind == "data" and ref.slot in _SLOT_IN_PREDICT:
            data.setdefault(_SLOT_IN_PREDICT[ref.slot], []).append(ref.reference)
    given = [
        f"pipeline.{ref.component}.{ref.output}" for ref in refs if ref.kind == "model" and not ref.external
    ]
    given += [ref.reference for ref in refs if ref.kind == "model" and ref.external]
    # As FATE deploys: a component that outputs a model predicts with its own (a warm-started one
    # included, whose training input was the model it started from); one that outputs none keeps
    # the model inputs it trained with.
    model = [f"pipeline.{name}.{cpn.output.model[0]}"] if cpn.output.model else given
    cache = [ref.reference for ref in refs if ref.kind == "cache"]
    return ComponentInput(data=data, model=model, cache=cache)
