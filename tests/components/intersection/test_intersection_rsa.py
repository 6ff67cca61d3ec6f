"""The intersection's RSA against plain Python integer arithmetic (``pow`` and ``math.lcm``)."""

from __future__ import annotations

import math
import secrets

import pytest

from accord.components.intersection.rsa import PUBLIC_EXPONENT, PrivateKey, PublicKey, blind, unblind
from accord.errors import TransferError

BITS = 1024


@pytest.fixture(scope="module")
def key() -> PrivateKey:
    return PrivateKey.generate(BITS)


def test_generated_key_is_a_valid_rsa_key(key: PrivateKey) -> None:
    p, q, n = int(key.p), int(key.q), key.public.n
    assert n == p * q and p != q and n.bit_length() == BITS
    assert key.public.e == PUBLIC_EXPONENT
    assert int(key.d) == pow(PUBLIC_EXPONENT, -1, math.lcm(p - 1, q - 1))
    assert pow(2, p - 1, p) == 1 and pow(2, q - 1, q) == 1


def test_keys_differ_and_keep_their_size() -> None:
    first, second = PrivateKey.generate(BITS), PrivateKey.generate(BITS + 512)
    assert first.public.n != second.public.n
    assert second.public.n.bit_length() == BITS + 512
    with pytest.raises(ValueError):
        PrivateKey.generate(512)


@pytest.mark.parametrize("count", [1, 5, 200], ids=["one", "few", "threaded"])
def test_crt_signing_equals_plain_pow(key: PrivateKey, count: int) -> None:
    n, d = key.public.n, int(key.d)
    edge = [0, 1, n - 1, int(key.p), int(key.q) * 7]
    messages = (edge + [secrets.randbelow(n) for _ in range(count)])[: max(count, len(edge))]
    assert key.sign_many(messages) == [pow(m, d, n) for m in messages]


def test_signatures_verify_and_others_do_not(key: PrivateKey) -> None:
    message = secrets.randbits(256)
    signature = key.sign(message)
    assert key.public.verify(message, signature)
    assert not key.public.verify(message + 1, signature)
    assert not key.public.verify(message, (signature + 1) % key.public.n)


@pytest.mark.parametrize("fraction", [None, 0.3, 1.0], ids=["per-message", "shared", "fraction-one"])
def test_blinding_round_trip_gives_the_plain_signatures(key: PrivateKey, fraction: float | None) -> None:
    messages = [secrets.randbits(256) for _ in range(100)]
    blinded = blind(messages, key.public, random_bit=128, base_fraction=fraction)
    assert not set(blinded.values) & set(messages)
    signed = key.sign_many(blinded.values)
    n, d = key.public.n, int(key.d)
    assert unblind(signed, blinded.factors, key.public) == [pow(m, d, n) for m in messages]
    factor_of_residue: dict[int, int] = {}
    for message, factor in zip(messages, blinded.factors, strict=True):
        # With a fraction, FATE's grouping: messages equal modulo the factor count share a factor.
        group = message % 30 if fraction == 0.3 else message
        assert factor_of_residue.setdefault(group, int(factor)) == int(factor)
    assert len({int(f) for f in blinded.factors}) == len(factor_of_residue)
    assert all(1 < int(f) < 2**128 for f in blinded.factors)


def test_blinding_is_fresh_each_time(key: PrivateKey) -> None:
    messages = [secrets.randbits(256) for _ in range(20)]
    first = blind(messages, key.public, random_bit=128)
    second = blind(messages, key.public, random_bit=128)
    assert not set(first.values) & set(second.values)


def test_unblinding_refuses_a_count_mismatch(key: PrivateKey) -> None:
    blinded = blind([3, 5], key.public, random_bit=64)
    with pytest.raises(TransferError):
        unblind([1], blinded.factors, key.public)


def test_public_key_from_a_peer_is_checked(key: PrivateKey) -> None:
    assert PublicKey.from_wire(key.public.to_wire()) == key.public
    bad = [
        None,
        {"n": str(key.public.n), "e": 65537},
        {"n": key.public.n, "e": 2},
        {"n": key.public.n + 1, "e": 65537},
        {"n": 3233, "e": 17},
    ]
    for value in bad:
        with pytest.raises(TransferError):
            PublicKey.from_wire(value)


def test_values_from_a_peer_must_be_residues(key: PrivateKey) -> None:
    n = key.public.n
    assert [int(v) for v in key.public.require_residues([0, n - 1], "values")] == [0, n - 1]
    for bad in ([n], [-1], ["7"], 7, [1.0]):
        with pytest.raises(TransferError):
            key.public.require_residues(bad, "values")
