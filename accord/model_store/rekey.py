"""Party ids inside a model's JSON, re-keyed for ``model migrate`` (FATE's model migration tool).

A stored model names parties in a few plain shapes, and only those are rewritten, so weights and
other numbers are never touched:

- an object with ``role`` and ``party_id`` (Pearson's ``peer``, a party plan, the runtime conf's
  ``initiator``): its ``party_id`` by that role's map;
- an object under ``role`` / ``roles`` whose keys are role names and whose values are party-id lists
  (the runtime conf's ``role``, a plan's ``roles``);
- anonymous column names ``<role>_<party id>_<index>`` and site names ``<role>:<party id>`` (binning,
  selection, boosting splits), as strings and as object keys;
- the party-id keys of an object under a key starting with ``host`` (binning's ``host_results``);
- a ``party_id`` with no ``role`` beside it (selection's column lists): by the one new id every role
  that had the old id moves to, refused when roles that shared it move apart.

Party ids absent from the map (a role not migrated) stay as they are.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from accord.errors import DataMismatchError

ROLES = ("guest", "host", "arbiter", "local")
# (role, old party id) → new party id.
PartyMap = Mapping[tuple[str, int], int]

_ANONYMOUS = re.compile(r"^(guest|host|arbiter|local)_(\d+)_(\d+)$")
_SITE = re.compile(r"^(guest|host|arbiter|local):(\d+)$")


class Rekeyer:
    """Rewrites the party ids of one component's model by ``parties``; ``what`` names it in refusals."""

    def __init__(self, parties: PartyMap, what: str) -> None:
        self._parties = dict(parties)
        self._what = what

    def party(self, role: str, old: int) -> int:
        return self._parties.get((role, old), old)

    def _roleless(self, old: int) -> int:
        moved = {new for (_, pid), new in self._parties.items() if pid == old}
        if len(moved) > 1:
            raise DataMismatchError(
                f"{self._what} names party {old} without its role, and the roles that had party {old} "
                f"move to different ids ({', '.join(str(n) for n in sorted(moved))})",
                hint="give the roles that share a party id the same new id in migrate_role",
            )
        return moved.pop() if moved else old

    def text(self, value: str) -> str:
        found = _ANONYMOUS.match(value)
        if found:
            role, old, index = found.group(1), int(found.group(2)), found.group(3)
            return f"{role}_{self.party(role, old)}_{index}"
        found = _SITE.match(value)
        if found:
            return f"{found.group(1)}:{self.party(found.group(1), int(found.group(2)))}"
        return value

    def value(self, node: Any, key: str = "") -> Any:
        if isinstance(node, dict):
            return self._object(node, key)
        if isinstance(node, list):
            return [self.value(item, key) for item in node]
        if isinstance(node, str):
            return self.text(node)
        return node

    def _object(self, node: dict[str, Any], key: str) -> dict[str, Any]:
        if (
            key in ("role", "roles")
            and node
            and all(name in ROLES and isinstance(ids, list) for name, ids in node.items())
        ):
            return {name: [self._id_like(pid, role=name) for pid in ids] for name, ids in node.items()}
        host_keyed = key.startswith("host") and node and all(_is_id(name) for name in node)
        out: dict[str, Any] = {}
        for name, item in node.items():
            new_name = str(self.party("host", int(name))) if host_keyed else self.text(name)
            out[new_name] = self.value(item, name)
        if "party_id" in node and _is_id(node["party_id"]):
            role = node.get("role")
            if isinstance(role, str) and role in ROLES:
                out["party_id"] = self._id_like(node["party_id"], role=role)
            elif "role" not in node:
                out["party_id"] = self._id_like(node["party_id"], role=None)
        return out

    def _id_like(self, pid: Any, *, role: str | None) -> Any:
        """``pid`` moved, kept an int or a digit string as it was."""
        if not _is_id(pid):
            return pid
        old = int(pid)
        new = self.party(role, old) if role is not None else self._roleless(old)
        return str(new) if isinstance(pid, str) else new


def _is_id(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return value >= 0
    return isinstance(value, str) and value.isdigit() and len(value) < 20


def rekey_model(model: dict[str, Any], parties: PartyMap, what: str) -> dict[str, Any]:
    """``model`` with the party ids it names re-keyed by ``parties``."""
    rewritten: dict[str, Any] = Rekeyer(parties, what).value(model)
    return rewritten
