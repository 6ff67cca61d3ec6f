"""FATE's raw intersection: one side sends its ids (salted hashes with ``use_hash``), the other joins.

With ``join_role`` guest (the default) every host sends its ids to the guest, which intersects them with
its own and those of every other host; with ``sync_intersect_ids`` it sends the result back to the hosts.
With ``join_role`` host the guest sends its ids to every host; each host intersects with its own, and
with ``sync_intersect_ids`` reports back, the guest takes the intersection across hosts and, when there
are several hosts, tells them that final result. A side that is never told the result learns nothing
(``None``), as in FATE.

Keys are the same on every party, so every key table is partitioned by key into the agreed number of
partitions and keys cross, and are compared, a partition at a time.
"""

from __future__ import annotations

from accord.components.intersection import keyed
from accord.components.intersection.keyed import Env
from accord.components.intersection.link import Link
from accord.computing import BlockTable


def _send(link: Link, name: str, table: BlockTable) -> None:
    link.send_table(name, keyed.outgoing(table, digests=False))


def _received(env: Env, link: Link, name: str) -> BlockTable:
    return link.receive_table(name, env.engine, partitions=env.partitions)


def guest_raw(env: Env, hosts: list[Link], keys: BlockTable, join_role: str, sync: bool) -> BlockTable | None:
    if join_role == "guest":
        common = keys
        for link in hosts:
            common = keyed.matched(common, _received(env, link, "ids"), None, "its ids")
        common = env.keep(common)
        if sync:
            for link in hosts:
                _send(link, "intersection", common)
        return common
    for link in hosts:
        _send(link, "ids", keys)
    if not sync:
        return None
    common = keys
    for link in hosts:
        common = keyed.matched(common, _received(env, link, "intersection"), None, "its intersection")
    common = env.keep(common)
    if len(hosts) > 1:
        for link in hosts:
            _send(link, "final_intersection", common)
    return common


def host_raw(
    env: Env, guest: Link, keys: BlockTable, join_role: str, sync: bool, host_count: int
) -> BlockTable | None:
    if join_role == "guest":
        _send(guest, "ids", keys)
        if not sync:
            return None
        return keyed.claimed(keys, _received(env, guest, "intersection"), None, "the intersection")
    found = env.keep(keyed.matched(keys, _received(env, guest, "ids"), None, "its ids"))
    if sync:
        _send(guest, "intersection", found)
        if host_count > 1:
            return keyed.claimed(
                keys, _received(env, guest, "final_intersection"), None, "the final intersection"
            )
    return found
