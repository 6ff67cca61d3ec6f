"""Anonymous column names: how a host's columns are known to the guest.

The feature modules name a party's column ``{role}_{party_id}_{index in header}`` (the binning model's
host results use these). FATE's DataTransform writes ``{role}_{party_id}_x{index}``; with use_anonymous
both spellings are accepted for the party's own columns.
"""

from __future__ import annotations

from collections.abc import Sequence

from accord.errors import ComponentParameterError


def anonymous(role: str, party_id: int, index: int) -> str:
    return f"{role}_{party_id}_{index}"


def anonymous_header(role: str, party_id: int, width: int) -> list[str]:
    return [anonymous(role, party_id, index) for index in range(width)]


def index_of(name: str, role: str, party_id: int, width: int) -> int | None:
    """The column index an anonymous ``name`` of this party stands for, or None if it is not one."""
    parts = name.split("_", 2)
    if len(parts) != 3 or parts[0] != role or parts[1] != str(party_id):
        return None
    suffix = parts[2][1:] if parts[2].startswith("x") else parts[2]
    if not suffix.isdigit() or int(suffix) >= width:
        return None
    return int(suffix)


def plain_names(
    names: Sequence[str] | None,
    header: Sequence[str],
    role: str,
    party_id: int,
    *,
    field: str,
    component: str,
) -> list[str]:
    """``names`` given as anonymous names turned into this party's column names."""
    plain: list[str] = []
    unknown: list[str] = []
    for name in names or []:
        index = index_of(name, role, party_id, len(header))
        if index is None:
            unknown.append(name)
        else:
            plain.append(header[index])
    if unknown:
        raise ComponentParameterError(
            f"{component}: {field} {unknown[:10]} are not anonymous names of {role} {party_id}'s columns",
            hint=f"with use_anonymous, name columns {role}_{party_id}_x<index> "
            f"(or {role}_{party_id}_<index>)",
            component=component,
        )
    return plain
