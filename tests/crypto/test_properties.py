"""Property tests: homomorphic add, multiply and dot agree with float arithmetic on small vectors."""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from accord.crypto import PrivateKey, PublicKey, generate_keypair

KEYS: tuple[PublicKey, PrivateKey] = generate_keypair(512)
RTOL = 1e-8

# |x| < 1e6 as the precision target states, down to 1e-12: a vector of values near the smallest
# doubles gets an exponent above 1000, which a 512-bit key cannot add to ordinary values (see
# test_adding_vastly_different_magnitudes_needs_room_in_the_key).
magnitudes = st.floats(min_value=1e-12, max_value=1e6, allow_nan=False, allow_infinity=False)
finite = st.one_of(st.just(0.0), magnitudes, magnitudes.map(lambda x: -x))
lengths = st.integers(min_value=1, max_value=6)
settings_ = settings(
    max_examples=40, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)


def vectors(length: int) -> st.SearchStrategy[np.ndarray]:
    return hnp.arrays(np.float64, length, elements=finite)


@st.composite
def vector_pairs(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray]:
    length = draw(lengths)
    return draw(vectors(length)), draw(vectors(length))


@st.composite
def vector_and_matrix(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray]:
    rows = draw(lengths)
    columns = draw(st.integers(min_value=1, max_value=4))
    return draw(vectors(rows)), draw(hnp.arrays(np.float64, (rows, columns), elements=finite))


@settings_
@given(vector_pairs())
def test_add(pair: tuple[np.ndarray, np.ndarray]) -> None:
    public_key, private_key = KEYS
    a, b = pair
    scale = np.abs(a) + np.abs(b)
    for got in (
        private_key.decrypt(public_key.encrypt(a) + public_key.encrypt(b)),
        private_key.decrypt(public_key.encrypt(a) + b),
    ):
        assert np.all(np.abs(got - (a + b)) <= RTOL * scale + 2.0**-60)


@settings_
@given(vectors(4), finite)
def test_multiply(a: np.ndarray, scalar: float) -> None:
    public_key, private_key = KEYS
    got = private_key.decrypt(public_key.encrypt(a) * scalar)
    assert np.all(np.abs(got - a * scalar) <= RTOL * np.abs(a * scalar) + abs(scalar) * 2.0**-60)


@settings_
@given(vector_and_matrix())
def test_dot(case: tuple[np.ndarray, np.ndarray]) -> None:
    public_key, private_key = KEYS
    d, matrix = case
    got = private_key.decrypt(public_key.encrypt(d).dot(matrix))
    scale = np.abs(matrix).T @ np.abs(d)
    assert np.all(np.abs(got - matrix.T @ d) <= RTOL * scale + np.abs(matrix).sum(axis=0) * 2.0**-60)
