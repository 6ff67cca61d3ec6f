"""The guest's side of the cross-party block: it holds the Paillier key and never sees host values.

The guest encrypts each of its standardized columns [[z_g]] and sends them with its public key; it
decrypts only masked values (uniform residues, see host.py) and hands them back; the host unmasks and
returns the correlation matrix, which both parties keep, as in FATE.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from accord.components.feature.pearson import host as protocol
from accord.components.sdk.transfer import Transfer
from accord.crypto import batch, generate_keypair
from accord.crypto.vector import encrypt_vector


def cross(z: np.ndarray, *, key_length: int, transfer: Transfer) -> np.ndarray:
    """Z_g^T Z_h / n for the remaining columns (guest rows, host columns), via the host."""
    public_key, private_key = generate_keypair(key_length)
    columns = [encrypt_vector(public_key, z[:, j]).to_bytes() for j in range(z.shape[1])]
    transfer.remote(
        {"public_key": public_key.to_dict(), "columns": columns}, role="host", tag=protocol.COLUMNS, index=0
    )
    masked: list[list[int]] = transfer.get(role="host", tag=protocol.MASKED, index=0)
    residues = [[int(m) for m in batch.decrypt(private_key, [int(c) for c in row])] for row in masked]
    transfer.remote(residues, role="host", tag=protocol.UNMASK, index=0)
    found: Any = transfer.get(role="host", tag=protocol.CORR, index=0)
    return np.asarray(found, dtype=np.float64)
