"""Grouped sums of Paillier ciphertexts: SecureBoost's encrypted histograms.

A histogram bin's ciphertext is the product (mod n²) of the ciphertexts of the rows in it, so the
plaintext is the sum of theirs. Rows carry ``width`` ciphertexts each (a packed row may need several);
big batches are split by rows over the process pool and the partial histograms multiplied together.
``grouped_sums_sparse`` gives the same plaintexts on mostly-zero tables by adding each row only outside
its feature's sparse group (the bin of 0) and deriving that group from the rows' total, FATE's sparse
point statistics.
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


def cell_sums_task(
    n: int,
    packed: bytes,
    width: int,
    row_ends: NDArray[np.int64],
    cell_starts: NDArray[np.int64],
    cell_count: int,
) -> bytes:
    """Every row's ``width`` ciphertexts multiplied into the cells its entries name, packed.

    Row ``r`` owns ``cell_starts[row_ends[r-1]:row_ends[r]]`` (from 0 for the first row): the flat index
    of each cell's first ciphertext. Returns ``cell_count * width`` ciphertexts.
    """
    public_key = PublicKey(mpz(n))
    nsquare = public_key.nsquare
    size = public_key.ciphertext_bytes
    ciphertexts = unpack_ciphertexts(packed, size)
    cells: list[int] = [ONE] * (cell_count * width)
    starts = cell_starts.tolist()
    begin = 0
    for row, end in enumerate(row_ends.tolist()):
        row_cts = ciphertexts[row * width : (row + 1) * width]
        for start in starts[begin:end]:
            for k in range(width):
                cells[start + k] = cells[start + k] * row_cts[k] % nsquare
        begin = end
    return pack_ciphertexts(cells, size)


def _cell_sums(
    public_key: PublicKey,
    ciphertexts: Sequence[int],
    width: int,
    row_ends: NDArray[np.int64],
    cell_starts: NDArray[np.int64],
    cell_count: int,
) -> list[int]:
    """:func:`cell_sums_task` over every row, split by rows over the process pool when big enough."""
    rows = len(row_ends)
    entries = int(row_ends[-1]) if rows else 0
    counting.count(counting.ADD, entries * width)
    n = int(public_key.n)
    size = public_key.ciphertext_bytes
    parts = pool.chunk_bounds(rows, pool.parallelism()) if pool.worth_parallel(entries * width) else []
    if len(parts) <= 1:
        packed = [
            cell_sums_task(n, pack_ciphertexts(ciphertexts, size), width, row_ends, cell_starts, cell_count)
        ]
    else:
        arguments = []
        for a, b in parts:
            first = int(row_ends[a - 1]) if a else 0
            arguments.append(
                (
                    n,
                    pack_ciphertexts(ciphertexts[a * width : b * width], size),
                    width,
                    row_ends[a:b] - first,
                    cell_starts[first : int(row_ends[b - 1])],
                    cell_count,
                )
            )
        packed = pool.run_parallel(cell_sums_task, arguments)
    nsquare = public_key.nsquare
    total = unpack_ciphertexts(packed[0], size)
    for part in packed[1:]:
        total = [x * y % nsquare for x, y in zip(total, unpack_ciphertexts(part, size), strict=True)]
    return total


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
    cell_starts = ((groups + np.arange(features, dtype=np.int64) * group_count) * width).reshape(-1)
    row_ends = np.arange(1, rows + 1, dtype=np.int64) * features
    return _cell_sums(public_key, ciphertexts, width, row_ends, cell_starts, features * group_count)


def grouped_sums_sparse(
    public_key: PublicKey,
    ciphertexts: Sequence[int],
    width: int,
    groups: NDArray[np.int64],
    group_count: int,
    sparse_groups: NDArray[np.int64],
) -> list[int]:
    """:func:`grouped_sums`' plaintexts, adding each row only into the groups other than its feature's
    sparse group (``sparse_groups``, one per feature: where most rows sit, such as the bin of 0).

    Every row also goes into one total; a feature's sparse group is that total less the feature's
    other groups, by one ciphertext subtraction. On a table mostly at its sparse groups this adds far
    fewer ciphertexts than :func:`grouped_sums`. Returns ``features·group_count·width`` ciphertexts.
    """
    rows, features = groups.shape
    explicit = groups != np.asarray(sparse_groups, dtype=np.int64)[None, :]
    row_of, feature_of = np.nonzero(explicit)  # row-major: each row's entries together, rows in order
    histogram_cells = features * group_count
    row_ends = np.cumsum(explicit.sum(axis=1) + 1, dtype=np.int64)
    cell_starts = np.empty(int(row_ends[-1]) if rows else 0, dtype=np.int64)
    is_total = np.zeros(len(cell_starts), dtype=bool)
    is_total[row_ends - 1] = True
    # Each row's last entry is the total, the cell after the histogram's.
    cell_starts[is_total] = histogram_cells * width
    cell_starts[~is_total] = (groups[row_of, feature_of] + feature_of * group_count) * width
    summed = _cell_sums(public_key, ciphertexts, width, row_ends, cell_starts, histogram_cells + 1)
    cells, total = summed[: histogram_cells * width], summed[histogram_cells * width :]
    nsquare = public_key.nsquare
    touched = np.zeros(histogram_cells, dtype=bool)
    touched[cell_starts[~is_total] // width] = True
    others: list[int] = []
    sparse_cells: list[int] = []
    for feature in range(features):
        filled = np.flatnonzero(touched[feature * group_count : (feature + 1) * group_count])
        sparse_cell = (feature * group_count + int(sparse_groups[feature])) * width
        if not len(filled):
            # No row of this feature outside its sparse group: the total is the sparse group.
            cells[sparse_cell : sparse_cell + width] = total
            continue
        counting.count(counting.ADD, (len(filled) - 1) * width)
        for k in range(width):
            product = ONE
            for group in filled.tolist():
                product = product * cells[(feature * group_count + group) * width + k] % nsquare
            others.append(product)
        sparse_cells.append(sparse_cell)
    remainders = subtract(public_key, total * len(sparse_cells), others)
    for index, sparse_cell in enumerate(sparse_cells):
        cells[sparse_cell : sparse_cell + width] = remainders[index * width : (index + 1) * width]
    return cells


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
