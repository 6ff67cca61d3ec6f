"""Paillier keys at the integer level: generation, the public and private key, and their kernels.

What the batch layer and the pool's workers need, and nothing that knows of encrypted vectors, so
that they import it without a circle; :mod:`accord.crypto.paillier` adds ``encrypt`` / ``decrypt``
of vectors to these keys.

Scheme: ``n = p·q`` with ``p``, ``q`` primes of equal length, ``g = n + 1``. A plaintext integer
``m`` (mod ``n``) encrypts to ``c = g^m · h_s^alpha mod n²`` where ``g^m = 1 + m·n mod n²`` costs one
multiplication and the random factor comes from :mod:`accord.crypto.obfuscator`. Decryption uses the
Chinese remainder theorem: ``m_p = L_p(c^(p-1) mod p²) · h_p mod p`` with ``L_p(x) = (x - 1) / p``
and ``h_p = L_p(g^(p-1) mod p²)^-1 mod p`` (likewise for ``q``), recombined with ``q^-1 mod p`` —
two half-size exponentiations instead of one full-size one.

Key generation draws each prime with :func:`gmpy2.next_prime` from :func:`secrets.randbits` with the
top two bits set, so ``n`` has exactly ``key_length`` bits; ``p != q`` and
``gcd(n, (p-1)(q-1)) = 1`` are checked.

Keys cross process and party boundaries only through :meth:`PublicKey.to_dict` (hex strings); the
private key's ``repr`` never shows the primes.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field

from accord.crypto import counting
from accord.crypto._gmp import gcd, invert, is_prime, mpz, next_prime, powmod
from accord.crypto.obfuscator import obfuscator_for
from accord.errors import ComponentParameterError, DataFormatError, DataMismatchError

MIN_KEY_LENGTH = 512
DEFAULT_KEY_LENGTH = 1024
KEY_ALGORITHM = "paillier"
# Miller-Rabin rounds on top of next_prime's own test.
PRIME_CHECK_ROUNDS = 30


@dataclass(frozen=True, eq=False)
class PublicKey:
    """The public half: ``n`` and the derived ``n²``; ``g`` is always ``n + 1``.

    Keys are equal when their moduli are, whichever of this class and its vector-aware subclass
    (:class:`accord.crypto.paillier.PublicKey`) holds them.
    """

    n: int
    nsquare: int = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        modulus = mpz(self.n)
        object.__setattr__(self, "n", modulus)
        object.__setattr__(self, "nsquare", modulus * modulus)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, PublicKey) and other.n == self.n

    def __hash__(self) -> int:
        return hash(self.n)

    @property
    def g(self) -> int:
        return self.n + 1

    @property
    def key_length(self) -> int:
        return self.n.bit_length()

    @property
    def max_plaintext(self) -> int:
        """The largest magnitude a plaintext may reach and still decrypt to itself."""
        return (self.n - 1) // 2

    @property
    def ciphertext_bytes(self) -> int:
        return (self.nsquare.bit_length() + 7) // 8

    def to_dict(self) -> dict[str, str]:
        return {"algorithm": KEY_ALGORITHM, "n": format(self.n, "x")}

    @classmethod
    def from_dict(cls, data: object) -> PublicKey:
        if not isinstance(data, dict) or not isinstance(data.get("n"), str):
            raise DataFormatError(
                "public key: expected an object with a hex string 'n'",
                hint="send the key as PublicKey.to_dict() produced it",
            )
        algorithm = data.get("algorithm", KEY_ALGORITHM)
        if algorithm != KEY_ALGORITHM:
            raise DataFormatError(
                f"public key: algorithm {algorithm!r} is not {KEY_ALGORITHM!r}",
                hint="encrypt_param.method must be Paillier on every party",
            )
        text: str = data["n"]
        try:
            modulus = int(text, 16)
        except ValueError:
            raise DataFormatError(
                f"public key: 'n' is not a hex number: {text[:40]!r}",
                hint="send the key as PublicKey.to_dict() produced it",
            ) from None
        if modulus.bit_length() < MIN_KEY_LENGTH or modulus % 2 == 0:
            raise DataFormatError(
                f"public key: 'n' has {modulus.bit_length()} bits"
                + (" and is even" if modulus % 2 == 0 else ""),
                hint=f"a Paillier modulus is odd and has at least {MIN_KEY_LENGTH} bits",
            )
        return cls(modulus)


@dataclass(frozen=True)
class PrivateKey:
    """The primes of ``n`` and the constants CRT decryption needs."""

    p: int = field(repr=False)
    q: int = field(repr=False)
    public_key: PublicKey
    psquare: int = field(init=False, repr=False, compare=False)
    qsquare: int = field(init=False, repr=False, compare=False)
    hp: int = field(init=False, repr=False, compare=False)
    hq: int = field(init=False, repr=False, compare=False)
    q_inverse: int = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        p, q = mpz(self.p), mpz(self.q)
        if p == q or p * q != self.public_key.n:
            raise DataMismatchError(
                "private key: the primes do not factor the public key's modulus",
                hint="keep the private key with the public key it was generated with",
            )
        object.__setattr__(self, "p", p)
        object.__setattr__(self, "q", q)
        object.__setattr__(self, "psquare", p * p)
        object.__setattr__(self, "qsquare", q * q)
        g = self.public_key.g
        object.__setattr__(self, "hp", _h_constant(g, p))
        object.__setattr__(self, "hq", _h_constant(g, q))
        object.__setattr__(self, "q_inverse", invert(q, p))

    def decrypt_residues(self, ciphertexts: Sequence[int]) -> list[int]:
        """The plaintext residues in ``[0, n)``, by CRT."""
        p, q, psquare, qsquare = self.p, self.q, self.psquare, self.qsquare
        hp, hq, q_inverse = self.hp, self.hq, self.q_inverse
        p_minus_1, q_minus_1 = p - 1, q - 1
        counting.count(counting.DECRYPT, len(ciphertexts))
        residues: list[int] = []
        for c in ciphertexts:
            mp = (powmod(c, p_minus_1, psquare) - 1) // p * hp % p
            mq = (powmod(c, q_minus_1, qsquare) - 1) // q * hq % q
            residues.append(mq + q * ((mp - mq) * q_inverse % p))
        return residues


def _h_constant(g: int, prime: int) -> int:
    return invert((powmod(g, prime - 1, prime * prime) - 1) // prime, prime)


def generate_keypair(key_length: int = DEFAULT_KEY_LENGTH) -> tuple[PublicKey, PrivateKey]:
    """A fresh key pair whose modulus has exactly ``key_length`` bits."""
    if (
        isinstance(key_length, bool)
        or not isinstance(key_length, int)
        or key_length < MIN_KEY_LENGTH
        or key_length % 2
    ):
        raise ComponentParameterError(
            f"encrypt_param.key_length: {key_length!r} is not a usable Paillier key length",
            hint=f"use an even whole number of bits, at least {MIN_KEY_LENGTH}; "
            f"{DEFAULT_KEY_LENGTH} is the default and 2048 the conservative choice",
            field="encrypt_param.key_length",
        )
    half = key_length // 2
    while True:
        p = _random_prime(half)
        q = _random_prime(half)
        n = p * q
        if p != q and n.bit_length() == key_length and gcd(n, (p - 1) * (q - 1)) == 1:
            public_key = PublicKey(n)
            return public_key, PrivateKey(p, q, public_key)


def _random_prime(bits: int) -> int:
    # The top two bits set make the product of two such primes exactly 2·bits long.
    top_bits = 3 << (bits - 2)
    while True:
        prime = next_prime(mpz(secrets.randbits(bits) | top_bits))
        if prime.bit_length() == bits and is_prime(prime, PRIME_CHECK_ROUNDS):
            return prime


def encrypt_integers(public_key: PublicKey, plaintexts: Sequence[int]) -> list[int]:
    """Ciphertexts of integers (any sign, magnitude below n/2), each with a fresh random factor."""
    n, nsquare = public_key.n, public_key.nsquare
    obfuscator = obfuscator_for(n, nsquare)
    draw = obfuscator.draw
    counting.count(counting.ENCRYPT, len(plaintexts))
    # g^m = 1 + m·n mod n²; Python's % maps a negative m to its residue.
    return [(1 + m * n) % nsquare * draw() % nsquare for m in plaintexts]


def rerandomize(public_key: PublicKey, ciphertexts: Sequence[int]) -> list[int]:
    """The same plaintexts under fresh random factors."""
    nsquare = public_key.nsquare
    draw = obfuscator_for(public_key.n, nsquare).draw
    counting.count(counting.RERANDOMIZE, len(ciphertexts))
    return [c * draw() % nsquare for c in ciphertexts]
