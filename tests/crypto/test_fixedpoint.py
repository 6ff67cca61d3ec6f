"""Fixed-point encoding against exact rational arithmetic."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

from accord.crypto import fixedpoint
from accord.errors import DataFormatError


def _exact_round(value: float, exponent: int) -> int:
    """round(value · 2^exponent) in exact arithmetic, ties to even like numpy's rint."""
    return round(Fraction(value) * Fraction(2) ** exponent)


@pytest.mark.parametrize("exponent", [-40, 0, 30, 64, 100, 400])
def test_to_integers_rounds_exactly(rng: np.random.Generator, exponent: int) -> None:
    values = rng.normal(size=300) * 10.0 ** rng.integers(-30, 30, size=300)
    values[:3] = [0.0, 0.5, -2.5]
    expected = [_exact_round(float(v), exponent) for v in values]
    assert fixedpoint.to_integers(values, exponent) == expected


def test_vector_exponent_rule() -> None:
    assert fixedpoint.vector_exponent(np.array([0.0])) == 96
    assert fixedpoint.vector_exponent(np.array([1.0, -3e18])) == 96
    assert fixedpoint.vector_exponent(np.array([2.0**-43])) == 96
    # Below 2^-43 the largest keeps 53 bits; at 2^64 and above integers stay within 160 bits.
    tiny = np.array([2.0**-50])
    assert fixedpoint.vector_exponent(tiny) == 53 + 49
    huge = np.array([2.0**100])
    assert fixedpoint.vector_exponent(huge) == 160 - 101
    for values in (tiny, huge, np.array([1e-300, 1e300])):
        exponent = fixedpoint.vector_exponent(values)
        largest = max(abs(m) for m in fixedpoint.to_integers(values, exponent))
        assert 2**52 <= largest < 2**161


@pytest.mark.parametrize("value", [0.25, -3.0, 0.1, 1e300, -5e-324, 1024.0, 7.0, 1.0])
def test_scalar_encoding_is_exact(value: float) -> None:
    mantissa, exponent = fixedpoint.scalar_encoding(value)
    assert Fraction(mantissa) / Fraction(2) ** exponent == Fraction(value)
    assert mantissa % 2 == 1


def test_scalar_encoding_rejects_non_finite() -> None:
    assert fixedpoint.scalar_encoding(0.0) == (0, 0)
    with pytest.raises(DataFormatError):
        fixedpoint.scalar_encoding(float("nan"))


def test_column_encoding_error_bound(rng: np.random.Generator) -> None:
    matrix = np.column_stack(
        [
            rng.normal(size=400),
            rng.normal(size=400) * 10.0 ** rng.uniform(-3, 6, size=400),
            rng.integers(0, 2, size=400).astype(np.float64),
            rng.integers(-50, 50, size=400) * 1024.0,
            np.zeros(400),
        ]
    )
    encoded, exponents = fixedpoint.column_encoding(matrix)
    assert exponents[4] is None and not encoded[:, 4].any()
    for j in range(4):
        exponent = exponents[j]
        assert exponent is not None
        decoded = np.array([float(Fraction(int(e)) / Fraction(2) ** exponent) for e in encoded[:, j]])
        # Every entry within 2^-28 of its own magnitude, or 2^-60 of the largest where the column's
        # range is wider than 2^32 (column 1 spans nine decades times a normal draw).
        magnitudes = np.abs(matrix[:, j])
        allowed = np.maximum(magnitudes * 2.0**-28, magnitudes.max() * 2.0**-60)
        assert np.all(np.abs(decoded - matrix[:, j]) <= allowed)
        assert np.abs(encoded[:, j]).max() < 2**61
    # 0/1 and multiples of 1024 lose nothing and need few bits.
    np.testing.assert_array_equal(encoded[:, 2], matrix[:, 2])
    assert exponents[2] == 0
    assert exponents[3] == -10 and np.abs(encoded[:, 3]).max() <= 50


def test_column_encoding_with_a_range_beyond_the_cap() -> None:
    column = np.array([[1e12], [1.0], [3e-9]])
    encoded, exponents = fixedpoint.column_encoding(column)
    exponent = exponents[0]
    assert exponent is not None
    assert np.abs(encoded).max() < 2**61
    decoded = np.array([float(Fraction(int(e)) / Fraction(2) ** exponent) for e in encoded[:, 0]])
    # 60 bits for the largest: the rest are rounded on its grid.
    assert np.all(np.abs(decoded - column[:, 0]) <= 1e12 * 2.0**-60)


def test_to_floats_handles_any_size() -> None:
    assert fixedpoint.to_floats([3, -3], 1).tolist() == [1.5, -1.5]
    assert fixedpoint.to_floats([2**2000], 1990).tolist() == [1024.0]
    assert fixedpoint.to_floats([1, -1], -2000).tolist() == [float("inf"), float("-inf")]
