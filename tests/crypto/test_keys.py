"""Key generation, key transport and the integer-level scheme against textbook Paillier."""

from __future__ import annotations

import math
import secrets

import pytest

from accord.crypto import PublicKey, generate_keypair
from accord.crypto.obfuscator import obfuscator_for
from accord.crypto.paillier import encrypt_integers
from accord.errors import ComponentParameterError, DataFormatError, DataMismatchError
from tests.crypto.conftest import KeyPair


def _textbook_decrypt(c: int, p: int, q: int) -> int:
    """Paillier's original decryption: L(c^λ mod n²)·μ mod n, with λ = lcm(p-1, q-1)."""
    n = p * q
    nsquare = n * n
    lam = math.lcm(p - 1, q - 1)

    def ell(x: int) -> int:
        return (x - 1) // n

    mu = pow(ell(pow(n + 1, lam, nsquare)), -1, n)
    return ell(pow(c, lam, nsquare)) * mu % n


@pytest.mark.parametrize("key_length", [512, 768, 1024])
def test_modulus_has_exactly_the_requested_bits(key_length: int) -> None:
    public_key, private_key = generate_keypair(key_length)
    assert public_key.n.bit_length() == key_length
    assert private_key.p != private_key.q
    assert private_key.p.bit_length() == private_key.q.bit_length() == key_length // 2
    assert private_key.p * private_key.q == public_key.n
    assert public_key.nsquare == public_key.n**2
    assert public_key.g == public_key.n + 1


@pytest.mark.parametrize("bad", [256, 510, 511, 1023, 0, -1024, "1024", 1024.0, True, None])
def test_unusable_key_length_names_the_parameter(bad: object) -> None:
    with pytest.raises(ComponentParameterError, match=r"encrypt_param\.key_length") as caught:
        generate_keypair(bad)  # type: ignore[arg-type]
    assert caught.value.code == 10126
    assert caught.value.hint


def test_crt_decryption_equals_textbook_decryption(keys_512: KeyPair) -> None:
    public_key, private_key = keys_512
    n = int(public_key.n)
    plaintexts = [0, 1, n - 1, n // 2, *(secrets.randbelow(n) for _ in range(20))]
    ciphertexts = encrypt_integers(public_key, plaintexts)
    p, q = int(private_key.p), int(private_key.q)
    assert private_key.decrypt_residues(ciphertexts) == [_textbook_decrypt(int(c), p, q) for c in ciphertexts]
    assert private_key.decrypt_residues(ciphertexts) == plaintexts
    # Arbitrary units of Z*_{n²} are ciphertexts too (of some residue with some randomness).
    units = [secrets.randbelow(n * n - 2) + 2 for _ in range(10)]
    units = [u for u in units if math.gcd(u, n) == 1]
    assert private_key.decrypt_residues(units) == [_textbook_decrypt(u, p, q) for u in units]


def test_negative_integers_encrypt_as_residues(keys_512: KeyPair) -> None:
    public_key, private_key = keys_512
    ciphertexts = encrypt_integers(public_key, [-1, -12345, -(2**100)])
    n = int(public_key.n)
    assert private_key.decrypt_residues(ciphertexts) == [n - 1, n - 12345, n - 2**100]


def test_encryptions_of_one_value_differ(keys_512: KeyPair) -> None:
    public_key, private_key = keys_512
    ciphertexts = encrypt_integers(public_key, [7] * 50)
    assert len(set(ciphertexts)) == 50
    assert set(private_key.decrypt_residues(ciphertexts)) == {7}


def test_fixed_base_table_computes_the_power(keys_512: KeyPair) -> None:
    public_key, private_key = keys_512
    obfuscator = obfuscator_for(public_key.n, public_key.nsquare)
    nsquare = int(public_key.nsquare)
    fixed_base = int(obfuscator.fixed_base)
    top = 2**obfuscator.exponent_bits - 1
    for alpha in [0, 1, top, *(secrets.randbits(obfuscator.exponent_bits) for _ in range(10))]:
        assert obfuscator.power(alpha) == pow(fixed_base, alpha, nsquare)
    # The base is an n-th power, so it vanishes under λ: every obfuscator is an encryption of zero.
    lam = math.lcm(int(private_key.p) - 1, int(private_key.q) - 1)
    assert pow(fixed_base, lam, nsquare) == 1
    assert private_key.decrypt_residues([obfuscator.draw() for _ in range(5)]) == [0] * 5


def test_public_key_round_trips_as_hex_strings(keys_512: KeyPair) -> None:
    public_key, _ = keys_512
    as_dict = public_key.to_dict()
    assert all(isinstance(value, str) for value in as_dict.values())
    assert int(as_dict["n"], 16) == public_key.n
    assert PublicKey.from_dict(as_dict) == public_key


@pytest.mark.parametrize(
    "broken",
    [
        {},
        {"n": 12345},
        {"n": "not-hex"},
        {"n": "abc"},
        {"n": format(2**600, "x")},
        {"n": "ff", "algorithm": "paillier"},
        {"algorithm": "rsa", "n": format(2**600 + 1, "x")},
        ["n", "ff"],
    ],
)
def test_malformed_public_key_is_rejected(broken: object) -> None:
    with pytest.raises(DataFormatError, match="public key"):
        PublicKey.from_dict(broken)


def test_private_key_must_match_the_public_key(keys_512: KeyPair, keys_1024: KeyPair) -> None:
    from accord.crypto import PrivateKey

    _, private_512 = keys_512
    public_1024, _ = keys_1024
    with pytest.raises(DataMismatchError):
        PrivateKey(private_512.p, private_512.q, public_1024)


def test_private_key_repr_hides_the_primes(keys_512: KeyPair) -> None:
    _, private_key = keys_512
    text = repr(private_key)
    assert str(private_key.p) not in text
    assert format(private_key.q, "x") not in text
