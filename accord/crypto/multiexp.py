"""Column multi-exponentiation: ``Π_i c_i^(E_ij) mod n²`` for every column ``j`` of an integer matrix.

This is ``X^T·[[d]]`` once ``X`` is fixed-point encoded: the hot path of hetero logistic regression.
Computing each power separately costs a full square-and-multiply chain per entry. Two algorithms
share that work instead, and :func:`column_products` picks the cheaper by a cost model counting
modular multiplications (everything else is negligible next to a 2048-bit multiplication):

* Buckets (Pippenger), per column: cut each exponent into windows of ``b`` bits; for one window,
  multiply every base into the bucket of its digit, then fold the buckets so bucket ``d`` counts
  ``d`` times (two running products). About ``ceil(B/b)·(rows + 2^(b+1))`` multiplications for
  ``B``-bit exponents instead of ``1.5·B·rows``; wins with many rows and few columns.
* Subset products (four Russians), across columns: group the rows ``g`` at a time and table the
  product of every subset of each group once (``2^g`` multiplications per group). Bit ``t`` of
  column ``j`` then needs one table entry per group, multiplied into that bit's accumulator, and
  Horner over the bits gives the column: ``rows/g·(2^g + columns·B)`` in all. The tables are shared
  by every column, so this wins when columns are many and rows few (a 320-row batch with 20
  features).

Negative exponents: a column with negatives is shifted by ``o = -min`` so all its exponents are
non-negative, and the result is corrected by ``(Π_i c_i)^-o`` — one inversion for the whole matrix
and one short exponentiation per such column, instead of one inversion per ciphertext.

Exponents are int64 with magnitude below ``2^61`` (the fixed-point encoding keeps them below ``2^60``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

from accord.crypto._gmp import ONE, invert, powmod
from accord.errors import ArgumentError

MAX_EXPONENT_BITS = 61
MAX_BUCKET_WINDOW = 16
MAX_SUBSET_GROUP = 12
# Measured: a subset-product multiplication costs about 1.1 bucket multiplications (mask
# extraction in numpy, table entries scattered in memory).
SUBSET_PENALTY = 1.1
# Groups whose bit masks are extracted in one numpy pass (bounds the temporary array).
SUBSET_BLOCK_GROUPS = 64

Exponents = NDArray[np.int64]


def column_products(ciphertexts: Sequence[int], exponents: Exponents, nsquare: int) -> list[int]:
    """``[Π_i ciphertexts[i]^exponents[i, j] mod nsquare for each column j]``."""
    rows, columns = exponents.shape
    if rows != len(ciphertexts):
        raise ArgumentError(
            f"multi-exponentiation: {len(ciphertexts)} ciphertexts for an exponent matrix of {rows} rows"
        )
    if rows == 0 or columns == 0:
        return [ONE] * columns
    lowest = exponents.min(axis=0)
    offsets = [max(0, -int(v)) for v in lowest.tolist()]
    shifted = (exponents + np.array(offsets, dtype=np.int64)).astype(np.uint64)
    bits = [int(v).bit_length() for v in shifted.max(axis=0).tolist()]
    if max(bits) > MAX_EXPONENT_BITS + 1:
        raise ArgumentError(
            f"multi-exponentiation: exponents of {max(bits)} bits exceed the {MAX_EXPONENT_BITS}-bit limit"
        )
    group = best_subset_group(rows, bits)
    bucket_total = sum(bucket_cost(rows, b, best_bucket_window(rows, b)) for b in bits)
    if subset_cost(rows, bits, group) * SUBSET_PENALTY < bucket_total:
        products = _subset_products(ciphertexts, shifted, bits, group, nsquare)
    else:
        products = [
            _bucket_product(ciphertexts, shifted[:, j], b, best_bucket_window(rows, b), nsquare)
            for j, b in enumerate(bits)
        ]
    if any(offsets):
        everything = ONE
        for c in ciphertexts:
            everything = everything * c % nsquare
        inverse = invert(everything, nsquare)
        products = [
            product * powmod(inverse, offset, nsquare) % nsquare if offset else product
            for product, offset in zip(products, offsets, strict=True)
        ]
    return products


def naive_column_products(ciphertexts: Sequence[int], exponents: Exponents, nsquare: int) -> list[int]:
    """The same products with one modular exponentiation per entry (the baseline to beat)."""
    products: list[int] = []
    for j in range(exponents.shape[1]):
        product = ONE
        for c, e in zip(ciphertexts, exponents[:, j].tolist(), strict=True):
            if e:
                product = product * powmod(c, e, nsquare) % nsquare
        products.append(product)
    return products


# ---- cost model (in modular multiplications) ------------------------------------------------


def bucket_cost(rows: int, bits: int, window: int) -> float:
    # The first base into a bucket costs nothing, so a window costs about rows + 2^window.
    return math.ceil(bits / window) * (rows + (1 << window)) + bits


def best_bucket_window(rows: int, bits: int) -> int:
    if bits == 0:
        return 1
    return min(range(1, MAX_BUCKET_WINDOW + 1), key=lambda w: bucket_cost(rows, bits, w))


def subset_cost(rows: int, bits: Sequence[int], group: int) -> float:
    groups = math.ceil(rows / group)
    return groups * (1 << group) + sum(bits) * groups + sum(bits)


def best_subset_group(rows: int, bits: Sequence[int]) -> int:
    return min(range(1, MAX_SUBSET_GROUP + 1), key=lambda g: subset_cost(rows, bits, g))


def estimated_multiplications(rows: int, bits: Sequence[int]) -> float:
    """What :func:`column_products` will cost for columns of these exponent bit lengths."""
    if rows == 0 or not bits:
        return 0.0
    bucket_total = sum(bucket_cost(rows, b, best_bucket_window(rows, b)) for b in bits)
    return min(bucket_total, subset_cost(rows, bits, best_subset_group(rows, bits)) * SUBSET_PENALTY)


# ---- buckets ----------------------------------------------------------------------------------


def _bucket_product(
    ciphertexts: Sequence[int], column: NDArray[np.uint64], bits: int, window: int, nsquare: int
) -> int:
    if bits == 0:
        return ONE
    digit_mask = np.uint64((1 << window) - 1)
    result = 0
    for start in range(((bits - 1) // window) * window, -1, -window):
        if result:
            result = powmod(result, 1 << window, nsquare)
        digits = ((column >> np.uint64(start)) & digit_mask).tolist()
        buckets = [0] * (1 << window)
        for c, digit in zip(ciphertexts, digits, strict=True):
            if digit:
                held = buckets[digit]
                buckets[digit] = held * c % nsquare if held else c
        # Fold from the top: running holds Π_{e>=d} bucket[e]; multiplying it in at every d
        # raises bucket[e] to the power e.
        running = 0
        window_product = 0
        for held in reversed(buckets[1:]):
            if held:
                running = running * held % nsquare if running else held
            if running:
                window_product = window_product * running % nsquare if window_product else running
        if window_product:
            result = result * window_product % nsquare if result else window_product
    return result or ONE


# ---- subset products --------------------------------------------------------------------------


def _subset_table(bases: Sequence[int], nsquare: int) -> list[int]:
    table = [ONE] * (1 << len(bases))
    for mask in range(1, len(table)):
        lowest = mask & -mask
        rest = mask ^ lowest
        base = bases[lowest.bit_length() - 1]
        table[mask] = table[rest] * base % nsquare if rest else base
    return table


def _subset_products(
    ciphertexts: Sequence[int], shifted: NDArray[np.uint64], bits: Sequence[int], group: int, nsquare: int
) -> list[int]:
    rows, columns = shifted.shape
    widest = max(bits)
    group_count = -(-rows // group)
    padded = np.zeros((group_count * group, columns), dtype=np.uint64)
    padded[:rows] = shifted
    grouped = padded.reshape(group_count, group, columns)
    weights = (np.uint64(1) << np.arange(group, dtype=np.uint64))[None, :, None, None]
    shifts = np.arange(widest, dtype=np.uint64)[None, None, None, :]
    # One accumulator per (column, bit): Π over groups of the table entry the group's bits select.
    # Going group by group keeps one small table hot in cache while the accumulators stream past.
    accumulators = [0] * (columns * widest)
    for first in range(0, group_count, SUBSET_BLOCK_GROUPS):
        block = grouped[first : first + SUBSET_BLOCK_GROUPS]
        # masks[G, j * widest + t]: which rows of group G have bit t of column j set.
        masks = (((block[:, :, :, None] >> shifts) & np.uint64(1)) * weights).sum(axis=1)
        for offset, group_masks in enumerate(masks.reshape(len(block), columns * widest).tolist()):
            start = (first + offset) * group
            table = _subset_table(ciphertexts[start : start + group], nsquare)
            for index, mask in enumerate(group_masks):
                if mask:
                    held = accumulators[index]
                    accumulators[index] = held * table[mask] % nsquare if held else table[mask]
    products: list[int] = []
    for j, column_bits in enumerate(bits):
        # Horner over the bits, most significant first.
        result = 0
        for index in range(j * widest + column_bits - 1, j * widest - 1, -1):
            if result:
                result = result * result % nsquare
            held = accumulators[index]
            if held:
                result = result * held % nsquare if result else held
        products.append(result or ONE)
    return products
