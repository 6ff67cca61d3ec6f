"""Commutative ciphers for FATE's DH and ECDH intersections: ``E_a(E_b(x)) == E_b(E_a(x))``.

Each party holds a secret key; ``first`` hashes its ids (``H(id + salt)``, salt appended as in FATE)
into the group and encrypts them, ``again`` encrypts a peer's already encrypted values with this
party's key. Because encryption commutes, an id both parties hold ends up as the same doubly
encrypted value on both sides, and nothing else does.

- ECDH (curve25519): the id's hash is taken as an X25519 u-coordinate and "encryption" is X25519 with
  the secret scalar (RFC 7748, via ``cryptography``). X25519 clamps the scalar to a multiple of 8,
  which clears the cofactor of the curve (8) and of its twist (4), so ``x(k_b * (±k_a * P)) =
  x(k_a * k_b * P)`` for any u, on the curve or on its twist: it commutes. An all-zero result (a
  low-order input, which a hash hits with probability about 2^-250) is refused.
- DH: exponentiation modulo a safe prime ``p`` (the RFC 2409 / RFC 3526 MODP group of the key length);
  the id's hash is squared into the subgroup of prime order ``q = (p - 1) / 2`` and raised to the
  secret exponent in ``[2, q - 1]``. gmpy2's list exponentiation runs with the GIL released.

Ciphers are frozen dataclasses of bytes and integers, so the engine can ship them to its processes.
"""

from __future__ import annotations

import functools
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import gmpy2  # type: ignore[import-untyped, unused-ignore]
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey

from accord.components.intersection.hashing import digest
from accord.crypto import _gmp
from accord.errors import DataFormatError, TransferError

X25519_WIDTH = 32

# RFC 2409 section 6.2 (1024 bits) and RFC 3526 (1536 to 8192 bits): p = 2^n - 2^(n-64) - 1 +
# 2^64 * (floor(2^(n-130) * pi) + k); the k of each size makes p and (p - 1) / 2 prime.
MODP_OFFSETS = {
    1024: 129093,
    1536: 741804,
    2048: 124476,
    3072: 1690314,
    4096: 240904,
    6144: 929484,
    8192: 4743158,
}


@functools.lru_cache(maxsize=8)
def modp_prime(bits: int) -> int:
    """The MODP group's safe prime of ``bits`` bits (one of :data:`MODP_OFFSETS`)."""
    offset = MODP_OFFSETS[bits]
    context = gmpy2.get_context().copy()
    context.precision = bits + 128
    with gmpy2.context(context):
        fraction = int(gmpy2.floor(gmpy2.mpfr(2) ** (bits - 130) * gmpy2.const_pi()))
    return int(2**bits - 2 ** (bits - 64) - 1 + 2**64 * (fraction + offset))


def _hash_bytes(method: str, salt: str, sid: str) -> bytes:
    if method == "none":
        return (sid + salt).encode("utf-8")
    return digest(method, sid + salt)


def _values(blob: object, width: int, what: str) -> list[bytes]:
    if not isinstance(blob, bytes) or len(blob) % width:
        raise TransferError(f"the peer sent {what} that are not {width}-byte values")
    return [blob[at : at + width] for at in range(0, len(blob), width)]


@dataclass(frozen=True)
class EcdhCipher:
    secret: bytes
    hash_method: str
    salt: str

    @classmethod
    def generate(cls, hash_method: str, salt: str) -> EcdhCipher:
        return cls(secrets.token_bytes(X25519_WIDTH), hash_method, salt)

    @property
    def width(self) -> int:
        return X25519_WIDTH

    def to_secret(self) -> dict[str, str]:
        """The key, for a cache kept on this party's disk (0600); never sent."""
        return {"kind": "ecdh", "secret": self.secret.hex()}

    def _apply(self, points: Sequence[bytes], what: str) -> list[bytes]:
        key = X25519PrivateKey.from_private_bytes(self.secret)
        out = []
        for point in points:
            try:
                out.append(key.exchange(X25519PublicKey.from_public_bytes(point)))
            except ValueError as error:  # a low-order point: the result would be all zeros
                raise TransferError(f"{what} hold a low-order curve25519 point ({error})") from None
        return out

    def first(self, ids: Sequence[str]) -> list[bytes]:
        # The first 32 bytes of the hash are the u-coordinate; X25519 masks the top bit itself.
        points = [_hash_bytes(self.hash_method, self.salt, sid)[:X25519_WIDTH] for sid in ids]
        return self._apply(points, "the hashed ids")

    def again(self, blob: object, what: str) -> list[bytes]:
        return self._apply(_values(blob, X25519_WIDTH, what), f"the peer's {what}")


@dataclass(frozen=True)
class DhCipher:
    prime: int
    exponent: int
    hash_method: str
    salt: str

    @classmethod
    def generate(cls, key_length: int, hash_method: str, salt: str) -> DhCipher:
        prime = modp_prime(key_length)
        order = (prime - 1) // 2
        return cls(prime, 2 + secrets.randbelow(order - 3), hash_method, salt)

    @property
    def width(self) -> int:
        return (self.prime.bit_length() + 7) // 8

    def to_secret(self) -> dict[str, str | int]:
        """The key, for a cache kept on this party's disk (0600); never sent."""
        return {"kind": "dh", "key_length": self.prime.bit_length(), "exponent": self.exponent}

    def _apply(self, bases: list[int]) -> list[bytes]:
        width = self.width
        powers = _gmp.powmod_base_list(bases, _gmp.mpz(self.exponent), _gmp.mpz(self.prime))
        return [int(value).to_bytes(width, "big") for value in powers]

    def first(self, ids: Sequence[str]) -> list[bytes]:
        prime = self.prime
        bases = []
        for sid in ids:
            number = _gmp.mpz_from_bytes(_hash_bytes(self.hash_method, self.salt, sid), "big") % prime
            # Squaring puts the value in the prime-order subgroup of quadratic residues.
            bases.append(_gmp.powmod(number, 2, prime))
        return self._apply(bases)

    def again(self, blob: object, what: str) -> list[bytes]:
        prime = self.prime
        bases = [_gmp.mpz_from_bytes(value, "big") for value in _values(blob, self.width, what)]
        if any(not 1 < base < prime - 1 for base in bases):
            raise TransferError(f"the peer sent {what} that are not elements of the DH group")
        return self._apply(bases)


Cipher = EcdhCipher | DhCipher


def cipher_from_secret(value: Any, hash_method: str, salt: str) -> Cipher:
    """A cipher of a cache (``to_secret``) with the hash settings the cache was made with."""
    if isinstance(value, dict) and value.get("kind") == "ecdh" and isinstance(value.get("secret"), str):
        return EcdhCipher(bytes.fromhex(value["secret"]), hash_method, salt)
    if (
        isinstance(value, dict)
        and value.get("kind") == "dh"
        and isinstance(value.get("key_length"), int)
        and isinstance(value.get("exponent"), int)
    ):
        return DhCipher(modp_prime(value["key_length"]), value["exponent"], hash_method, salt)
    raise DataFormatError(
        "the cached DH or ECDH key is not one this version writes",
        hint="make the cache again with an Intersection of this version",
    )
