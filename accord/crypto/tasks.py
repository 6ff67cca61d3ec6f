"""The work the process pool runs: plain functions of ints, bytes and int64 arrays.

Each task rebuilds what it needs from integers (keys are cached per worker process, as are the
obfuscator tables), works on packed ciphertexts (see :mod:`accord.crypto.codec`) and returns packed
ciphertexts. The same functions run in-process when the pool is off, so both paths share one code.
"""

from __future__ import annotations

import os
import sys
from functools import lru_cache

import numpy as np
from numpy.typing import NDArray

from accord.crypto._gmp import powmod_base_list, powmod_pairs
from accord.crypto.codec import pack_ciphertexts, unpack_ciphertexts
from accord.crypto.keys import PrivateKey, PublicKey, encrypt_integers, rerandomize
from accord.crypto.multiexp import column_products


@lru_cache(maxsize=8)
def _public_key(n: int) -> PublicKey:
    return PublicKey(n)


@lru_cache(maxsize=4)
def _private_key(n: int, p: int, q: int) -> PrivateKey:
    return PrivateKey(p, q, _public_key(n))


def encrypt_task(n: int, plaintexts: list[int]) -> bytes:
    public_key = _public_key(n)
    return pack_ciphertexts(encrypt_integers(public_key, plaintexts), public_key.ciphertext_bytes)


def rerandomize_task(n: int, packed: bytes) -> bytes:
    public_key = _public_key(n)
    width = public_key.ciphertext_bytes
    return pack_ciphertexts(rerandomize(public_key, unpack_ciphertexts(packed, width)), width)


def power_task(n: int, packed: bytes, exponent: int) -> bytes:
    """Every ciphertext to the power ``exponent`` (negative: of its inverse)."""
    public_key = _public_key(n)
    width = public_key.ciphertext_bytes
    powers = powmod_base_list(unpack_ciphertexts(packed, width), exponent, public_key.nsquare)
    return pack_ciphertexts(powers, width)


def pairwise_power_task(n: int, packed: bytes, exponents: list[int]) -> bytes:
    """Each ciphertext to its own exponent."""
    public_key = _public_key(n)
    width = public_key.ciphertext_bytes
    return pack_ciphertexts(
        powmod_pairs(unpack_ciphertexts(packed, width), exponents, public_key.nsquare), width
    )


def decrypt_task(n: int, p: int, q: int, packed: bytes) -> list[int]:
    private_key = _private_key(n, p, q)
    ciphertexts = unpack_ciphertexts(packed, private_key.public_key.ciphertext_bytes)
    return [int(m) for m in private_key.decrypt_residues(ciphertexts)]


def column_products_task(n: int, packed: bytes, exponents: NDArray[np.int64]) -> bytes:
    public_key = _public_key(n)
    width = public_key.ciphertext_bytes
    products = column_products(unpack_ciphertexts(packed, width), exponents, public_key.nsquare)
    return pack_ciphertexts(products, width)


def module_names_task() -> list[str]:
    """The modules loaded in the process that runs this: lets tests see what a worker imported."""
    return sorted(sys.modules)


def process_id_task() -> int:
    return os.getpid()
