"""Batch operations on ciphertext lists, in-process or spread over the pool by size.

Each function estimates its work in modular multiplications mod ``n²`` and hands batches worth
:data:`accord.crypto.pool.MIN_PARALLEL_WORK` or more to the pool in one contiguous chunk per
worker; smaller ones run here. Both paths run the same task functions, so they give identical
results.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

from accord.crypto import counting, pool, tasks
from accord.crypto._gmp import ONE, powmod_base_list, powmod_pairs
from accord.crypto.codec import pack_ciphertexts, unpack_ciphertexts
from accord.crypto.keys import PrivateKey, PublicKey, encrypt_integers, rerandomize
from accord.crypto.multiexp import column_products, estimated_multiplications
from accord.crypto.obfuscator import window_bits_for


def _encryption_work(public_key: PublicKey) -> int:
    exponent_bits = public_key.key_length // 2
    return -(-exponent_bits // window_bits_for(public_key.key_length)) + 2


def encrypt(public_key: PublicKey, plaintexts: list[int]) -> list[int]:
    if not pool.worth_parallel(len(plaintexts) * _encryption_work(public_key)):
        return encrypt_integers(public_key, plaintexts)
    # Counted here: the pool's processes count nothing (see accord.crypto.counting).
    counting.count(counting.ENCRYPT, len(plaintexts))
    n = int(public_key.n)
    bounds = pool.chunk_bounds(len(plaintexts), pool.parallelism())
    packed = pool.run_parallel(tasks.encrypt_task, [(n, plaintexts[a:b]) for a, b in bounds])
    return _unpack_all(packed, public_key.ciphertext_bytes)


def refresh(public_key: PublicKey, ciphertexts: list[int]) -> list[int]:
    if not pool.worth_parallel(len(ciphertexts) * _encryption_work(public_key)):
        return rerandomize(public_key, ciphertexts)
    counting.count(counting.RERANDOMIZE, len(ciphertexts))
    return _unpack_all(
        pool.run_parallel(tasks.rerandomize_task, _chunks(public_key, ciphertexts)),
        public_key.ciphertext_bytes,
    )


def powers(public_key: PublicKey, ciphertexts: list[int], exponent: int) -> list[int]:
    """Every ciphertext to the power ``exponent``; a negative exponent inverts."""
    if exponent == 1:
        return list(ciphertexts)
    counting.count(counting.MULTIPLY, len(ciphertexts))
    # An inversion costs about as much as ten multiplications.
    work = len(ciphertexts) * (1.5 * abs(exponent).bit_length() + (10 if exponent < 0 else 0))
    if not pool.worth_parallel(work):
        return powmod_base_list(ciphertexts, exponent, public_key.nsquare)
    chunks = [(n, packed, exponent) for n, packed in _chunks(public_key, ciphertexts)]
    return _unpack_all(pool.run_parallel(tasks.power_task, chunks), public_key.ciphertext_bytes)


def pairwise_powers(public_key: PublicKey, ciphertexts: list[int], exponents: list[int]) -> list[int]:
    """Each ciphertext to its own exponent (an elementwise product with plaintexts); negative inverts."""
    counting.count(counting.MULTIPLY, len(ciphertexts))
    largest = max((abs(e) for e in exponents), default=0)
    inverting = any(e < 0 for e in exponents)
    work = len(ciphertexts) * (1.5 * largest.bit_length() + (10 if inverting else 0))
    if not pool.worth_parallel(work):
        return powmod_pairs(ciphertexts, exponents, public_key.nsquare)
    n = int(public_key.n)
    width = public_key.ciphertext_bytes
    bounds = pool.chunk_bounds(len(ciphertexts), pool.parallelism())
    chunks = [(n, pack_ciphertexts(ciphertexts[a:b], width), exponents[a:b]) for a, b in bounds]
    return _unpack_all(pool.run_parallel(tasks.pairwise_power_task, chunks), width)


def decrypt(private_key: PrivateKey, ciphertexts: list[int]) -> list[int]:
    public_key = private_key.public_key
    # Two exponentiations with half-length exponents modulo half-length squares.
    if not pool.worth_parallel(len(ciphertexts) * public_key.key_length / 4):
        return private_key.decrypt_residues(ciphertexts)
    counting.count(counting.DECRYPT, len(ciphertexts))
    p, q = int(private_key.p), int(private_key.q)
    chunks = [(n, p, q, packed) for n, packed in _chunks(public_key, ciphertexts)]
    return [m for part in pool.run_parallel(tasks.decrypt_task, chunks) for m in part]


def products(public_key: PublicKey, ciphertexts: list[int], exponents: NDArray[np.int64]) -> list[int]:
    """``Π_i c_i^(exponents[i, j])`` for every column ``j``."""
    rows, columns = exponents.shape
    counting.count(counting.EXPONENTIATION, rows * columns)
    nsquare = public_key.nsquare
    bits = [int(v).bit_length() + 1 for v in np.abs(exponents).max(axis=0, initial=0).tolist()]
    if not pool.worth_parallel(estimated_multiplications(rows, bits)):
        return column_products(ciphertexts, exponents, nsquare)
    n = int(public_key.n)
    width = public_key.ciphertext_bytes
    bounds = pool.chunk_bounds(rows, pool.parallelism())
    chunks = [(n, pack_ciphertexts(ciphertexts[a:b], width), exponents[a:b]) for a, b in bounds]
    combined = [ONE] * columns
    for packed in pool.run_parallel(tasks.column_products_task, chunks):
        partial = unpack_ciphertexts(packed, width)
        combined = [x * y % nsquare for x, y in zip(combined, partial, strict=True)]
    return combined


def _chunks(public_key: PublicKey, ciphertexts: Sequence[int]) -> list[tuple[int, bytes]]:
    n = int(public_key.n)
    width = public_key.ciphertext_bytes
    bounds = pool.chunk_bounds(len(ciphertexts), pool.parallelism())
    return [(n, pack_ciphertexts(ciphertexts[a:b], width)) for a, b in bounds]


def _unpack_all(parts: list[bytes], width: int) -> list[int]:
    return [c for part in parts for c in unpack_ciphertexts(part, width)]
