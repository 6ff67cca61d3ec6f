"""The one rule for names that come from users or peers and become files, keys or columns.

Table names, namespaces, component and output names, job ids and data-plane tags all end up as a path
segment, a database key or a Temporal payload. Each must then be real Unicode text (a lone surrogate
cannot be written as UTF-8 anywhere), fit one file name (255 bytes on every file system the site runs
on), and hold no control characters. Checking here, where a name enters, turns what used to fail deep
inside (an OSError, a UnicodeEncodeError: HTTP 500) into a coded refusal naming the field.
"""

from __future__ import annotations

import re

from accord.errors import NameInvalid

# One file name on ext4, XFS, APFS and NTFS.
MAX_NAME_BYTES = 255
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def text_problem(value: object, *, max_chars: int, max_bytes: int = MAX_NAME_BYTES) -> str | None:
    """Why ``value`` cannot be a name, or None when it can."""
    if not isinstance(value, str):
        return f"must be text, found {type(value).__name__}"
    if not value:
        return "must not be empty"
    try:
        encoded = value.encode("utf-8")
    except UnicodeEncodeError as error:
        return f"is not valid Unicode text (a lone surrogate at character {error.start})"
    if len(value) > max_chars:
        return f"has {len(value)} characters, more than {max_chars}"
    if len(encoded) > max_bytes:
        return f"is {len(encoded)} bytes long in UTF-8, more than {max_bytes}"
    found = _CONTROL.search(value)
    if found:
        return f"must not contain the control character {found.group()!r}"
    return None


def shown(value: object, limit: int = 60) -> str:
    """``value`` for a message: short, and printable even when it holds a lone surrogate."""
    text = repr(value)
    return text if len(text) <= limit else f"{text[: limit - 5]}...'"


def check_name(
    value: object, field: str, *, max_chars: int, max_bytes: int = MAX_NAME_BYTES, hint: str
) -> str:
    """``value`` if it is a usable name; else :class:`NameInvalid` naming ``field`` and the fix."""
    problem = text_problem(value, max_chars=max_chars, max_bytes=max_bytes)
    if problem is not None:
        raise NameInvalid(f"{field} {shown(value)} {problem}", hint=hint, field=field)
    assert isinstance(value, str)
    return value
