"""Reading DSL and conf JSON with errors that point at the line and column."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from accord.errors import ArgumentError, InputFileError, JsonSyntaxError


def parse_json_text(text: str, what: str) -> dict[str, Any]:
    """Parse ``text`` as a JSON object; ``what`` names the document in messages ("dsl", "conf")."""
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise JsonSyntaxError(
            f"{what}: invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}",
            hint="fix the JSON syntax there (a missing comma, quote or bracket is the usual cause)",
            line=exc.lineno,
            column=exc.colno,
        ) from None
    except RecursionError:
        raise JsonSyntaxError(
            f"{what}: the JSON is nested too deeply to read", hint="no DSL or conf nests this deep"
        ) from None
    if not isinstance(value, dict):
        raise JsonSyntaxError(
            f"{what}: the top level must be a JSON object, found {type(value).__name__}",
            hint="wrap the document in { ... }",
        )
    return value


def read_json_file(path: str | Path, what: str) -> dict[str, Any]:
    file = Path(path)
    try:
        raw = file.read_bytes()
    except FileNotFoundError:
        raise InputFileError(f"{what}: file {str(file)!r} does not exist", hint="check the path") from None
    except IsADirectoryError:
        raise InputFileError(f"{what}: {str(file)!r} is a directory", hint="give the JSON file") from None
    except OSError as exc:
        raise InputFileError(f"{what}: cannot read {str(file)!r}: {exc.strerror}") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise JsonSyntaxError(
            f"{what}: {str(file)!r} is not UTF-8 text (bad byte at offset {exc.start})",
            hint="save the file as UTF-8 JSON",
        ) from None
    return parse_json_text(text, f"{what} {file.name}")


# Deep enough for any FATE DSL or conf (they nest under ten levels), shallow enough that the stored job,
# its Temporal payloads and every reply holding it stay far below the serializers' own limits (pydantic
# gives up near 255 levels, Python's json near 1,000).
MAX_DEPTH = 64
_PATH_SHOWN = 6


def check_document(
    document: Any, what: str, *, max_depth: int = MAX_DEPTH, error: type[ArgumentError] = ArgumentError
) -> None:
    """Refuse a parsed document the site could not store, send or show: too deep, a lone surrogate,
    a number JSON cannot hold (NaN, Infinity). Iterative, so a document of any depth is safe to check.
    """
    stack: list[tuple[Any, tuple[str, ...]]] = [(document, ())]
    while stack:
        node, path = stack.pop()
        if isinstance(node, dict | list):
            if len(path) >= max_depth:
                raise error(
                    f"{what}: {_where(path)} is nested {len(path) + 1} levels deep, more than {max_depth}",
                    hint="no DSL or conf needs this depth; flatten the value",
                    field=_where(path),
                )
            items = node.items() if isinstance(node, dict) else enumerate(node)
            for key, child in items:
                if isinstance(key, str):
                    _check_text(key, what, (*path, key), error)
                elif not isinstance(node, list):
                    raise error(f"{what}: {_where(path)} has a key that is not text: {key!r}")
                stack.append((child, (*path, str(key))))
        elif isinstance(node, str):
            _check_text(node, what, path, error)
        elif isinstance(node, float) and not math.isfinite(node):
            raise error(
                f"{what}: {_where(path)} is {node}, which JSON cannot hold",
                hint="give a finite number",
                field=_where(path),
            )
        elif node is not None and not isinstance(node, bool | int | float):
            raise error(f"{what}: {_where(path)} holds a {type(node).__name__}, which is not JSON")


def _check_text(text: str, what: str, path: tuple[str, ...], error: type[ArgumentError]) -> None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as failure:
        raise error(
            f"{what}: {_where(path)} is not valid Unicode text (a lone surrogate at character "
            f"{failure.start})",
            hint="send UTF-8 text; \\ud800-\\udfff escapes must come in pairs",
            field=_where(path),
        ) from None


def _where(path: tuple[str, ...]) -> str:
    # A refused path may itself be hundreds of levels long or hold the bad text: show its start, escaped.
    parts = [part.encode("utf-8", "backslashreplace").decode("utf-8")[:40] for part in path[:_PATH_SHOWN]]
    return ".".join(parts) + (".…" if len(path) > _PATH_SHOWN else "") if parts else "<top level>"
