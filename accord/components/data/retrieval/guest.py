"""SIR on the guest: the host's values for the guest's ids, the ids hidden among dummy blocks.

1. Both parties encrypt their ids (Pohlig-Hellman, each its own key) and each encrypts the other's
   once more; equal doubly encrypted ids are the matches. The host never sees the guest's ids in
   any form it can undo.
2. The guest sends N = ceil(2 exp(ln(500) * security_level)) blocks of the host's own once-encrypted
   ids: the matches at a secret position, and N - 1 random draws of the same size.
3. The host encrypts each block's values with AES under key i of a 1-of-N oblivious transfer; the
   guest can derive only the key of its block, so it learns the values of its ids and nothing else.
"""

from __future__ import annotations

import math
import random
from typing import Any

import numpy as np

from accord.components.data.retrieval import crypto, groups, rows
from accord.components.data.retrieval.params import SecureInformationRetrievalParam
from accord.components.sdk import ComponentContext, DataTable
from accord.errors import TransferError

Context = ComponentContext[SecureInformationRetrievalParam]
SECURITY_SCALE = math.log(500)


def block_count(security_level: float) -> int:
    """FATE's N of the 1-of-N transfer: 2 exp(ln(500) * level), rounded up (45 at 0.5)."""
    return math.ceil(2 * math.exp(SECURITY_SCALE * security_level))


def run_guest(ctx: Context, data: DataTable) -> tuple[list[str], np.ndarray, dict[str, Any]]:
    """The guest's ids, the retrieved values (NaN: not retrieved) and what its model records."""
    params = ctx.params
    if params.raw:
        ctx.transfer.remote({"raw": True}, role="host", tag="sir.setup", index=0)
        return _raw(ctx, data)
    block_num = block_count(float(params.security_level))
    ctx.transfer.remote(
        {"raw": False, "block_num": block_num, "key_length": params.key_length},
        role="host",
        tag="sir.setup",
        index=0,
    )
    p = groups.prime(params.key_length)
    key = crypto.new_key(p)
    ids, encrypted = rows.encrypted_ids(data, params.dh_params.hash_method, params.dh_params.salt, p, key)
    order = list(range(len(ids)))
    random.SystemRandom().shuffle(order)
    ctx.transfer.remote([encrypted[i] for i in order], role="host", tag="sir.guest_ids", index=0)
    host_once = [int(e) for e in ctx.transfer.get(role="host", tag="sir.host_ids", index=0)]
    twice = [int(e) for e in ctx.transfer.get(role="host", tag="sir.guest_ids_twice", index=0)]
    if len(twice) != len(ids):
        raise TransferError(f"{ctx.component}: the host returned {len(twice)} ids for {len(ids)}")
    host_of = {e: j for j, e in enumerate(crypto.encrypt(host_once, key, p))}
    # Guest row -> the host's once-encrypted id of the same id.
    matches = {order[i]: host_once[host_of[e]] for i, e in enumerate(twice) if e in host_of}
    target = sorted(matches.values())
    rng = random.SystemRandom()
    chosen = rng.randrange(block_num)
    blocks = [target if i == chosen else sorted(rng.sample(host_once, len(target))) for i in range(block_num)]
    ctx.transfer.remote(blocks, role="host", tag="sir.blocks", index=0)
    s = int(ctx.transfer.get(role="host", tag="sir.ot_s", index=0))
    r, block_key = crypto.ot_receiver_choose(p, s, chosen)
    ctx.transfer.remote(r, role="host", tag="sir.ot_r", index=0)
    sealed = ctx.transfer.get(role="host", tag="sir.sealed", index=0)
    payload = crypto.unseal(block_key, bytes(sealed[chosen]))
    if payload is None:
        raise TransferError(
            f"{ctx.component}: the host's block does not open with the transferred key",
            hint="the host's answer was altered or the parties run different versions",
        )
    width = max(len(params.target_cols), 1)
    got = np.frombuffer(payload, dtype="<f8").reshape(len(target), width)
    position = {e: i for i, e in enumerate(target)}
    values = np.full((len(ids), width), np.nan)
    for row, once in matches.items():
        values[row] = got[position[once]]
    ctx.transfer.remote(len(matches), role="host", tag="sir.coverage", index=0)
    return ids, values, {"coverage": len(matches) / max(len(ids), 1), "block_num": block_num}


def _raw(ctx: Context, data: DataTable) -> tuple[list[str], np.ndarray, dict[str, Any]]:
    ids = rows.ids_of(data)
    ctx.transfer.remote(ids, role="host", tag="sir.raw_ids", index=0)
    sent = ctx.transfer.get(role="host", tag="sir.raw_values", index=0)
    width = max(len(ctx.params.target_cols), 1)
    got = np.asarray(sent["values"], dtype=np.float64).reshape(-1, width)
    where = {str(sid): i for i, sid in enumerate(sent["ids"])}
    values = np.full((len(ids), width), np.nan)
    matched = 0
    for row, sid in enumerate(ids):
        if sid in where:
            values[row] = got[where[sid]]
            matched += 1
    ctx.transfer.remote(matched, role="host", tag="sir.coverage", index=0)
    return ids, values, {"coverage": matched / max(len(ids), 1), "block_num": "N/A"}
