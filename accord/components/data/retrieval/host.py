"""SIR on the host: answer the guest's retrieval without learning which of its ids the guest has.

What the host learns, as in FATE: the number of blocks, N blocks of its own ids of the same size
(the guest's matches hidden among N - 1 random draws), and the coverage (how many matched).
"""

from __future__ import annotations

import random
from typing import Any

import numpy as np

from accord.components.data.retrieval import crypto, groups, rows
from accord.components.data.retrieval.params import SecureInformationRetrievalParam
from accord.components.sdk import ComponentContext, DataTable
from accord.errors import TransferError

Context = ComponentContext[SecureInformationRetrievalParam]


def run_host(ctx: Context, data: DataTable) -> dict[str, Any]:
    """Serve the retrieval; returns what the host's model records."""
    ids, values = rows.values_of(data, ctx.params.target_cols, ctx.component)
    setup = ctx.transfer.get(role="guest", tag="sir.setup", index=0)
    if setup.get("raw"):
        return _raw(ctx, ids, values)
    p = groups.prime(int(setup["key_length"]))
    block_num = int(setup["block_num"])
    dh = ctx.params.dh_params
    key = crypto.new_key(p)
    own, encrypted = rows.encrypted_ids(data, dh.hash_method, dh.salt, p, key)
    if own != ids:
        raise TransferError(f"{ctx.component}: the host's rows changed while it read them")
    # Shuffled, so the order says nothing about which row an encrypted id is.
    order = list(range(len(ids)))
    random.SystemRandom().shuffle(order)
    ctx.transfer.remote([encrypted[i] for i in order], role="guest", tag="sir.host_ids", index=0)
    guest_once = ctx.transfer.get(role="guest", tag="sir.guest_ids", index=0)
    ctx.transfer.remote(crypto.encrypt(guest_once, key, p), role="guest", tag="sir.guest_ids_twice", index=0)
    blocks = ctx.transfer.get(role="guest", tag="sir.blocks", index=0)
    if len(blocks) != block_num:
        raise TransferError(f"{ctx.component}: the guest sent {len(blocks)} blocks for {block_num}")
    row_of = {e: i for i, e in enumerate(encrypted)}
    y, s = crypto.ot_sender_setup(p)
    ctx.transfer.remote(s, role="guest", tag="sir.ot_s", index=0)
    r = int(ctx.transfer.get(role="guest", tag="sir.ot_r", index=0))
    keys = crypto.ot_sender_keys(p, y, s, r, block_num)
    sealed = []
    for block, block_key in zip(blocks, keys, strict=True):
        try:
            picked = values[[row_of[int(e)] for e in block]]
        except KeyError:
            raise TransferError(f"{ctx.component}: the guest asked for an id the host never sent") from None
        sealed.append(crypto.seal(block_key, np.ascontiguousarray(picked, dtype="<f8").tobytes()))
    ctx.transfer.remote(sealed, role="guest", tag="sir.sealed", index=0)
    matched = int(ctx.transfer.get(role="guest", tag="sir.coverage", index=0))
    ctx.log.info("%s: %d blocks served, %d of the guest's ids matched", ctx.component, block_num, matched)
    return {"coverage": matched / max(len(ids), 1), "block_num": block_num}


def _raw(ctx: Context, ids: list[str], values: np.ndarray) -> dict[str, Any]:
    """Raw retrieval (security_level 0): the guest's ids arrive in the clear, as in FATE."""
    asked = {str(sid) for sid in ctx.transfer.get(role="guest", tag="sir.raw_ids", index=0)}
    hits = [i for i, sid in enumerate(ids) if sid in asked]
    ctx.transfer.remote(
        {"ids": [ids[i] for i in hits], "values": values[hits]}, role="guest", tag="sir.raw_values", index=0
    )
    matched = int(ctx.transfer.get(role="guest", tag="sir.coverage", index=0))
    return {"coverage": matched / max(len(ids), 1), "block_num": "N/A"}
