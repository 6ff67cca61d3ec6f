"""``run_preprocess``: the filter owner's Bloom filter thins its peers' ids before the protocol.

With ``filter_owner`` guest (FATE's default) the guest sends one filter of its ids to every host and
each host keeps the ids the filter may hold; with ``filter_owner`` host every host sends the guest a
filter and the guest keeps the ids every host's filter may hold (an id of the intersection is held by
every host). The filter is built partition by partition on the engine and joined; the ids are
filtered a partition at a time, so no process holds the whole table.
"""

from __future__ import annotations

import functools
import hashlib
import secrets

import pyarrow as pa

from accord.components.intersection.bloom import BloomFilter, size_for
from accord.components.intersection.keyed import Env
from accord.components.intersection.link import Link
from accord.components.intersection.params import PreprocessParams
from accord.computing import Block, BlockTable
from accord.computing.block import SID, require_batch


def _digests(method: str, salt: str, batch: pa.RecordBatch) -> list[bytes]:
    texts = [str(sid) + salt for sid in batch.column(SID).to_pylist()]
    if method == "none":
        return [text.encode("utf-8") for text in texts]
    return [hashlib.new(method, text.encode("utf-8")).digest() for text in texts]


def _partition_filter(shape: tuple[int, int, int], method: str, salt: str, block: Block) -> BloomFilter:
    bloom = BloomFilter.empty(*shape)
    bloom.add(_digests(method, salt, require_batch(block, "intersection preprocessing")))
    return bloom


def _join(left: BloomFilter, right: BloomFilter) -> BloomFilter:
    return left.union(right)


def _kept(filters: tuple[bytes, ...], method: str, salt: str, index: int, block: Block) -> Block:
    batch = require_batch(block, "intersection preprocessing")
    digests = _digests(method, salt, batch)
    keep = None
    for data in filters:
        held = BloomFilter.from_bytes(data).may_hold(digests)
        keep = held if keep is None else keep & held
    return batch if keep is None else batch.filter(pa.array(keep, type=pa.bool_()))


def build_filter(ids: BlockTable, count: int, params: PreprocessParams) -> BloomFilter:
    bits, hashes = size_for(count, float(params.false_positive_rate))
    # FATE draws the hash seeds at random unless random_state fixes them; the seed travels with the filter.
    seed = int(params.random_state) if params.random_state is not None else secrets.randbits(63)
    shape = (bits, hashes, seed)
    zero = BloomFilter.empty(*shape)
    partial = functools.partial(_partition_filter, shape, params.preprocess_method, params.preprocess_salt)
    return ids.aggregate(zero, partial, _join)


def thin_ids(
    env: Env, role: str, peers: list[Link], ids: BlockTable, count: int, params: PreprocessParams
) -> tuple[BlockTable, int]:
    """This party's ids left for the protocol, and how many filters were applied to them."""
    links = [link.under("preprocess") for link in peers]
    if role == params.filter_owner:
        sent = build_filter(ids, count, params).to_bytes()
        for link in links:
            link.send("filter", sent)
        return ids, 0
    filters = tuple(BloomFilter.from_bytes(link.receive("filter")).to_bytes() for link in links)
    kept = ids.map_partitions_with_index(
        functools.partial(_kept, filters, params.preprocess_method, params.preprocess_salt),
        preserves_sids=True,
    )
    return env.keep(kept), len(filters)
