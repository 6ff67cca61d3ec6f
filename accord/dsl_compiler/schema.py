"""Pydantic models of a FATE DSL v2 document and a runtime conf v2 document, as users write them.

These models check shape only (types, known keys). Cross-references, roles and ranges are checked by
the compiler, which can name the component, field or party involved.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from accord.errors import (
    ArgumentError,
    ConfStructureError,
    DslStructureError,
    DslVersionError,
    MissingModuleError,
    UnknownInputKindError,
)

INPUT_KINDS = ("data", "model", "isometric_model", "cache")
OUTPUT_KINDS = ("data", "model", "cache")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ComponentInput(_Strict):
    # data maps a slot (data, train_data, validate_data, test_data) to "component.output" references.
    data: dict[str, list[str]] = Field(default_factory=dict)
    model: list[str] = Field(default_factory=list)
    isometric_model: list[str] = Field(default_factory=list)
    cache: list[str] = Field(default_factory=list)


class ComponentOutput(_Strict):
    data: list[str] = Field(default_factory=list)
    model: list[str] = Field(default_factory=list)
    cache: list[str] = Field(default_factory=list)


class DslComponent(_Strict):
    module: str
    input: ComponentInput = Field(default_factory=ComponentInput)
    output: ComponentOutput = Field(default_factory=ComponentOutput)
    provider: str | None = None
    need_deploy: bool | None = None


class Dsl(_Strict):
    components: dict[str, DslComponent]
    provider: str | None = None

    def to_json_dict(self) -> dict[str, Any]:
        """The DSL as FATE writes it: empty sections left out."""
        components: dict[str, Any] = {}
        for name, cpn in self.components.items():
            body: dict[str, Any] = {"module": cpn.module}
            inputs = cpn.input.model_dump(exclude_defaults=True)
            if inputs:
                body["input"] = inputs
            outputs = cpn.output.model_dump(exclude_defaults=True)
            if outputs:
                body["output"] = outputs
            if cpn.provider is not None:
                body["provider"] = cpn.provider
            if cpn.need_deploy is not None:
                body["need_deploy"] = cpn.need_deploy
            components[name] = body
        document: dict[str, Any] = {"components": components}
        if self.provider is not None:
            document["provider"] = self.provider
        return document


class Initiator(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    role: str
    # Kept raw: the compiler checks party ids itself so it can name the offending value.
    party_id: Any


class ParameterSections(BaseModel):
    """``common`` plus ``role.<role>.<index>`` sections, shared by job and component parameters."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    common: dict[str, Any] = Field(default_factory=dict)
    role: dict[str, dict[str, dict[str, Any]]] = Field(default_factory=dict)


class RuntimeConf(BaseModel):
    model_config = ConfigDict(extra="allow", frozen=True)

    dsl_version: Any = None
    initiator: Initiator
    role: dict[str, list[Any]]
    job_parameters: ParameterSections = Field(default_factory=ParameterSections)
    component_parameters: ParameterSections = Field(default_factory=ParameterSections)


# Keys that only a DSL v1 runtime conf has; seeing them means the user needs the v1 → v2 hint.
V1_CONF_KEYS = ("role_parameters", "algorithm_parameters")
V1_HINT = (
    'dsl_version 1 is not supported: set "dsl_version": 2, move algorithm_parameters into '
    "component_parameters.common, role_parameters.<role> into component_parameters.role.<role>.<index> "
    "(one value per party index, not lists), and job parameters into job_parameters.common"
)


def _loc(loc: tuple[int | str, ...]) -> str:
    return ".".join(str(part) for part in loc) or "<top level>"


def parse_dsl(document: dict[str, Any]) -> Dsl:
    if "components" not in document:
        raise DslStructureError(
            "dsl: missing 'components'",
            hint='a DSL v2 is {"components": {"<name>": {"module": "...", ...}}}',
        )
    if not isinstance(document["components"], dict) or not document["components"]:
        raise DslStructureError(
            "dsl: 'components' must be a non-empty object of component name -> component",
            hint='write {"components": {"reader_0": {"module": "Reader", ...}}}',
        )
    try:
        return Dsl.model_validate(document)
    except ValidationError as exc:
        raise _dsl_error(exc) from None


def _dsl_error(exc: ValidationError) -> ArgumentError:
    first = exc.errors()[0]
    loc = tuple(first["loc"])
    where = _loc(loc)
    component = str(loc[1]) if len(loc) > 1 and loc[0] == "components" else None
    if first["type"] == "missing" and loc[-1] == "module" and component is not None:
        return MissingModuleError(
            f"dsl: component '{component}' has no 'module'",
            hint='add e.g. "module": "DataTransform"',
            component=component,
        )
    if first["type"] == "extra_forbidden" and len(loc) == 4 and loc[2] == "input":
        return UnknownInputKindError(
            f"dsl: component '{component}' has unknown input kind '{loc[3]}'",
            hint=f"input kinds are {', '.join(INPUT_KINDS)}",
            component=component,
        )
    if first["type"] == "extra_forbidden" and len(loc) == 4 and loc[2] == "output":
        return UnknownInputKindError(
            f"dsl: component '{component}' has unknown output kind '{loc[3]}'",
            hint=f"output kinds are {', '.join(OUTPUT_KINDS)}",
            component=component,
        )
    if first["type"] == "extra_forbidden" and len(loc) == 3 and component is not None:
        return DslStructureError(
            f"dsl: component '{component}' has unknown key '{loc[2]}'",
            hint="a component takes module, input, output, provider and need_deploy",
            component=component,
        )
    return DslStructureError(f"dsl: {where}: {first['msg']}", hint=_shape_hint(loc), field=where)


def _shape_hint(loc: tuple[int | str, ...]) -> str:
    if len(loc) >= 4 and loc[2] == "input" and loc[3] == "data":
        return 'input.data maps a slot to a list of references: {"data": ["reader_0.data"]}'
    if len(loc) >= 3 and loc[2] in ("input", "output"):
        return f'{loc[2]} sections hold lists of names, e.g. "model": ["model"]'
    return "see the DSL v2 examples in FATE's examples/dsl/v2"


def parse_conf(document: dict[str, Any]) -> RuntimeConf:
    version = document.get("dsl_version")
    looks_v1 = any(key in document for key in V1_CONF_KEYS)
    if version in (1, "1") or (version is None and looks_v1):
        raise DslVersionError("conf: runtime conf of dsl_version 1", hint=V1_HINT)
    if version not in (None, 2, "2"):
        raise DslVersionError(f"conf: unsupported dsl_version {version!r}", hint='set "dsl_version": 2')
    for key in ("initiator", "role"):
        if key not in document:
            raise ConfStructureError(
                f"conf: missing '{key}'",
                hint='a runtime conf v2 has "initiator": {"role": ..., "party_id": ...} and '
                '"role": {"guest": [...], "host": [...]}',
                field=key,
            )
    try:
        return RuntimeConf.model_validate(document)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = _loc(tuple(first["loc"]))
        hint = "see the runtime conf v2 examples in FATE's examples/dsl/v2"
        if where.startswith(("job_parameters", "component_parameters")):
            hint = (
                f"{where.split('.')[0]} takes 'common' and 'role' sections: "
                '{"common": {...}, "role": {"guest": {"0": {...}}}}'
            )
        elif where.startswith("role"):
            hint = 'role maps a role name to a list of party ids: {"guest": [9999]}'
        raise ConfStructureError(f"conf: {where}: {first['msg']}", hint=hint, field=where) from None
