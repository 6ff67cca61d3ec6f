"""FATE's raw intersection: one side sends its ids (salted hashes with ``use_hash``), the other joins.

With ``join_role`` guest (the default) every host sends its ids to the guest, which intersects them with
its own and those of every other host; with ``sync_intersect_ids`` it sends the result back to the hosts.
With ``join_role`` host the guest sends its ids to every host; each host intersects with its own, and
with ``sync_intersect_ids`` reports back, the guest takes the intersection across hosts and, when there
are several hosts, tells them that final result. A side that is never told the result learns nothing
(``None``), as in FATE.
"""

from __future__ import annotations

from collections.abc import Sequence

from accord.components.intersection.link import Link
from accord.errors import TransferError


def _keys(value: object, what: str) -> set[str]:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise TransferError(f"the peer sent {what} that is not a list of strings")
    return set(value)


def _positions(keys: set[str], by_key: dict[str, int], what: str) -> set[int]:
    unknown = keys - by_key.keys()
    if unknown:
        raise TransferError(f"the peer sent {what} holding {len(unknown)} ids this party does not have")
    return {by_key[key] for key in keys}


def guest_raw(hosts: list[Link], keys: Sequence[str], join_role: str, sync: bool) -> set[int] | None:
    by_key = {key: position for position, key in enumerate(keys)}
    if join_role == "guest":
        common = set(by_key)
        for link in hosts:
            common &= _keys(link.receive("ids"), "its ids")
        if sync:
            for link in hosts:
                link.send("intersection", sorted(common))
        return {by_key[key] for key in common}
    for link in hosts:
        link.send("ids", sorted(by_key))
    if not sync:
        return None
    common = set(by_key)
    for link in hosts:
        common &= _keys(link.receive("intersection"), "its intersection")
    if len(hosts) > 1:
        for link in hosts:
            link.send("final_intersection", sorted(common))
    return {by_key[key] for key in common}


def host_raw(
    guest: Link, keys: Sequence[str], join_role: str, sync: bool, host_count: int
) -> set[int] | None:
    by_key = {key: position for position, key in enumerate(keys)}
    if join_role == "guest":
        guest.send("ids", sorted(by_key))
        if not sync:
            return None
        return _positions(
            _keys(guest.receive("intersection"), "the intersection"), by_key, "the intersection"
        )
    matched = set(by_key) & _keys(guest.receive("ids"), "its ids")
    if sync:
        guest.send("intersection", sorted(matched))
        if host_count > 1:
            final = _keys(guest.receive("final_intersection"), "the final intersection")
            return _positions(final, by_key, "the final intersection")
    return {by_key[key] for key in matched}
