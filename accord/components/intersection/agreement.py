"""What guest and hosts settle before the protocol: the settings they must share, and the partitions.

Each host sends the settings both sides must share (salts only as their SHA-256) and how many
partitions its input has; the guest answers every host with the differences it found (a difference
stops every party, naming the field) and, when there are none, with the plan: how many partitions the
compared key tables have (the most any party's input has) and the most the output may have.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from accord.components.intersection.link import MAX_PARTITIONS, Link
from accord.components.intersection.params import IntersectionParams
from accord.errors import ComponentParameterError, TransferError

_SECRET = "salt"


@dataclass(frozen=True)
class Plan:
    # Partitions of the tables the parties compare partition for partition.
    partitions: int
    # The most partitions an output may have.
    limit: int


def protocol_settings(params: IntersectionParams) -> dict[str, Any]:
    """The settings every party of the intersection must share; salts only as their SHA-256."""
    settings: dict[str, Any] = {
        "intersect_method": params.intersect_method,
        "sync_intersect_ids": params.sync_intersect_ids,
    }
    method = params.protocol
    if params.cardinality_only:
        settings.update(
            {
                "cardinality_only": True,
                "cardinality_method": method,
                "sync_cardinality": params.sync_cardinality,
            }
        )
    if method in ("dh", "ecdh"):
        section = params.dh_params if method == "dh" else params.ecdh_params
        shared = section.model_dump(exclude={"salt"})
        settings.update({f"{method}_params.{name}": value for name, value in shared.items()})
        settings[f"{method}_params.salt"] = hashlib.sha256(section.salt.encode()).hexdigest()
    elif method == "rsa":
        rsa = params.rsa
        settings.update(
            {
                "rsa_params.hash_method": rsa.hash_method,
                "rsa_params.final_hash_method": rsa.final_hash_method,
                "rsa_params.split_calculation": rsa.split_calculation,
                "rsa_params.salt": hashlib.sha256(rsa.salt.encode()).hexdigest(),
            }
        )
    else:
        raw_params = params.raw
        hashed = raw_params.use_hash and raw_params.hash_method != "none"
        settings.update({"raw_params.join_role": raw_params.join_role, "raw_params.use_hash": hashed})
        if hashed:
            settings.update(
                {
                    "raw_params.hash_method": raw_params.hash_method,
                    "raw_params.base64": raw_params.base64,
                    "raw_params.salt": hashlib.sha256(raw_params.salt.encode()).hexdigest(),
                }
            )
    if params.run_preprocess:
        # The filter's receiver hashes its ids as the owner did; the rate and seed travel with the filter.
        preprocess = params.intersect_preprocess_params
        settings.update(
            {
                "run_preprocess": True,
                "intersect_preprocess_params.filter_owner": preprocess.filter_owner,
                "intersect_preprocess_params.preprocess_method": preprocess.preprocess_method,
                "intersect_preprocess_params.preprocess_salt": hashlib.sha256(
                    preprocess.preprocess_salt.encode()
                ).hexdigest(),
            }
        )
    return settings


def _differences(guest: dict[str, Any], host: Any, host_id: int, guest_id: int) -> list[str]:
    if not isinstance(host, dict):
        raise TransferError(f"host {host_id} sent intersection settings that are not a mapping")
    problems = []
    for name in sorted(guest.keys() | host.keys()):
        mine, theirs = guest.get(name), host.get(name)
        if mine == theirs:
            continue
        if name.endswith(_SECRET) and mine is not None and theirs is not None:
            problems.append(f"{name} differs between guest {guest_id} and host {host_id}")
        else:
            problems.append(f"{name} is {mine!r} on guest {guest_id} but {theirs!r} on host {host_id}")
    return problems


def _count(value: Any, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_PARTITIONS:
        raise TransferError(f"the peer sent {what} {value!r}, which is not a partition count")
    return value


def agree(
    *,
    component: str,
    role: str,
    party_id: int,
    peers: list[Link],
    settings: dict[str, Any],
    input_partitions: int,
    engine_partitions: int,
) -> Plan:
    if role == "guest":
        problems = []
        for link in peers:
            problems += _differences(settings, link.receive("settings"), link.party_id, party_id)
        partitions = max(
            [input_partitions] + [_count(link.receive("partitions"), "its partitions") for link in peers]
        )
        for link in peers:
            link.send("verdict", problems)
        plan = Plan(partitions=partitions, limit=max(partitions, engine_partitions))
        if not problems:
            for link in peers:
                link.send("plan", [plan.partitions, plan.limit])
    else:
        peers[0].send("settings", settings)
        peers[0].send("partitions", input_partitions)
        problems = peers[0].receive("verdict")
        if not isinstance(problems, list) or not all(isinstance(p, str) for p in problems):
            raise TransferError("the guest sent an intersection verdict that is not a list of messages")
    if problems:
        raise ComponentParameterError(
            f"{component} (Intersection): the parties disagree: {'; '.join(problems)}",
            hint="set these fields in the common section of component_parameters so every party shares them",
            component=component,
        )
    if role == "guest":
        return plan
    sent = peers[0].receive("plan")
    if not isinstance(sent, list) or len(sent) != 2:
        raise TransferError("the guest sent an intersection plan that is not two partition counts")
    return Plan(partitions=_count(sent[0], "a partition count"), limit=_count(sent[1], "a partition limit"))
