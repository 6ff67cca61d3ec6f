"""What a table's namespace and name may be: each becomes one directory under the site's table root."""

from __future__ import annotations

import re

from accord.errors import ArgumentError

MAX_NAME_CHARS = 128
# Path separators, control characters and a leading dot (the store's own scratch names start with one).
_FORBIDDEN = re.compile(r"[/\\\x00-\x1f\x7f]")


def name_problem(value: str) -> str | None:
    """Why ``value`` cannot be a namespace or table name, or None when it can."""
    if not value:
        return "must not be empty"
    if len(value) > MAX_NAME_CHARS:
        return f"has {len(value)} characters, more than {MAX_NAME_CHARS}"
    if value.startswith("."):
        return "must not start with '.'"
    found = _FORBIDDEN.search(value)
    if found:
        return f"must not contain {found.group()!r} (no path separators or control characters)"
    return None


def check_table_key(namespace: str, name: str) -> None:
    """Raise :class:`ArgumentError` naming the field when a namespace or table name is unusable."""
    for field, value in (("namespace", namespace), ("table_name", name)):
        problem = name_problem(value)
        if problem is not None:
            raise ArgumentError(
                f"{field} {value!r} {problem}",
                hint="use letters, digits, '_', '-' and '.' as FATE's examples do (e.g. experiment)",
                field=field,
            )
