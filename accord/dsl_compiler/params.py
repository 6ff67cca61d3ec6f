"""Role index expansion and the merge of ``common`` with ``role.<role>.<index>`` sections."""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from typing import Any

from accord.errors import RoleIndexError

ALL = "all"


def expand_index(key: str, party_count: int, where: str) -> tuple[int, ...]:
    """Party indexes named by a role section key: ``"0"``, ``"0|1|2"`` or ``"all"``."""
    text = key.strip()
    if text == ALL:
        return tuple(range(party_count))
    indexes: list[int] = []
    for part in text.split("|"):
        part = part.strip()
        # isdigit() also admits superscripts int() rejects; indexes are short ASCII numbers.
        if not (part.isascii() and part.isdigit() and len(part) <= 9):
            raise RoleIndexError(
                f"conf: {where}: '{key}' is not a party index",
                hint='use an index such as "0", several joined by \'|\' such as "0|1", or "all"',
                field=where,
            )
        index = int(part)
        if index >= party_count:
            raise RoleIndexError(
                f"conf: {where}: index {index} in '{key}' is out of range; "
                f"the role has {party_count} part{'y' if party_count == 1 else 'ies'} "
                f"(indexes 0..{party_count - 1})",
                hint="use an index below the number of party ids listed for the role in 'role'",
                field=where,
            )
        if index not in indexes:
            indexes.append(index)
    return tuple(indexes)


def ordered_sections(
    sections: Mapping[str, Any], party_count: int, where: str
) -> list[tuple[tuple[int, ...], Any]]:
    """Role sections from broadest to narrowest; ties keep the order they were written in."""
    keyed = [
        (key.strip() == ALL, expand_index(key, party_count, f"{where}.{key}"), body)
        for key, body in sections.items()
    ]
    # Broadness is the number of distinct parties covered, so "0|0|1" ranks as "0|1"; "all" yields to an
    # explicit group that happens to cover every party.
    keyed.sort(key=lambda item: (-len(item[1]), not item[0]))
    return [(indexes, body) for _, indexes, body in keyed]


def deep_merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """A new dict: nested objects merge key by key, anything else in ``override`` replaces."""
    merged: dict[str, Any] = copy.deepcopy(dict(base))
    for key, value in override.items():
        current = merged.get(key)
        if isinstance(current, dict) and isinstance(value, Mapping):
            merged[key] = deep_merge(current, value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def merge_all(layers: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    merged: dict[str, Any] = {}
    for layer in layers:
        merged = deep_merge(merged, layer)
    return merged
