"""The host's side of the cross-party block: products under encryption, masked before decryption.

For each guest column [[z_g]] the host computes [[Z_h^T z_g]] (EncryptedVector.dot), adds a mask r
drawn uniformly from the whole plaintext space Z_N to each element's encoding (c · (1 + r·N) mod N²,
then fresh randomness), and sends the ciphertexts. The guest's decryption is then a uniform residue
that says nothing; the host subtracts r, reads the fixed-point value and divides by n. With
use_mix_rand the masks come from a pseudo-random generator seeded from system randomness (FATE's
"mix system random and pseudo random"), else each one from the system's randomness.
"""

from __future__ import annotations

import random
import secrets
from collections.abc import Mapping
from typing import Any

import numpy as np

from accord.components.sdk.transfer import Transfer
from accord.crypto import batch
from accord.crypto.fixedpoint import to_floats
from accord.crypto.paillier import PublicKey
from accord.crypto.vector import EncryptedVector
from accord.errors import DataMismatchError

COLUMNS = "pearson.columns"
MASKED = "pearson.masked"
UNMASK = "pearson.unmask"
CORR = "pearson.corr"


def _masks(n: int, count: int, mix: bool) -> list[int]:
    if mix:
        generator = random.Random(secrets.randbits(256))
        return [generator.randrange(n) for _ in range(count)]
    return [secrets.randbelow(n) for _ in range(count)]


def cross(z: np.ndarray, count: int, *, use_mix_rand: bool, transfer: Transfer) -> np.ndarray:
    """Z_g^T Z_h / n (guest rows, host columns); the host learns it and sends it to the guest."""
    received: Mapping[str, Any] = transfer.get(role="guest", tag=COLUMNS, index=0)
    public_key = PublicKey.from_dict(received["public_key"])
    n, nsquare = public_key.n, public_key.nsquare
    masked: list[list[int]] = []
    kept: list[tuple[list[int], int]] = []
    for blob in received["columns"]:
        column = EncryptedVector.from_bytes(blob, public_key)
        if len(column) != z.shape[0]:
            raise DataMismatchError(
                f"the guest sent a column of {len(column)} rows; this host has {z.shape[0]}",
                hint="run HeteroPearson on the intersection's output on both parties",
            )
        product = column.dot(z)
        masks = _masks(n, len(product), use_mix_rand)
        shifted = [
            c * ((1 + r * n) % nsquare) % nsquare for c, r in zip(product.ciphertexts, masks, strict=True)
        ]
        masked.append([int(c) for c in batch.refresh(public_key, shifted)])
        kept.append((masks, product.exponent))
    transfer.remote(masked, role="guest", tag=MASKED, index=0)
    residues: list[list[int]] = transfer.get(role="guest", tag=UNMASK, index=0)
    rows = []
    half = public_key.max_plaintext
    for row, (masks, exponent) in zip(residues, kept, strict=True):
        plain = [(int(m) - r) % n for m, r in zip(row, masks, strict=True)]
        rows.append(to_floats([m - n if m > half else m for m in plain], exponent) / count)
    corr = np.array(rows, dtype=np.float64).reshape(len(kept), z.shape[1])
    transfer.remote(corr, role="guest", tag=CORR, index=0)
    return corr
