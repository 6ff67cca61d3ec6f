"""FATE's DH and ECDH intersections (and their ``cardinality_only``) on tables, a partition at a time.

With a commutative cipher ``E`` (commutative.py) and a secret key per side:

1. the guest sends ``E_g(x)`` for its ids ``x`` (a key per host), in its input's partitions and row
   order; each host sends ``E_h(y)`` for its ids, partitioned by value and sorted;
2. the host returns ``E_h(E_g(x))`` in the order it got them, so the guest pairs them with its ids; the
   guest computes ``E_g(E_h(y))`` itself and keeps which ``E_h(y)`` each came from;
3. equal doubly encrypted values are common ids. With ``sync_intersect_ids`` the guest sends each host
   the ``E_h(y)`` of the common ids, which the host maps back to its own ids (a value it never sent is
   refused). A host never sees a doubly encrypted value, so without sync it learns nothing.

Several hosts: the guest intersects across hosts by its own ids and tells each host the common ids.

Cardinality only (FATE's exact cardinality with DH or ECDH): nothing may be linked to an id, so every
set travels sorted and partitioned by value, and the guest uses one key for all hosts. The guest's
set goes through every host (``E_hk(...E_h1(E_g(x)))``) and each host's set through the guest and
every other host, so every id ends as the same value under all keys; the guest counts the values in
every set. Only the count is learned (by the hosts too with ``sync_cardinality``).
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import pyarrow as pa

from accord.components.intersection import keyed
from accord.components.intersection.commutative import Cipher, _values
from accord.components.intersection.keyed import SRC, Env
from accord.components.intersection.link import Link
from accord.computing import Block, BlockTable
from accord.computing.block import SID, require_batch
from accord.errors import TransferError

# ---- partition kernels (module level: they run in the engine's processes) ---------------------


def _first_blob(cipher: Cipher, index: int, block: Block) -> Block:
    """This party's ids encrypted once, in row order (the peer returns them in that order)."""
    batch = require_batch(block, "intersection")
    return b"".join(cipher.first([str(sid) for sid in batch.column(SID).to_pylist()]))


def _again_blob(cipher: Cipher, what: str, index: int, block: Block) -> Block:
    """The peer's values encrypted again, in the order they came."""
    return b"".join(cipher.again(block, what))


def _own_rows(cipher: Cipher, index: int, block: Block) -> Block:
    """Key table of this party's ids: key = the hex of the id encrypted once."""
    batch = require_batch(block, "intersection")
    values = cipher.first([str(sid) for sid in batch.column(SID).to_pylist()])
    return keyed.keyed_batch([value.hex() for value in values], batch.column(SID), batch.column(SRC))


def _paired_rows(cipher: Cipher, mine: Block, theirs: Block) -> Block:
    """This party's ids beside the doubly encrypted values the peer returned in their order."""
    batch = require_batch(mine, "intersection")
    values = _values(theirs, cipher.width, "doubly encrypted ids")
    if len(values) != batch.num_rows:
        raise TransferError(
            f"the peer returned {len(values)} doubly encrypted ids for a partition of {batch.num_rows}"
        )
    return keyed.keyed_batch([value.hex() for value in values], batch.column(SID), batch.column(SRC))


def _value_rows(cipher: Cipher, encrypt: bool, what: str, index: int, block: Block) -> Block:
    """Rows ``sid`` = the value (encrypted again when ``encrypt``), ``key`` and ``own`` = what came."""
    came = _values(block, cipher.width, what)
    values = cipher.again(block, what) if encrypt else came
    sent = pa.array([value.hex() for value in came], type=pa.string())
    sids = pa.array([value.hex() for value in values], type=pa.string())
    src = pa.array([index] * len(values), type=pa.int32())
    return pa.RecordBatch.from_arrays([sids, sent, sent, src], schema=keyed.KEYED_SCHEMA)


def _values_table(env: Env, table: BlockTable, cipher: Cipher, encrypt: bool, what: str) -> BlockTable:
    rows = table.map_partitions_with_index(functools.partial(_value_rows, cipher, encrypt, what))
    return env.keep(rows.repartition_by_sid(env.partitions) if encrypt else rows)


def _send_values(link: Link, name: str, table: BlockTable) -> None:
    # Sorted within each partition: the order tells the receiver nothing.
    link.send_table(name, keyed.outgoing(table, digests=True))


def _sid_values(index: int, block: Block) -> Block:
    # outgoing() sends the key column; a value table's own value is its sid.
    batch = require_batch(block, "intersection")
    return batch.set_column(batch.schema.get_field_index(keyed.KEY), keyed.KEY, batch.column(SID))


def _send_sids(link: Link, name: str, table: BlockTable) -> None:
    _send_values(link, name, table.map_partitions_with_index(_sid_values))


# ---- the intersection ----------------------------------------------------------------------------


def guest_host_values(env: Env, link: Link, cipher: Cipher) -> BlockTable:
    """The host's ids as the guest compares them: sid ``E_g(E_h(y))``, key ``E_h(y)`` as sent."""
    sent = link.receive_table("host_ids", env.engine, partitions=env.partitions)
    return _values_table(env, sent, cipher, True, "encrypted ids")


def guest_intersect(
    env: Env,
    hosts: list[Link],
    ids: BlockTable,
    make_cipher: Callable[[], Cipher],
    sync: bool,
    cached: list[tuple[Cipher, BlockTable]] | None = None,
) -> BlockTable:
    """``cached``: per host, the guest's key and the host's values (guest_host_values) of a cache."""
    ciphers = [cipher for cipher, _ in cached] if cached else [make_cipher() for _ in hosts]
    for link, cipher in zip(hosts, ciphers, strict=True):
        link.send_table("guest_ids", ids.map_partitions_with_index(functools.partial(_first_blob, cipher)))
    found, pairs = [], []
    for index, (link, cipher) in enumerate(zip(hosts, ciphers, strict=True)):
        if cached:
            theirs = env.keep(cached[index][1].repartition_by_sid(env.partitions))
        else:
            theirs = guest_host_values(env, link, cipher)
        doubled = link.receive_table("guest_ids_doubled", env.engine, partitions=ids.partitions)
        # sid and key: E_h(E_g(x)); own: x.
        mine = ids.zip_partitions(doubled, functools.partial(_paired_rows, cipher))
        mine = env.keep(mine.repartition_by_sid(env.partitions))
        found.append(env.keep(keyed.keep_in(mine, theirs)))
        pairs.append((mine, theirs))
    common = keyed.common_ids(env, found)
    if sync:
        for link, (mine, theirs), matched in zip(hosts, pairs, found, strict=True):
            if len(hosts) > 1:
                matched = keyed.among(env, mine, common)
            # The E_h(y) of the common ids, partitioned as the host partitioned them.
            link.send_table(
                "intersection",
                keyed.outgoing(keyed.by_key(env, keyed.keep_in(theirs, matched)), digests=True),
            )
    return common


def host_values(env: Env, ids: BlockTable, cipher: Cipher) -> BlockTable:
    """This party's ids keyed by ``E_h(y)``, partitioned by it."""
    return env.keep(
        ids.map_partitions_with_index(functools.partial(_own_rows, cipher)).repartition_by_sid(env.partitions)
    )


def host_publish(env: Env, guest: Link, ids: BlockTable, cipher: Cipher) -> BlockTable:
    own = host_values(env, ids, cipher)
    _send_values(guest, "host_ids", own)
    return own


def host_intersect(
    env: Env, guest: Link, ids: BlockTable, cipher: Cipher, sync: bool, cached: BlockTable | None = None
) -> BlockTable | None:
    """``cached``: this party's values (host_values) of a cache the guest holds them from too."""
    own = host_publish(env, guest, ids, cipher) if cached is None else cached
    received = guest.receive_table("guest_ids", env.engine)
    guest.send_table(
        "guest_ids_doubled",
        received.map_partitions_with_index(functools.partial(_again_blob, cipher, "encrypted ids")),
    )
    if not sync:
        return None
    sent = guest.receive_table("intersection", env.engine, partitions=env.partitions)
    return keyed.claimed(own, sent, cipher.width, "the intersection")


# ---- cardinality only ----------------------------------------------------------------------------


def _through(env: Env, link: Link, name: str, table: BlockTable, cipher: Cipher) -> BlockTable:
    """``table``'s values encrypted again by the peer, back sorted and partitioned by value."""
    _send_sids(link, name, table)
    back = link.receive_table(f"{name}.again", env.engine, partitions=env.partitions)
    return _values_table(env, back, cipher, False, "re-encrypted values")


def guest_cardinality(
    env: Env, hosts: list[Link], ids: BlockTable, cipher: Cipher, sync_cardinality: bool
) -> int:
    own = ids.map_partitions_with_index(functools.partial(_own_rows, cipher))
    mine = env.keep(keyed.by_key(env, own).map_partitions_with_index(_drop_own))
    for link in hosts:
        mine = _through(env, link, "guest", mine, cipher)
    common = mine
    for index, owner in enumerate(hosts):
        sent = owner.receive_table("own", env.engine, partitions=env.partitions)
        theirs = _values_table(env, sent, cipher, True, "encrypted ids")
        for other, link in enumerate(hosts):
            if other != index:
                theirs = _through(env, link, f"host{index}", theirs, cipher)
        common = env.keep(keyed.keep_in(common, theirs))
    count = common.count()
    if sync_cardinality:
        for link in hosts:
            link.send("cardinality", count)
    return count


def _drop_own(index: int, block: Block) -> Block:
    # Values sent on for cardinality carry no id: ``own`` becomes the value itself.
    batch = require_batch(block, "intersection")
    return batch.set_column(batch.schema.get_field_index(keyed.OWN), keyed.OWN, batch.column(SID))


def host_cardinality(
    env: Env,
    guest: Link,
    ids: BlockTable,
    cipher: Cipher,
    *,
    host_index: int,
    host_count: int,
    sync_cardinality: bool,
) -> int | None:
    own = ids.map_partitions_with_index(functools.partial(_own_rows, cipher))
    _send_values(guest, "own", own.repartition_by_sid(env.partitions))
    # The guest sends the sets in this order: its own, then each other host's.
    for name in ["guest"] + [f"host{other}" for other in range(host_count) if other != host_index]:
        sent = guest.receive_table(name, env.engine, partitions=env.partitions)
        again = _values_table(env, sent, cipher, True, "values")
        _send_sids(guest, f"{name}.again", again)
    if not sync_cardinality:
        return None
    count = guest.receive("cardinality")
    if isinstance(count, bool) or not isinstance(count, int) or count < 0:
        raise TransferError(f"the guest sent an intersection cardinality {count!r} that is not a count")
    return count
