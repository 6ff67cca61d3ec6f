"""Feldman verifiable secret sharing over the RFC 5114 (section 2.1) group, as FATE uses it.

p is a 1024-bit prime, g generates its subgroup of prime order q (160 bits). A secret s (encoded
fixed point) is shared among n parties with a random polynomial f of degree n - 1, f(0) = s mod q:
party x gets f(x) (x = 1..n) and everyone gets the commitments C_k = g^a_k mod p of the coefficients.
A share is genuine exactly when g^f(x) = prod_k C_k^(x^k) mod p, so a tampered share is caught by its
receiver; sums of shares verify against the products of the commitments, and n summed shares give
the summed secret back by Lagrange interpolation at 0.

Arrays of shares are laid out row by row, then column, then x (or coefficient index k).
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence

from accord.crypto._gmp import invert, mpz, powmod, powmod_exp_list


def _hex(text: str) -> int:
    return int("".join(text.split()), 16)


# RFC 5114, 2.1: "1024-bit MODP Group with 160-bit Prime Order Subgroup" (the group FATE uses).
P = _hex(
    """B10B8F96 A080E01D DE92DE5E AE5D54EC 52C99FBC FB06A3C6 9A6A9DCA 52D23B61 6073E286 75A23D18
    9838EF1E 2EE652C0 13ECB4AE A9061123 24975C3C D49B83BF ACCBDD7D 90C4BD70 98488E9C 219A7372
    4EFFD6FA E5644738 FAA31A4F F55BCCC0 A151AF5F 0DC8B4BD 45BF37DF 365C1A65 E68CFDA7 6D4DA708
    DF1FB2BC 2E4A4371"""
)
G = _hex(
    """A4D1CBD5 C3FD3412 6765A442 EFB99905 F8104DD2 58AC507F D6406CFF 14266D31 266FEA1E 5C41564B
    777E690F 5504F213 160217B4 B01B886A 5E91547F 9E2749F4 D7FBD7D3 B9A92EE1 909D0D22 63F80A76
    A6A24C08 7A091F53 1DBF0A01 69B6A28A D662A4D1 8E73AFA3 2D779D59 18D08BC8 858F4DCE F97C2A24
    855E6EEB 22B3B2E5"""
)
Q = _hex("F518AA87 81A8DF27 8ABA4E7D 64B7CB9D 49462353")


def encode(value: float, q_n: int) -> int:
    """FATE's fixed point: the value times 10**q_n, truncated toward zero, taken mod q."""
    return int(float(value) * 10**q_n) % Q


def decode(secret: int, q_n: int) -> float:
    """The signed fixed-point number behind ``secret`` (above q/2 reads as negative)."""
    signed = int(secret) - Q if secret > Q // 2 else int(secret)
    scale: int = 10**q_n
    whole, fraction = divmod(signed, scale)
    return float(whole) + fraction / scale


def share(secrets_: Sequence[int], n: int) -> tuple[list[int], list[int]]:
    """Shares (len(secrets) * n, x = 1..n) and commitments (len(secrets) * n, k = 0..n-1)."""
    shares: list[int] = []
    coefficients: list[int] = []
    for secret in secrets_:
        poly = [mpz(secret)] + [mpz(secrets.randbelow(Q)) for _ in range(n - 1)]
        coefficients.extend(poly)
        for x in range(1, n + 1):
            y = mpz(0)
            for coefficient in reversed(poly):
                y = (y * x + coefficient) % Q
            shares.append(y)
    return shares, powmod_exp_list(G, coefficients, P)


def expected(commitments: Sequence[int], x: int) -> int:
    """prod_k C_k^(x^k) mod p: what g^f(x) must be for a genuine share at x."""
    value = mpz(1)
    for k, commitment in enumerate(commitments):
        value = value * powmod(commitment, x**k, P) % P
    return value


def bad_shares(shares: Sequence[int], commitments: Sequence[int], x: int, n: int) -> list[int]:
    """The positions of the shares at ``x`` that do not match their commitments (n per share)."""
    lifted = powmod_exp_list(G, list(shares), P)
    return [i for i, have in enumerate(lifted) if have != expected(commitments[i * n : (i + 1) * n], x)]


def combine_commitments(per_party: Sequence[Sequence[int]]) -> list[int]:
    """The commitments of the summed polynomial: the element-wise product of every party's."""
    combined = [mpz(c) for c in per_party[0]]
    for other in per_party[1:]:
        combined = [a * b % P for a, b in zip(combined, other, strict=True)]
    return combined


def lagrange_at_zero(n: int) -> list[int]:
    """Weights w_x (x = 1..n) with f(0) = sum_x w_x f(x) mod q for f of degree below n."""
    weights = []
    for x in range(1, n + 1):
        numerator, denominator = 1, 1
        for other in range(1, n + 1):
            if other != x:
                numerator = numerator * other % Q
                denominator = denominator * (other - x) % Q
        weights.append(numerator * invert(denominator, Q) % Q)
    return weights
