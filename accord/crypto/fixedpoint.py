"""Fixed-point encoding of float64 values as the integers Paillier encrypts.

A real ``x`` travels as the integer ``m = round(x * 2**k)`` with an exponent ``k`` shared by a
whole vector; ``m`` is taken mod ``n`` (a negative ``m`` becomes ``n - |m|``) and decryption maps
residues above ``n/2`` back to negatives. Exponents may be negative (huge values) and add up under
multiplication: plaintext ``e * 2**-j`` times ciphertext with exponent ``k`` has exponent ``k + j``.

Three encodings, each chosen for what the value is used for:

* Encrypted vectors (:func:`vector_exponent`): ``k = 96`` whenever the vector's largest magnitude
  is in ``[2**-43, 2**64)`` — the common case, so vectors from different parties and iterations share
  one exponent (no ciphertext rescaling when they are added) and the exponent says nothing about the
  data. Every element is then rounded to a multiple of ``2**-96``: exact for doubles above ``2**-44``,
  within ``1e-17`` relative for elements down to ``1e-12``. Outside that range ``k`` moves so that the
  largest element keeps 53 significant bits (tiny values) or the integers stay within 160 bits (huge
  values). A larger ``k`` costs nothing at encryption; it only spends plaintext room, of which a
  1024-bit key has over 1000 bits.
* Scalars (:func:`scalar_encoding`): exact, as the odd mantissa and its power of two, so multiplying
  by 0.25 or -2 costs nothing beyond the exponent bookkeeping.
* Plaintext matrices for ``X^T·[[d]]`` (:func:`column_encoding`): per column, the largest magnitude
  gets ``28 + ceil(log2(max|x| / min|x|))`` bits (min over non-zero entries; at most 60), then
  common trailing zero bits are stripped, so 0/1 and small-integer columns become exponents of a few
  bits. Every non-zero entry is then within ``2**-28`` (3.7e-9) of its own magnitude, so ``X^T·d``
  stays within 1e-8 of ``|X|^T·|d|`` for any ``d``, any row count and any feature magnitude, as long
  as a column's non-zero magnitudes span less than ``2**32`` (beyond that, entries below
  ``max·2**-60`` are rounded relative to the largest). Exponent length is the cost driver of the
  multi-exponentiation; standardized features come out at 38 to 45 bits.

Non-finite values cannot be encoded and raise :class:`~accord.errors.DataFormatError`.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

from accord.errors import DataFormatError

# The exponent of an ordinary encrypted vector (see the module docstring).
COMMON_EXPONENT = 96
# Bits the largest element of an encrypted vector keeps when its exponent has to move.
VECTOR_SIGNIFICANT_BITS = 53
# The largest encrypted integer, in bits, when the values are huge.
VECTOR_MAX_BITS = 160
# Matrix columns: bits of precision relative to each entry's own magnitude, and the ceiling.
COLUMN_BASE_BITS = 28
COLUMN_MAX_BITS = 60

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]


def as_float_vector(values: object, what: str) -> FloatArray:
    """``values`` as a finite 1-D float64 array; ``what`` names it in the error."""
    try:
        array = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise DataFormatError(
            f"{what}: values are not numbers ({error})", hint="pass a 1-D numeric numpy array"
        ) from None
    if array.ndim != 1:
        raise DataFormatError(
            f"{what}: expected a 1-D array, got shape {array.shape}", hint="flatten or select one column"
        )
    _require_finite(array, what)
    return array


def as_float_matrix(values: object, rows: int, what: str) -> FloatArray:
    """``values`` as a finite float64 matrix with ``rows`` rows (a 1-D array is one column)."""
    try:
        array = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise DataFormatError(
            f"{what}: values are not numbers ({error})", hint="pass a numeric numpy array"
        ) from None
    if array.ndim == 1:
        array = array.reshape(-1, 1)
    if array.ndim != 2 or array.shape[0] != rows:
        raise DataFormatError(
            f"{what}: expected a matrix with {rows} rows (one per ciphertext), got shape {array.shape}",
            hint="pass the rows that match the encrypted vector, in the same order",
        )
    _require_finite(array, what)
    return array


def _require_finite(array: FloatArray, what: str) -> None:
    if not np.isfinite(array).all():
        position = np.argwhere(~np.isfinite(array))[0].tolist()
        raise DataFormatError(
            f"{what}: value at index {position} is {array[tuple(position)]}, which cannot be encrypted",
            hint="fill or drop missing and infinite values before the federated step",
        )


def vector_exponent(values: FloatArray) -> int:
    """The exponent an encrypted vector with these values gets."""
    return exponent_below(top_bit(values))


def top_bit(values: FloatArray) -> int | None:
    """The least ``t`` with every ``|value| < 2**t``; None when all values are zero."""
    largest = float(np.max(np.abs(values))) if values.size else 0.0
    # frexp's mantissa is in [0.5, 1), so largest < 2**exponent.
    return math.frexp(largest)[1] if largest else None


def exponent_below(top: int | None) -> int:
    """The vector exponent for values whose magnitudes are all below ``2**top``."""
    if top is None:
        return COMMON_EXPONENT
    if top < VECTOR_SIGNIFICANT_BITS - COMMON_EXPONENT:
        return VECTOR_SIGNIFICANT_BITS - top
    if top > VECTOR_MAX_BITS - COMMON_EXPONENT:
        return VECTOR_MAX_BITS - top
    return COMMON_EXPONENT


def to_integers(values: FloatArray, exponent: int) -> list[int]:
    """``round(x * 2**exponent)`` for every element, exact for any size of result."""
    if values.size == 0:
        return []
    largest = float(np.max(np.abs(values)))
    if largest == 0.0 or math.frexp(largest)[1] + exponent <= 62:
        # Every scaled value is below 2**62: ldexp is exact and rint fits int64.
        scaled = np.rint(np.ldexp(values, exponent)).astype(np.int64)
        return [int(v) for v in scaled.tolist()]
    # mantissa * 2**53 is an exact integer; shift it left by the rest of the exponent, or let
    # rint round when the value lands below the integer grid.
    mantissas, powers = np.frexp(values)
    whole = np.ldexp(mantissas, 53).astype(np.int64).tolist()
    shifts = (powers.astype(np.int64) - 53 + exponent).tolist()
    rounded = np.rint(np.ldexp(values, exponent).clip(-(2.0**62), 2.0**62)).astype(np.int64).tolist()
    return [w << s if s >= 0 else r for w, s, r in zip(whole, shifts, rounded, strict=True)]


def scalar_encoding(value: float) -> tuple[int, int]:
    """``(e, j)`` with ``value == e * 2**-j`` exactly and ``e`` odd (or zero)."""
    if not math.isfinite(value):
        raise DataFormatError(
            f"scalar {value} cannot multiply an encrypted vector", hint="use a finite number"
        )
    numerator, denominator = float(value).as_integer_ratio()
    if numerator == 0:
        return 0, 0
    if denominator > 1:
        return numerator, denominator.bit_length() - 1
    zeros = (numerator & -numerator).bit_length() - 1
    return numerator >> zeros, -zeros


def column_encoding(
    matrix: FloatArray, precision_bits: int | None = None
) -> tuple[IntArray, list[int | None]]:
    """Signed int64 exponents for every entry and each column's exponent (None: all-zero column).

    ``precision_bits`` fixes the bits given to each column's largest magnitude instead of the
    rule in the module docstring.
    """
    rows, columns = matrix.shape
    encoded = np.zeros((rows, columns), dtype=np.int64)
    exponents: list[int | None] = []
    magnitudes = np.abs(matrix)
    for j in range(columns):
        column = magnitudes[:, j]
        largest = float(column.max()) if rows else 0.0
        if largest == 0.0:
            exponents.append(None)
            continue
        if precision_bits is None:
            smallest = float(column[column > 0].min())
            headroom = math.ceil(math.log2(largest / smallest))
            bits = min(COLUMN_MAX_BITS, COLUMN_BASE_BITS + headroom)
        else:
            bits = precision_bits
        exponent = bits - math.frexp(largest)[1]
        scaled = np.rint(np.ldexp(matrix[:, j], exponent)).astype(np.int64)
        nonzero = scaled[scaled != 0]
        if nonzero.size == 0:
            # Every entry rounds to zero at this precision, including the largest: impossible
            # since the largest keeps at least one bit, but an explicit precision could be 0.
            exponents.append(None)
            continue
        lowest_bits = nonzero & -nonzero
        zeros = int(np.log2(lowest_bits.min().astype(np.float64)))
        encoded[:, j] = scaled >> zeros
        exponents.append(exponent - zeros)
    return encoded, exponents


def to_floats(integers: list[int], exponent: int) -> FloatArray:
    """``m * 2**-exponent`` for signed integers ``m``, correctly rounded to float64."""
    if exponent >= 0:
        scale = 1 << exponent
        # int / int is correctly rounded however large both sides are.
        return np.array([m / scale for m in integers], dtype=np.float64)
    factor = 1 << -exponent
    return np.array([_float_or_infinity(m * factor) for m in integers], dtype=np.float64)


def _float_or_infinity(value: int) -> float:
    try:
        return float(value)
    except OverflowError:
        return math.inf if value > 0 else -math.inf
