"""Checks of the conf's ``role`` and ``initiator`` sections and of role-keyed parameter sections."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from accord.dsl_compiler.catalog import ROLES
from accord.dsl_compiler.graph import did_you_mean
from accord.dsl_compiler.schema import Initiator
from accord.errors import EmptyRoleError, InitiatorError, PartyIdError, UnknownRoleError
from accord.identity import Party


def party_id_of(value: Any, where: str) -> int:
    """A party id as FATE writes it: an integer, or a string of digits."""
    if isinstance(value, bool):
        number = None
    elif isinstance(value, int):
        number = value
    elif isinstance(value, str) and value.strip().isascii() and value.strip().isdigit() and len(value) <= 18:
        number = int(value.strip())
    else:
        number = None
    if number is None or number < 0:
        raise PartyIdError(
            f"conf: {where}: party id {value!r} is not a whole number",
            hint="party ids are non-negative integers such as 9999",
            field=where,
        )
    return number


def _unknown_role(role: str, where: str) -> UnknownRoleError:
    return UnknownRoleError(
        f"conf: {where}: unknown role '{role}'",
        hint=f"roles are {', '.join(ROLES)}{did_you_mean(role, ROLES)}",
        field=where,
    )


def check_roles(raw: Mapping[str, list[Any]]) -> dict[str, tuple[int, ...]]:
    if not raw:
        raise EmptyRoleError(
            "conf: 'role' lists no parties",
            hint='list the parties, e.g. "role": {"guest": [9999], "host": [10000]}',
        )
    roles: dict[str, tuple[int, ...]] = {}
    for role, ids in raw.items():
        if role not in ROLES:
            raise _unknown_role(role, f"role.{role}")
        if not ids:
            raise EmptyRoleError(
                f"conf: role.{role} is an empty list",
                hint=f"list at least one party id for {role}, or remove the role",
                field=f"role.{role}",
            )
        parsed = tuple(party_id_of(pid, f"role.{role}[{i}]") for i, pid in enumerate(ids))
        if len(set(parsed)) != len(parsed):
            twice = next(p for p in parsed if parsed.count(p) > 1)
            raise PartyIdError(
                f"conf: role.{role} lists party {twice} twice",
                hint="list each party once per role (a party id may appear again under another role)",
                field=f"role.{role}",
            )
        roles[role] = parsed
    return roles


def check_initiator(initiator: Initiator, roles: Mapping[str, tuple[int, ...]]) -> Party:
    if initiator.role not in ROLES:
        raise _unknown_role(initiator.role, "initiator.role")
    party_id = party_id_of(initiator.party_id, "initiator.party_id")
    if party_id not in roles.get(initiator.role, ()):
        listed = roles.get(initiator.role)
        where = f"role.{initiator.role} lists {list(listed)}" if listed else f"role has no {initiator.role}"
        raise InitiatorError(
            f"conf: initiator {initiator.role} {party_id} is not among the job's parties ({where})",
            hint="the initiator must be one of the parties listed under its role",
            field="initiator",
        )
    return Party(role=initiator.role, party_id=party_id)


def check_section_roles(
    sections: Mapping[str, Any], roles: Mapping[str, tuple[int, ...]], where: str
) -> None:
    for role in sections:
        if role not in ROLES:
            raise _unknown_role(role, f"{where}.{role}")
        if role not in roles:
            raise UnknownRoleError(
                f"conf: {where}.{role} sets parameters for role '{role}', which has no parties in this job",
                hint=f"add {role} parties under 'role' or remove {where}.{role}",
                field=f"{where}.{role}",
            )
