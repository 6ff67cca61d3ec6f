"""RSA for the blind-signature intersection: keys, CRT signing, blinding and unblinding.

The signer holds the private key and signs ``H(id)`` values; the other side sends ``H(id) * r^e mod n``
for a random ``r`` it keeps, gets ``H(id)^d * r mod n`` back and divides ``r`` out. The signer never sees
``H(id)``, and the other side never holds ``d``. Primes and blinding factors come from :mod:`secrets`.

Signing uses the Chinese remainder theorem: the two half-size exponentiations (mod ``p`` and mod ``q``)
run in two threads, as gmpy2 releases the GIL for list exponentiation.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import gmpy2  # type: ignore[import-untyped, unused-ignore]

from accord.errors import DataFormatError, TransferError

PUBLIC_EXPONENT = 65537
# Miller-Rabin rounds on top of gmpy2's trial division; an error chance below 2^-80 per prime.
_PRIME_ROUNDS = 40
# Below this many values, a second thread costs more than it saves.
_PARALLEL_MIN = 64
MIN_BASE_FRACTION = 0.01
MAX_BASE_FRACTION = 0.99


def random_prime(bits: int) -> Any:
    """A random prime of exactly ``bits`` bits whose top two bits are set, with ``gcd(e, p - 1) = 1``."""
    top = 3 << (bits - 2)
    while True:
        candidate = gmpy2.mpz(secrets.randbits(bits) | top | 1)
        if gmpy2.is_prime(candidate, _PRIME_ROUNDS) and gmpy2.gcd(PUBLIC_EXPONENT, candidate - 1) == 1:
            return candidate


@dataclass(frozen=True)
class PublicKey:
    n: int
    e: int

    def to_wire(self) -> dict[str, int]:
        return {"n": int(self.n), "e": int(self.e)}

    @classmethod
    def from_wire(cls, value: Any, *, min_bits: int = 1024) -> PublicKey:
        """A peer's key, refused unless it is a plausible RSA public key."""
        if (
            not isinstance(value, dict)
            or not isinstance(value.get("n"), int)
            or not isinstance(value.get("e"), int)
        ):
            raise TransferError("the peer's RSA public key is not a {n, e} pair of integers")
        n, e = value["n"], value["e"]
        if n.bit_length() < min_bits or n % 2 == 0 or not 3 <= e < n or e % 2 == 0:
            raise TransferError(
                f"the peer's RSA public key is not usable (n has {n.bit_length()} bits, e = {e})"
            )
        return cls(n=n, e=e)

    def verify(self, message: int, signature: int) -> bool:
        return int(gmpy2.powmod(signature, self.e, self.n)) == message % self.n

    def require_residues(self, values: Any, what: str) -> list[Any]:
        """``values`` as mpz, refused unless it is a list of integers in ``[0, n)``."""
        if not isinstance(values, list) or not all(isinstance(v, int) and 0 <= v < self.n for v in values):
            raise TransferError(f"the peer sent {what} that are not integers modulo this key's n")
        return [gmpy2.mpz(v) for v in values]


@dataclass(frozen=True)
class PrivateKey:
    public: PublicKey
    p: Any
    q: Any
    d: Any
    # CRT parts: d mod (p - 1), d mod (q - 1) and q^-1 mod p.
    dp: Any
    dq: Any
    q_inv: Any

    @classmethod
    def generate(cls, bits: int) -> PrivateKey:
        if bits < 1024:
            raise ValueError(f"an RSA key needs at least 1024 bits, not {bits}")
        while True:
            p, q = random_prime(bits - bits // 2), random_prime(bits // 2)
            n = p * q
            if p != q and n.bit_length() == bits:
                return cls.from_primes(p, q)

    @classmethod
    def from_primes(cls, p: Any, q: Any) -> PrivateKey:
        p, q = gmpy2.mpz(p), gmpy2.mpz(q)
        d = gmpy2.invert(PUBLIC_EXPONENT, gmpy2.lcm(p - 1, q - 1))
        return cls(
            public=PublicKey(n=int(p * q), e=PUBLIC_EXPONENT),
            p=p,
            q=q,
            d=d,
            dp=d % (p - 1),
            dq=d % (q - 1),
            q_inv=gmpy2.invert(q, p),
        )

    def to_secret(self) -> dict[str, int]:
        """The primes, for a cache kept on this party's disk (0600); never sent."""
        return {"p": int(self.p), "q": int(self.q)}

    @classmethod
    def from_secret(cls, value: Any) -> PrivateKey:
        if not isinstance(value, dict) or not all(isinstance(value.get(k), int) for k in ("p", "q")):
            raise DataFormatError(
                "the cached RSA key is not a {p, q} pair of integers",
                hint="make the cache again with an Intersection of this version",
            )
        return cls.from_primes(value["p"], value["q"])

    def sign(self, message: int) -> int:
        return self.sign_many([message])[0]

    def sign_many(self, messages: Sequence[Any]) -> list[int]:
        """``m^d mod n`` for each ``m``, by CRT (Garner's recombination)."""
        mod_p = [gmpy2.mpz(m) % self.p for m in messages]
        mod_q = [gmpy2.mpz(m) % self.q for m in messages]
        if len(messages) >= _PARALLEL_MIN:
            with ThreadPoolExecutor(max_workers=2) as pool:
                future_p = pool.submit(gmpy2.powmod_base_list, mod_p, self.dp, self.p)
                signed_q = gmpy2.powmod_base_list(mod_q, self.dq, self.q)
                signed_p = future_p.result()
        else:
            signed_p = gmpy2.powmod_base_list(mod_p, self.dp, self.p)
            signed_q = gmpy2.powmod_base_list(mod_q, self.dq, self.q)
        p, q, q_inv = self.p, self.q, self.q_inv
        return [int(sq + ((sp - sq) * q_inv % p) * q) for sp, sq in zip(signed_p, signed_q, strict=True)]


@dataclass(frozen=True)
class Blinded:
    """Blinded messages to send, and the factors (kept secret) that remove the blinding."""

    values: list[int]
    factors: list[Any]


class FactorStream:
    """Random bits drawn again identically from a secret ``seed``: SHAKE-256(seed, label, counter).

    Blinding factors of a table partition come from here, so that an engine recomputing the partition
    (Spark recomputes lost or unpersisted work) unblinds with the factors it blinded with. The seed is
    32 bytes from :mod:`secrets` and never leaves the party, so the bits are as unpredictable as
    :func:`secrets.randbits`.
    """

    def __init__(self, seed: bytes, label: int) -> None:
        self._prefix = seed + label.to_bytes(8, "big", signed=True)
        self._counter = 0

    def randbits(self, bits: int) -> int:
        self._counter += 1
        data = hashlib.shake_256(self._prefix + self._counter.to_bytes(8, "big")).digest((bits + 7) // 8)
        return int.from_bytes(data, "big") >> (-bits % 8)


def _random_factor(bits: int, n: int, stream: FactorStream | None = None) -> Any:
    while True:
        factor = gmpy2.mpz(stream.randbits(bits) if stream is not None else secrets.randbits(bits))
        if factor > 1 and gmpy2.gcd(factor, n) == 1:
            return factor


def blind(
    messages: Sequence[Any],
    key: PublicKey,
    *,
    random_bit: int,
    base_fraction: float | None = None,
    stream: FactorStream | None = None,
) -> Blinded:
    """``m * r^e mod n`` for each ``m``, with a fresh ``r`` of ``random_bit`` bits per message.

    With ``base_fraction`` (FATE's random_base_fraction) only ``fraction * len(messages)`` factors are
    drawn and messages share them by ``m mod count``: faster, but messages sharing a factor let the
    signer see their ratio, as in FATE. With ``stream`` the factors come from it (see FactorStream).
    """
    n, e = gmpy2.mpz(key.n), key.e
    if base_fraction and base_fraction <= MAX_BASE_FRACTION:
        count = max(round(len(messages) * max(base_fraction, MIN_BASE_FRACTION)), 1)
        pool = [_random_factor(random_bit, key.n, stream) for _ in range(count)]
        factors = [pool[int(m) % count] for m in messages]
        masks_by_factor = {int(f): gmpy2.powmod(f, e, n) for f in pool}
        masks = [masks_by_factor[int(f)] for f in factors]
    else:
        factors = [_random_factor(random_bit, key.n, stream) for _ in messages]
        masks = gmpy2.powmod_base_list(factors, e, n) if factors else []
    values = [int(gmpy2.mpz(m) * mask % n) for m, mask in zip(messages, masks, strict=True)]
    return Blinded(values=values, factors=factors)


def unblind(signatures: Sequence[Any], factors: Sequence[Any], key: PublicKey) -> list[int]:
    """``s * r^-1 mod n``: the signature of each original message."""
    if len(signatures) != len(factors):
        raise TransferError(f"the peer signed {len(signatures)} values, but {len(factors)} were sent to it")
    n = gmpy2.mpz(key.n)
    inverses: dict[int, Any] = {}
    unblinded = []
    for signature, factor in zip(signatures, factors, strict=True):
        inverse = inverses.get(int(factor))
        if inverse is None:
            inverse = inverses[int(factor)] = gmpy2.invert(factor, n)
        unblinded.append(int(gmpy2.mpz(signature) * inverse % n))
    return unblinded
