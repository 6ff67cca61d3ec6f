"""FATE's ``-c CONF`` for commands that FATE drives by a conf file rather than flags.

``flow model load|bind|deploy -c`` and ``flow data download -c`` take their fields from a JSON conf;
Accord takes the same files. A flag given on the command line wins over the conf's field; a field
still missing after both is refused naming the flag and the conf key.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar

import click

from accord.errors import ArgumentError

F = TypeVar("F", bound=Callable[..., Any])


def conf_option(what: str) -> Callable[[F], F]:
    return click.option(
        "-c",
        "--conf-path",
        "conf_path",
        type=click.Path(path_type=Path, dir_okay=False),
        help=f"FATE's {what} conf (JSON); flags given on the command line win over its fields",
    )


def read_conf(conf_path: Path | None, what: str) -> dict[str, Any]:
    if conf_path is None:
        return {}
    from accord.dsl_compiler import read_json_file

    raw = read_json_file(conf_path, what)
    if not isinstance(raw, dict):
        raise ArgumentError(f"{what} {conf_path.name} is not a JSON object", hint="give a conf like FATE's")
    return raw


def field(conf: Mapping[str, Any], *paths: str) -> Any:
    """The first of ``paths`` (dotted, e.g. ``job_parameters.model_id``) the conf has."""
    for path in paths:
        node: Any = conf
        for part in path.split("."):
            node = node.get(part) if isinstance(node, Mapping) else None
        if node not in (None, ""):
            return node
    return None


def merged(
    given: Mapping[str, Any], conf: Mapping[str, Any], sources: Mapping[str, Sequence[str]], what: str
) -> dict[str, Any]:
    """Each key of ``sources`` from the flag, else from the conf paths listed for it; all required."""
    values = {
        key: given.get(key) if given.get(key) is not None else field(conf, *paths)
        for key, paths in sources.items()
    }
    missing = [key for key, value in values.items() if value is None]
    if missing:
        flags = ", ".join(f"--{key.replace('_', '-')}" for key in missing)
        keys = ", ".join(sources[key][0] for key in missing)
        raise ArgumentError(f"{what} needs {flags}", hint=f"give the flag(s), or {keys} in the -c conf")
    return values
