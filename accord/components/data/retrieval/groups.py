"""The well-known MODP groups (RFC 2409 group 2, RFC 3526 groups 5, 14, 15 and 16) by key length.

Each prime is p = 2^n - 2^(n-64) - 1 + 2^64 * (floor(2^(n-130) * pi) + k) with the RFC's k: a safe
prime (q = (p - 1) / 2 is prime). Computing p from pi instead of pasting hex keeps the constants
checkable; ``tests`` check both primalities. Ids are hashed onto the squares mod p, the subgroup of
prime order q, where x -> x^e is a permutation for every exponent e in [1, q - 1]: Pohlig-Hellman's
commutative cipher, and a group with a hard discrete logarithm for the oblivious transfer.
"""

from __future__ import annotations

from functools import cache

# RFC 2409 (1024) and RFC 3526 (1536, 2048, 3072, 4096): the offset k of each prime.
OFFSETS = {1024: 129093, 1536: 741804, 2048: 124476, 3072: 1690314, 4096: 240904}
GUARD = 32


def _arctan_inverse(x: int, one: int) -> int:
    """arctan(1 / x) * one, by its Taylor series in integers."""
    total = term = one // x
    square, n, sign = x * x, 1, -1
    while term:
        term //= square
        n += 2
        total += sign * (term // n)
        sign = -sign
    return total


def _pi_scaled(bits: int) -> int:
    """floor(pi * 2**bits) (Machin: pi = 16 arctan(1/5) - 4 arctan(1/239))."""
    one = 1 << (bits + GUARD)
    pi = 16 * _arctan_inverse(5, one) - 4 * _arctan_inverse(239, one)
    return pi >> GUARD


@cache
def prime(bits: int) -> int:
    """The MODP safe prime of ``bits`` bits."""
    k = OFFSETS[bits]
    return (1 << bits) - (1 << (bits - 64)) - 1 + (1 << 64) * (_pi_scaled(bits - 130) + k)
