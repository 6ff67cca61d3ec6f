"""The overlap of the guest's and the host's ids, found as FATE's FTL finds it: inside the component.

FATE runs an RSA intersection here; Accord runs the ECDH one of its Intersection component (X25519
commutative encryption of SHA-256 id hashes, :mod:`accord.components.intersection.commutative`): each
party learns which of its own rows are in the overlap and nothing about the other's other ids. The
guest then tells the host the order of the overlap rows (the positions of the host's doubly encrypted
ids, in the guest's id order), so both sides pair rows by position.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from accord.components.intersection.commutative import EcdhCipher
from accord.components.sdk import ComponentContext
from accord.errors import DataMismatchError


def _blob(values: list[bytes]) -> bytes:
    return b"".join(values)


def guest_overlap(ctx: ComponentContext[Any], ids: np.ndarray, tag: str) -> np.ndarray:
    """The guest's row positions of the overlap, in id order (the host gets the same order)."""
    cipher = EcdhCipher.generate("sha256", "")
    transfer = ctx.transfer
    transfer.remote(_blob(cipher.first([str(i) for i in ids])), role="host", tag=f"align.g.{tag}", index=0)
    host_once = transfer.get(role="host", tag=f"align.h.{tag}", index=0)
    host_twice = cipher.again(host_once, "host ids")
    guest_twice = transfer.get(role="host", tag=f"align.gg.{tag}", index=0)
    # guest_twice holds the guest's ids encrypted by both keys, in the guest's row order.
    width = cipher.width
    if not isinstance(guest_twice, bytes) or len(guest_twice) != width * len(ids):
        raise DataMismatchError(f"{ctx.component}: the host sent malformed ids", hint="rerun the job")
    doubled = [guest_twice[at : at + width] for at in range(0, len(guest_twice), width)]
    where_host = {value: row for row, value in enumerate(host_twice)}
    rows = [row for row in np.argsort(ids.astype(str), kind="stable") if doubled[row] in where_host]
    if not rows:
        transfer.remote(None, role="host", tag=f"align.order.{tag}", index=0)
        raise DataMismatchError(
            f"{ctx.component}: the guest and the host share no ids", hint="FTL needs overlapping samples"
        )
    transfer.remote(
        [where_host[doubled[row]] for row in rows], role="host", tag=f"align.order.{tag}", index=0
    )
    return np.asarray(rows, dtype=np.int64)


def host_overlap(ctx: ComponentContext[Any], ids: np.ndarray, tag: str) -> np.ndarray:
    """The host's row positions of the overlap, in the order the guest pairs them."""
    cipher = EcdhCipher.generate("sha256", "")
    transfer = ctx.transfer
    transfer.remote(_blob(cipher.first([str(i) for i in ids])), role="guest", tag=f"align.h.{tag}", index=0)
    guest_once = transfer.get(role="guest", tag=f"align.g.{tag}", index=0)
    transfer.remote(
        _blob(cipher.again(guest_once, "guest ids")), role="guest", tag=f"align.gg.{tag}", index=0
    )
    order = transfer.get(role="guest", tag=f"align.order.{tag}", index=0)
    if order is None:
        raise DataMismatchError(
            f"{ctx.component}: the guest and the host share no ids", hint="FTL needs overlapping samples"
        )
    positions = np.asarray(order, dtype=np.int64)
    if positions.ndim != 1 or (len(positions) and (positions.min() < 0 or positions.max() >= len(ids))):
        raise DataMismatchError(f"{ctx.component}: the guest sent an invalid overlap", hint="rerun the job")
    return positions
