"""Typed names for the few gmpy2 functions this package uses.

gmpy2 ships no type information, so everything it returns would be ``Any`` under mypy. ``mpz``
supports every operation used here exactly like ``int`` (``*``, ``%``, ``>>``, ``to_bytes``,
``bit_length``) and mixes with ``int`` freely, so the big integers are typed as ``int``. The names
are the gmpy2 callables themselves, not wrappers: the hot loops pay no extra call.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Literal

import gmpy2  # type: ignore[import-untyped]

mpz: Callable[[int], int] = gmpy2.mpz
mpz_from_bytes: Callable[[bytes | memoryview, Literal["big"]], int] = gmpy2.mpz.from_bytes
# powmod accepts a negative exponent when the base is invertible (it inverts first).
powmod: Callable[[int, int, int], int] = gmpy2.powmod
# Both list forms run their loop in C with the GIL released.
powmod_base_list: Callable[[Sequence[int], int, int], list[int]] = gmpy2.powmod_base_list
powmod_exp_list: Callable[[int, Sequence[int], int], list[int]] = gmpy2.powmod_exp_list


def powmod_pairs(bases: Sequence[int], exponents: Sequence[int], modulus: int) -> list[int]:
    """``[b_i ** e_i mod modulus]``; a negative exponent inverts its base."""
    return [powmod(base, exponent, modulus) for base, exponent in zip(bases, exponents, strict=True)]


invert: Callable[[int, int], int] = gmpy2.invert
gcd: Callable[[int, int], int] = gmpy2.gcd
next_prime: Callable[[int], int] = gmpy2.next_prime
is_prime: Callable[[int, int], bool] = gmpy2.is_prime

ONE: int = gmpy2.mpz(1)
