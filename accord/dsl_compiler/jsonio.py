"""Reading DSL and conf JSON with errors that point at the line and column."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from accord.errors import InputFileError, JsonSyntaxError


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
