"""Paillier keys as the components use them: the integer-level keys plus vector encryption.

Scheme and kernels are in :mod:`accord.crypto.keys`; here the public key gains ``encrypt`` (a float
vector to an :class:`~accord.crypto.vector.EncryptedVector`) and the private key ``decrypt`` (back).
The layering keeps the imports one-way: this module imports the vectors, the vectors and the batch
layer import only the integer-level keys.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from accord.crypto import keys
from accord.crypto.keys import (
    DEFAULT_KEY_LENGTH,
    KEY_ALGORITHM,
    MIN_KEY_LENGTH,
    encrypt_integers,
    rerandomize,
)
from accord.crypto.vector import EncryptedVector, decrypt_vector, encrypt_vector

__all__ = [
    "DEFAULT_KEY_LENGTH",
    "KEY_ALGORITHM",
    "MIN_KEY_LENGTH",
    "PrivateKey",
    "PublicKey",
    "encrypt_integers",
    "generate_keypair",
    "rerandomize",
]


class PublicKey(keys.PublicKey):
    def encrypt(self, values: np.ndarray | Sequence[float]) -> EncryptedVector:
        """Ciphertexts of a 1-D float vector (see :mod:`accord.crypto.fixedpoint` for the encoding)."""
        return encrypt_vector(self, values)


class PrivateKey(keys.PrivateKey):
    def decrypt(self, vector: EncryptedVector) -> np.ndarray:
        """The float64 values of ``vector``; residues above ``n/2`` come back negative."""
        return decrypt_vector(self, vector)


def generate_keypair(key_length: int = DEFAULT_KEY_LENGTH) -> tuple[PublicKey, PrivateKey]:
    """A fresh key pair whose modulus has exactly ``key_length`` bits."""
    public, private = keys.generate_keypair(key_length)
    public_key = PublicKey(public.n)
    return public_key, PrivateKey(private.p, private.q, public_key)
