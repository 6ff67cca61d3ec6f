"""What a table's namespace and name may be: each becomes one directory under the site's table root."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator

from accord.errors import NameInvalid
from accord.names import shown, text_problem

MAX_NAME_CHARS = 128
HINT = "use letters, digits, '_', '-' and '.' as FATE's examples do (e.g. experiment)"
# Path separators (control characters and lone surrogates are refused by accord.names).
_FORBIDDEN = re.compile(r"[/\\]")


def name_problem(value: str) -> str | None:
    """Why ``value`` cannot be a namespace or table name, or None when it can."""
    problem = text_problem(value, max_chars=MAX_NAME_CHARS)
    if problem is not None:
        return problem
    # A leading dot: the store's own scratch names start with one.
    if value.startswith("."):
        return "must not start with '.'"
    found = _FORBIDDEN.search(value)
    if found:
        return f"must not contain {found.group()!r} (no path separators or control characters)"
    return None


def check_table_key(namespace: str, name: str) -> None:
    """Raise :class:`NameInvalid` naming the field when a namespace or table name is unusable."""
    for field, value in (("namespace", namespace), ("table_name", name)):
        problem = name_problem(value)
        if problem is not None:
            raise NameInvalid(f"{field} {shown(value)} {problem}", hint=HINT, field=field)


def _usable(value: str) -> str:
    problem = name_problem(value)
    if problem is not None:
        # pydantic turns this into a 400 naming the field.
        raise ValueError(f"{shown(value)} {problem}; {HINT}")
    return value


# For request bodies: a namespace or table name checked where it enters, before any query or path.
TableNamePart = Annotated[str, AfterValidator(_usable)]
