"""Grouped sums of Paillier ciphertexts: SecureBoost's encrypted histograms.

A histogram bin's ciphertext is the product (mod n²) of the ciphertexts of the rows in it, so the
plaintext is the sum of theirs. Rows carry ``width`` ciphertexts each (a packed row may need several);
big batches are split by rows over the process pool and the partial histograms multiplied together.
``compress`` packs several bins' ciphertexts into one (shift and add, Horner style) so the key holder
decrypts fewer of them; ``subtract`` gives a sibling's histogram from its parent's.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

from accord.crypto import counting, pool
from accord.crypto._gmp import ONE, mpz, powmod_base_list
from accord.crypto.codec import pack_ciphertexts, unpack_ciphertexts
from accord.crypto.keys import PublicKey


def grouped_task(n: int, packed: bytes, width: int, groups: NDArray[np.int64], group_count: int) -> bytes:
    """The histogram of these rows, packed: ``features * group_count * width`` ciphertexts."""
    public_key = PublicKey(mpz(n))
    nsquare = public_key.nsquare
    size = public_key.ciphertext_bytes
    ciphertexts = unpack_ciphertexts(packed, size)
    rows, features = groups.shape
    cells: list[int] = [ONE] * (features * group_count * width)
    # Flat index of each (row, feature)'s first cell: feature block plus the row's group in it.
    starts = ((groups + np.arange(features, dtype=np.int64) * group_count) * width).tolist()
    for row in range(rows):
        row_cts = ciphertexts[row * width : (row + 1) * width]
        for start in starts[row]:
            for k in range(width):
                cells[start + k] = cells[start + k] * row_cts[k] % nsquare
    return pack_ciphertexts(cells, size)


def grouped_sums(
    public_key: PublicKey,
    ciphertexts: Sequence[int],
    width: int,
    groups: NDArray[np.int64],
    group_count: int,
) -> list[int]:
    """Per feature and group, the product of the ``width`` ciphertexts of the rows in that group.

    ``ciphertexts`` holds ``width`` ciphertexts per row, row after row; ``groups`` (rows, features)
    each row's group per feature, in ``[0, group_count)``. Returns ``features·group_count·width``
    ciphertexts, feature-major.
    """
    rows, features = groups.shape
    counting.count(counting.ADD, rows * features * width)
    n = int(public_key.n)
    size = public_key.ciphertext_bytes
    parts = (
        pool.chunk_bounds(rows, pool.parallelism()) if pool.worth_parallel(rows * features * width) else []
    )
    if len(parts) <= 1:
        packed = [grouped_task(n, pack_ciphertexts(ciphertexts, size), width, groups, group_count)]
    else:
        arguments = [
            (n, pack_ciphertexts(ciphertexts[a * width : b * width], size), width, groups[a:b], group_count)
            for a, b in parts
        ]
        packed = pool.run_parallel(grouped_task, arguments)
    nsquare = public_key.nsquare
    total = unpack_ciphertexts(packed[0], size)
    for part in packed[1:]:
        total = [x * y % nsquare for x, y in zip(total, unpack_ciphertexts(part, size), strict=True)]
    return total


def subtract(public_key: PublicKey, minuend: Sequence[int], subtrahend: Sequence[int]) -> list[int]:
    """Ciphertexts of the plaintext differences (the parent's histogram less one child's)."""
    nsquare = public_key.nsquare
    counting.count(counting.ADD, len(minuend))
    inverses = powmod_base_list(list(subtrahend), -1, nsquare)
    return [x * y % nsquare for x, y in zip(minuend, inverses, strict=True)]


def compress_task(n: int, packed: bytes, shift_bits: int, per: int) -> bytes:
    public_key = PublicKey(mpz(n))
    size = public_key.ciphertext_bytes
    return pack_ciphertexts(_compress(public_key, unpack_ciphertexts(packed, size), shift_bits, per), size)


def _compress(public_key: PublicKey, ciphertexts: Sequence[int], shift_bits: int, per: int) -> list[int]:
    nsquare = public_key.nsquare
    factor = mpz(1 << shift_bits)
    groups = -(-len(ciphertexts) // per)
    packed = [ciphertexts[g * per] for g in range(groups)]
    for j in range(1, per):
        # Horner step over every group at once: the exponentiations run in C without the GIL.
        live = [g for g in range(groups) if g * per + j < len(ciphertexts)]
        shifted = powmod_base_list([packed[g] for g in live], factor, nsquare)
        for g, value in zip(live, shifted, strict=True):
            packed[g] = value * ciphertexts[g * per + j] % nsquare
    return packed


def compress(public_key: PublicKey, ciphertexts: Sequence[int], shift_bits: int, per: int) -> list[int]:
    """Pack every ``per`` ciphertexts into one: plaintext ``sum_j m_j * 2^(shift_bits*(per-1-j))``.

    Each ``m_j`` must be below ``2^shift_bits`` and ``per*shift_bits`` below the key length.
    """
    if per <= 1:
        return list(ciphertexts)
    # Horner's rule: a multiplication by 2^shift_bits and an addition per packed ciphertext.
    counting.count(counting.MULTIPLY, len(ciphertexts) - -(-len(ciphertexts) // per))
    counting.count(counting.ADD, len(ciphertexts) - -(-len(ciphertexts) // per))
    if not pool.worth_parallel(len(ciphertexts) * shift_bits):
        return _compress(public_key, ciphertexts, shift_bits, per)
    size = public_key.ciphertext_bytes
    groups = -(-len(ciphertexts) // per)
    bounds = pool.chunk_bounds(groups, pool.parallelism())
    arguments = [
        (int(public_key.n), pack_ciphertexts(ciphertexts[a * per : b * per], size), shift_bits, per)
        for a, b in bounds
    ]
    return [c for part in pool.run_parallel(compress_task, arguments) for c in unpack_ciphertexts(part, size)]


def split_packed(plaintexts: Sequence[int], shift_bits: int, per: int, count: int) -> list[int]:
    """Undo :func:`compress` on decrypted plaintexts: the ``count`` values in their order."""
    mask = (1 << shift_bits) - 1
    values: list[int] = []
    for index, plain in enumerate(plaintexts):
        in_this = min(per, count - index * per)
        values.extend((int(plain) >> (shift_bits * (in_this - 1 - j))) & mask for j in range(in_this))
    return values
