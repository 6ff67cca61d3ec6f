"""Encrypted vectors against numpy: round trips, homomorphic arithmetic, selection, limits."""

from __future__ import annotations

import numpy as np
import pytest

from accord.crypto import EncryptedVector
from accord.errors import ArgumentError, ComponentParameterError, DataFormatError, DataMismatchError
from tests.crypto.conftest import KeyPair

# The precision promised for results next to numpy's float64 (see accord.crypto.fixedpoint).
RTOL = 1e-8


def _assert_close_to_scale(got: np.ndarray, expected: np.ndarray, scale: np.ndarray) -> None:
    """|got - expected| within RTOL of ``scale`` (the sum of magnitudes behind each result)."""
    assert got.shape == expected.shape
    assert np.all(np.abs(got - expected) <= RTOL * scale + 1e-300), (got, expected)


@pytest.mark.parametrize(
    "values",
    [
        np.array([0.0, 1.0, -1.0, 0.5, -0.25, 3.75]),
        np.array([0.0, 0.0, 0.0]),
        np.array([-0.0]),
        np.array([1e6, -1e6, 123456.789, -0.001]),
        np.array([1e300, -2.5e300, 7e299]),
        np.array([1e-300, -3e-300, 5e-301]),
        np.array([5e-324, -5e-324]),
        np.array([2.0**63, -(2.0**64) + 2048, 2.0**70]),
        np.arange(-50, 50, dtype=np.float64) / 7,
    ],
)
def test_round_trip_is_exact_within_the_vector_precision(keys_512: KeyPair, values: np.ndarray) -> None:
    public_key, private_key = keys_512
    decrypted = private_key.decrypt(public_key.encrypt(values))
    assert decrypted.dtype == np.float64
    largest = np.max(np.abs(values))
    # The largest element keeps at least 53 bits; the others are rounded on the same grid.
    assert np.all(np.abs(decrypted - values) <= largest * 2.0**-53)
    nonzero = values != 0
    np.testing.assert_array_equal(np.sign(decrypted[nonzero]), np.sign(values[nonzero]))


def test_round_trip_of_ordinary_values_is_exact(keys_512: KeyPair, rng: np.random.Generator) -> None:
    public_key, private_key = keys_512
    # Magnitudes within [2^-43, 2^64) share exponent 96, where every double above 2^-44 is exact.
    values = rng.uniform(-1e9, 1e9, size=100) * rng.choice([1.0, 1e-3], size=100)
    np.testing.assert_array_equal(private_key.decrypt(public_key.encrypt(values)), values)


def test_round_trip_of_mixed_magnitudes(keys_512: KeyPair, rng: np.random.Generator) -> None:
    public_key, private_key = keys_512
    values = rng.normal(size=200) * 10.0 ** rng.integers(-6, 7, size=200)
    decrypted = private_key.decrypt(public_key.encrypt(values))
    # Common exponent 96: every element is within 2^-97 absolute.
    assert np.all(np.abs(decrypted - values) <= 2.0**-97)


def test_integers_and_lists_encrypt(keys_512: KeyPair) -> None:
    public_key, private_key = keys_512
    np.testing.assert_array_equal(private_key.decrypt(public_key.encrypt(np.array([3, -4, 0]))), [3, -4, 0])
    np.testing.assert_array_equal(private_key.decrypt(public_key.encrypt([1.5, 2])), [1.5, 2.0])
    assert len(public_key.encrypt(np.array([]))) == 0


@pytest.mark.parametrize("bad", [np.array([1.0, np.nan]), np.array([np.inf]), np.ones((2, 2)), ["a"]])
def test_values_that_cannot_be_encrypted(keys_512: KeyPair, bad: object) -> None:
    public_key, _ = keys_512
    with pytest.raises(DataFormatError, match="encrypt"):
        public_key.encrypt(bad)  # type: ignore[arg-type]


def test_ciphertexts_of_equal_values_differ(keys_512: KeyPair) -> None:
    public_key, private_key = keys_512
    first = public_key.encrypt(np.array([1.0, 1.0, 1.0]))
    second = public_key.encrypt(np.array([1.0, 1.0, 1.0]))
    assert len(set(first.ciphertexts) | set(second.ciphertexts)) == 6
    refreshed = first.rerandomized()
    assert not set(refreshed.ciphertexts) & set(first.ciphertexts)
    np.testing.assert_array_equal(private_key.decrypt(refreshed), [1.0, 1.0, 1.0])


def test_add_ciphertexts(keys_512: KeyPair, rng: np.random.Generator) -> None:
    public_key, private_key = keys_512
    a, b = rng.normal(size=30), rng.normal(size=30) * 1e-9
    total = public_key.encrypt(a) + public_key.encrypt(b)
    _assert_close_to_scale(private_key.decrypt(total), a + b, np.abs(a) + np.abs(b))
    # Different exponents: a tiny-valued vector has a larger exponent than a common one.
    tiny = rng.normal(size=30) * 1e-20
    mixed = public_key.encrypt(a) + public_key.encrypt(tiny)
    assert mixed.exponent == public_key.encrypt(tiny).exponent
    np.testing.assert_allclose(private_key.decrypt(mixed), a + tiny, rtol=1e-15)


def test_add_and_subtract_plaintext(keys_512: KeyPair, rng: np.random.Generator) -> None:
    public_key, private_key = keys_512
    a, b = rng.normal(size=25), rng.normal(size=25) * 100
    encrypted = public_key.encrypt(a)
    cases = {
        "cipher + array": (encrypted + b, a + b),
        "array + cipher": (b + encrypted, b + a),
        "cipher + scalar": (encrypted + 2.5, a + 2.5),
        "numpy scalar + cipher": (np.float64(-1.25) + encrypted, a - 1.25),
        "cipher - array": (encrypted - b, a - b),
        "array - cipher": (b - encrypted, b - a),
        "scalar - cipher": (1 - encrypted, 1 - a),
        "cipher - cipher": (encrypted - public_key.encrypt(b), a - b),
        "-cipher": (-encrypted, -a),
        "list + cipher": (encrypted + list(b), a + b),
    }
    for name, (vector, expected) in cases.items():
        assert isinstance(vector, EncryptedVector), name
        _assert_close_to_scale(private_key.decrypt(vector), expected, np.abs(a) + np.abs(b) + 2.5)


def test_plaintext_addition_rounds_like_float_addition(keys_512: KeyPair) -> None:
    public_key, private_key = keys_512
    tiny = np.array([3e-30, -1e-31])
    # Far below the ciphertext's values, the plaintext vanishes as it does in float64.
    ordinary = public_key.encrypt(np.array([1.0, 2.0]))
    np.testing.assert_array_equal(private_key.decrypt(ordinary + tiny), np.array([1.0, 2.0]) + tiny)
    # Next to values of its own size it keeps its precision: the ciphertexts move to its grid.
    small = public_key.encrypt(tiny * 2)
    np.testing.assert_allclose(private_key.decrypt(small + tiny), tiny * 3, rtol=1e-15)
    zeros = public_key.encrypt(np.zeros(2))
    np.testing.assert_allclose(private_key.decrypt(zeros + tiny), tiny, rtol=1e-15)


def test_adding_vastly_different_magnitudes_needs_room_in_the_key(
    keys_512: KeyPair, keys_1024: KeyPair
) -> None:
    values, tiny = np.array([1.0, -1.0]), np.array([1.8e-186, 0.0])
    public_key, private_key = keys_1024
    total = public_key.encrypt(values) + public_key.encrypt(tiny)
    np.testing.assert_array_equal(private_key.decrypt(total), values + tiny)
    public_key, _ = keys_512
    with pytest.raises(ComponentParameterError, match="512-bit key"):
        _ = public_key.encrypt(values) + public_key.encrypt(tiny)


@pytest.mark.parametrize("scalar", [0.25, -3, 0.1, -1e-7, 1e10, 2, 1.0, -1.0, np.float64(0.3), np.int64(-5)])
def test_multiply_by_scalar(keys_512: KeyPair, rng: np.random.Generator, scalar: float) -> None:
    public_key, private_key = keys_512
    a = rng.normal(size=12)
    encrypted = public_key.encrypt(a)
    for product in (encrypted * scalar, scalar * encrypted):
        _assert_close_to_scale(private_key.decrypt(product), a * scalar, np.abs(a * scalar))
    _assert_close_to_scale(private_key.decrypt(encrypted / 4), a / 4, np.abs(a / 4))


def test_multiply_by_zero_and_elementwise(keys_512: KeyPair, rng: np.random.Generator) -> None:
    public_key, private_key = keys_512
    a, w = rng.normal(size=10), rng.normal(size=10) * 50
    encrypted = public_key.encrypt(a)
    np.testing.assert_array_equal(private_key.decrypt(encrypted * 0.0), np.zeros(10))
    _assert_close_to_scale(private_key.decrypt(encrypted * w), a * w, np.abs(a * w) + np.abs(w).mean())
    with pytest.raises(ArgumentError, match="cannot be multiplied"):
        _ = encrypted * encrypted  # type: ignore[operator]


def test_sum(keys_512: KeyPair, rng: np.random.Generator) -> None:
    public_key, private_key = keys_512
    a = rng.normal(size=40) * 1000
    total = public_key.encrypt(a).sum()
    assert len(total) == 1
    _assert_close_to_scale(private_key.decrypt(total), np.array([a.sum()]), np.array([np.abs(a).sum()]))
    assert private_key.decrypt(public_key.encrypt(np.array([])).sum()).tolist() == [0.0]


@pytest.mark.parametrize(("rows", "columns"), [(1, 1), (7, 3), (64, 5), (320, 4)])
def test_dot_matches_numpy(keys_512: KeyPair, rng: np.random.Generator, rows: int, columns: int) -> None:
    public_key, private_key = keys_512
    d = rng.normal(size=rows)
    matrix = rng.normal(size=(rows, columns)) * rng.choice([1e-3, 1.0, 1e3], size=columns)
    result = public_key.encrypt(d).dot(matrix)
    assert len(result) == columns
    _assert_close_to_scale(private_key.decrypt(result), matrix.T @ d, np.abs(matrix).T @ np.abs(d))


def test_dot_with_wide_magnitudes_and_special_columns(keys_1024: KeyPair, rng: np.random.Generator) -> None:
    public_key, private_key = keys_1024
    rows = 500
    d = rng.uniform(-1, 1, size=rows)
    wide = rng.uniform(-1, 1, size=rows) * 10.0 ** rng.uniform(-3, 6, size=rows)  # |x| < 1e6
    integers = rng.integers(-1000, 1000, size=rows).astype(np.float64)
    binary = rng.integers(0, 2, size=rows).astype(np.float64)
    zeros = np.zeros(rows)
    positive = rng.uniform(0, 1e6, size=rows)
    matrix = np.column_stack([wide, integers, binary, zeros, positive, -positive])
    decrypted = private_key.decrypt(public_key.encrypt(d).dot(matrix))
    _assert_close_to_scale(decrypted, matrix.T @ d, np.abs(matrix).T @ np.abs(d))
    assert decrypted[3] == 0.0


def test_dot_of_one_dimensional_weights_and_explicit_precision(
    keys_512: KeyPair, rng: np.random.Generator
) -> None:
    public_key, private_key = keys_512
    d, weights = rng.normal(size=30), rng.normal(size=30)
    encrypted = public_key.encrypt(d)
    _assert_close_to_scale(
        private_key.decrypt(encrypted.dot(weights)),
        np.array([weights @ d]),
        np.array([np.abs(weights) @ np.abs(d)]),
    )
    coarse = private_key.decrypt(encrypted.dot(weights, precision_bits=8))
    assert abs(coarse[0] - weights @ d) <= np.abs(weights).max() * 2.0**-8 * np.abs(d).sum()
    with pytest.raises(ArgumentError, match="precision_bits"):
        encrypted.dot(weights, precision_bits=61)


def test_dot_rejects_a_matrix_of_other_rows(keys_512: KeyPair) -> None:
    public_key, _ = keys_512
    encrypted = public_key.encrypt(np.ones(4))
    with pytest.raises(DataFormatError, match="4 rows"):
        encrypted.dot(np.ones((5, 2)))
    with pytest.raises(DataFormatError, match="nan"):
        encrypted.dot(np.array([[1.0], [np.nan], [0.0], [1.0]]))


def test_selection_and_concatenation(keys_512: KeyPair, rng: np.random.Generator) -> None:
    public_key, private_key = keys_512
    a = rng.normal(size=20)
    encrypted = public_key.encrypt(a)
    np.testing.assert_array_equal(private_key.decrypt(encrypted[5:12]), a[5:12])
    np.testing.assert_array_equal(private_key.decrypt(encrypted[::-3]), a[::-3])
    picks = np.array([19, 0, 7, 7, -1])
    np.testing.assert_array_equal(private_key.decrypt(encrypted[picks]), a[picks])
    mask = a > 0
    np.testing.assert_array_equal(private_key.decrypt(encrypted[mask]), a[mask])
    np.testing.assert_array_equal(private_key.decrypt(encrypted[3]), a[3:4])
    with pytest.raises(ArgumentError, match="index"):
        encrypted[np.array([20])]
    tiny = rng.normal(size=5) * 1e-25
    joined = EncryptedVector.concatenate([encrypted[:10], public_key.encrypt(tiny), encrypted[10:]])
    decrypted = private_key.decrypt(joined)
    np.testing.assert_array_equal(np.concatenate([decrypted[:10], decrypted[15:]]), a)
    assert np.all(np.abs(decrypted[10:15] - tiny) <= np.abs(tiny).max() * 2.0**-53)
    with pytest.raises(ArgumentError):
        EncryptedVector.concatenate([])


def test_mismatched_operands(keys_512: KeyPair, keys_1024: KeyPair) -> None:
    public_512, private_512 = keys_512
    public_1024, _ = keys_1024
    a = public_512.encrypt(np.ones(3))
    with pytest.raises(DataMismatchError, match="different public keys"):
        _ = a + public_1024.encrypt(np.ones(3))
    with pytest.raises(DataMismatchError, match="lengths 3 and 2"):
        _ = a + public_512.encrypt(np.ones(2))
    with pytest.raises(DataMismatchError, match="2 plaintext values and 3"):
        _ = a + np.ones(2)
    with pytest.raises(DataMismatchError, match="different public key"):
        private_512.decrypt(public_1024.encrypt(np.ones(1)))
    with pytest.raises(TypeError):
        _ = a * "2"  # type: ignore[operator]


def test_overflow_is_refused_not_wrapped(keys_512: KeyPair) -> None:
    public_key, private_key = keys_512
    vector = public_key.encrypt(np.array([0.7, -0.3]))
    expected = np.array([0.7, -0.3])
    # Every multiplication by 0.1 adds the 53-bit mantissa to the plaintext; 512 bits run out.
    with pytest.raises(ComponentParameterError, match=r"512-bit key") as caught:
        for _ in range(20):
            vector = vector * 0.1
            expected = expected * 0.1
            np.testing.assert_allclose(private_key.decrypt(vector), expected, rtol=1e-12)
    assert "encrypt_param.key_length" in (caught.value.hint or "")
