"""Encrypted vectors and their homomorphic arithmetic.

An :class:`EncryptedVector` is a list of Paillier ciphertexts, one fixed-point exponent ``k`` for all
of them (element ``i`` decrypts to ``m_i · 2^-k``, see :mod:`accord.crypto.fixedpoint`) and
``bound``, an upper bound on every ``|m_i|`` that each operation updates exactly. An operation
whose bound could pass ``(n-1)/2`` raises instead of producing values that would decrypt wrong.

Operations, with ``[[a]]`` a ciphertext of ``a``:

* ``[[a]] + [[b]] = [[a]]·[[b]]``; different exponents first raise the smaller one:
  ``[[a]]^(2^diff)`` encrypts ``a`` at ``k + diff``.
* ``[[a]] + x = [[a]]·(1 + x·n)``: no encryption, one multiplication (``g^x`` with ``g = n + 1``).
  ``x`` is encoded at the ciphertext's exponent (or the ciphertext is raised when ``x`` needs more).
* ``-[[a]] = [[a]]^-1``; ``[[a]]·s = [[a]]^e`` with ``s = e·2^-j`` exact, exponent ``k + j``; a power of
  two costs nothing.
* ``dot(X)``: ``[[X^T·a]]`` via :mod:`accord.crypto.multiexp`, each column encoded with its own
  exponent, the column results raised to a common exponent.

Results of operations are not re-randomized (``[[a]]·0`` is the constant 1, for instance); call
:meth:`EncryptedVector.rerandomized` before handing a derived vector to the key holder when its
ciphertexts must not be linkable to their inputs.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from accord.crypto import batch, counting
from accord.crypto._gmp import ONE, powmod
from accord.crypto.codec import HEADER_BYTES, VectorHeader, pack_ciphertexts, read_header, unpack_ciphertexts
from accord.crypto.fixedpoint import (
    COLUMN_MAX_BITS,
    as_float_matrix,
    as_float_vector,
    column_encoding,
    exponent_below,
    scalar_encoding,
    to_floats,
    to_integers,
    top_bit,
    vector_exponent,
)
from accord.crypto.keys import PrivateKey, PublicKey
from accord.errors import ArgumentError, ComponentParameterError, DataFormatError, DataMismatchError

Scalar = int | float | np.integer | np.floating
Plain = np.ndarray | Sequence[float] | Scalar
_SCALAR_TYPES = (int, float, np.integer, np.floating)


class EncryptedVector:
    """Ciphertexts under ``public_key`` of ``m_i · 2^-exponent`` with every ``|m_i| <= bound``."""

    __slots__ = ("bound", "ciphertexts", "exponent", "public_key")
    # numpy must hand ``array + vector`` to __radd__ rather than broadcast over the vector.
    __array_ufunc__ = None

    def __init__(self, public_key: PublicKey, ciphertexts: list[int], exponent: int, bound: int) -> None:
        self.public_key = public_key
        self.ciphertexts = ciphertexts
        self.exponent = exponent
        self.bound = bound

    def __repr__(self) -> str:
        return (
            f"EncryptedVector(length={len(self)}, exponent={self.exponent}, "
            f"key_length={self.public_key.key_length})"
        )

    def __len__(self) -> int:
        return len(self.ciphertexts)

    def __getitem__(self, index: slice | int | np.ndarray | Sequence[int]) -> EncryptedVector:
        if isinstance(index, slice):
            chosen = self.ciphertexts[index]
        else:
            try:
                positions = np.atleast_1d(np.arange(len(self))[index])
            except IndexError as error:
                raise ArgumentError(
                    f"encrypted vector of length {len(self)}: index {error}",
                    hint="select rows with a slice, integer positions below the length, "
                    "or a boolean mask of the same length",
                ) from None
            chosen = [self.ciphertexts[p] for p in positions.tolist()]
        return EncryptedVector(self.public_key, chosen, self.exponent, self.bound)

    # Iteration would go through __getitem__ one length-1 vector at a time; select with a slice.
    __iter__ = None

    # ---- addition -----------------------------------------------------------------------------

    def __add__(self, other: EncryptedVector | Plain) -> EncryptedVector:
        if isinstance(other, EncryptedVector):
            return self._add_encrypted(other)
        return self._add_plain(other)

    __radd__ = __add__

    def __sub__(self, other: EncryptedVector | Plain) -> EncryptedVector:
        if isinstance(other, EncryptedVector):
            return self._add_encrypted(-other)
        return self._add_plain(-self._plain_vector(other, "subtract"))

    def __rsub__(self, other: Plain) -> EncryptedVector:
        return (-self)._add_plain(other)

    def __neg__(self) -> EncryptedVector:
        inverses = batch.powers(self.public_key, self.ciphertexts, -1)
        return EncryptedVector(self.public_key, inverses, self.exponent, self.bound)

    def _add_encrypted(self, other: EncryptedVector) -> EncryptedVector:
        self._require_same_key(other, "add")
        if len(other) != len(self):
            raise DataMismatchError(
                f"cannot add encrypted vectors of lengths {len(self)} and {len(other)}",
                hint="add vectors over the same rows",
            )
        exponent = max(self.exponent, other.exponent)
        left, right = self._rescaled(exponent), other._rescaled(exponent)
        nsquare = self.public_key.nsquare
        summed = [a * b % nsquare for a, b in zip(left.ciphertexts, right.ciphertexts, strict=True)]
        counting.count(counting.ADD, len(summed))
        bound = _checked(self.public_key, left.bound + right.bound, "addition")
        return EncryptedVector(self.public_key, summed, exponent, bound)

    def _add_plain(self, other: Plain) -> EncryptedVector:
        values = self._plain_vector(other, "add")
        # The grid the sum needs is set by the larger of the two magnitudes, as in float addition:
        # a plaintext far below the ciphertext's values is rounded onto the ciphertext's grid rather
        # than forcing every ciphertext up to the plaintext's finer exponent.
        plain_top = top_bit(values)
        cipher_top = self.bound.bit_length() - self.exponent if self.bound else None
        tops = [t for t in (plain_top, cipher_top) if t is not None]
        exponent = max(self.exponent, exponent_below(max(tops) if tops else None))
        base = self._rescaled(exponent)
        plaintexts = to_integers(values, exponent)
        n, nsquare = self.public_key.n, self.public_key.nsquare
        # c·(1 + m·n) = c + n·(c·m mod n) mod n²: two short products instead of a long one.
        summed = [
            (c + n * (c * m % n)) % nsquare if m else c
            for c, m in zip(base.ciphertexts, plaintexts, strict=True)
        ]
        counting.count(counting.ADD, len(summed))
        largest = max((abs(m) for m in plaintexts), default=0)
        bound = _checked(self.public_key, base.bound + largest, "addition")
        return EncryptedVector(self.public_key, summed, exponent, bound)

    def _plain_vector(self, other: object, operation: str) -> np.ndarray:
        if isinstance(other, _SCALAR_TYPES) or (isinstance(other, np.ndarray) and other.ndim == 0):
            return as_float_vector(np.full(len(self), other, dtype=np.float64), operation)
        values = as_float_vector(other, operation)
        if len(values) != len(self):
            raise DataMismatchError(
                f"cannot {operation} {len(values)} plaintext values and {len(self)} ciphertexts",
                hint="pass one value per encrypted element, in the same order",
            )
        return values

    def _rescaled(self, exponent: int) -> EncryptedVector:
        shift = exponent - self.exponent
        if shift == 0:
            return self
        bound = _checked(self.public_key, self.bound << shift, "rescaling")
        raised = batch.powers(self.public_key, self.ciphertexts, 1 << shift)
        return EncryptedVector(self.public_key, raised, exponent, bound)

    # ---- multiplication by plaintext ------------------------------------------------------------

    def __mul__(self, other: Scalar | np.ndarray) -> EncryptedVector:
        if isinstance(other, EncryptedVector):
            raise ArgumentError(
                "two encrypted vectors cannot be multiplied: Paillier only adds under encryption",
                hint="multiply by plaintext scalars or use dot() with a plaintext matrix",
            )
        if isinstance(other, np.ndarray) and other.ndim > 0:
            return self.multiply(other)
        if not isinstance(other, _SCALAR_TYPES) and not isinstance(other, np.ndarray):
            return NotImplemented
        value = float(other)
        mantissa, exponent = scalar_encoding(value)
        if mantissa == 0:
            return EncryptedVector(self.public_key, [ONE] * len(self), self.exponent, 0)
        bound = _checked(self.public_key, self.bound * abs(mantissa), "scalar multiplication")
        raised = batch.powers(self.public_key, self.ciphertexts, mantissa)
        return EncryptedVector(self.public_key, raised, self.exponent + exponent, bound)

    __rmul__ = __mul__

    def __truediv__(self, other: Scalar) -> EncryptedVector:
        return self * (1.0 / float(other))

    def multiply(self, values: np.ndarray | Sequence[float]) -> EncryptedVector:
        """Elementwise product with a plaintext vector (one exponentiation per element).

        The values share one exponent, encoded like a column of :meth:`dot`.
        """
        array = self._plain_vector(values, "multiply")
        encoded, exponents = column_encoding(array.reshape(-1, 1))
        if exponents[0] is None:
            return self * 0.0
        weights = encoded[:, 0].tolist()
        products = batch.pairwise_powers(self.public_key, self.ciphertexts, weights)
        bound = _checked(self.public_key, self.bound * max(abs(w) for w in weights), "multiplication")
        return EncryptedVector(self.public_key, products, self.exponent + exponents[0], bound)

    def sum(self) -> EncryptedVector:
        """The length-1 vector of the sum of the elements."""
        nsquare = self.public_key.nsquare
        total = ONE
        for c in self.ciphertexts:
            total = total * c % nsquare
        counting.count(counting.ADD, len(self) - 1)
        bound = _checked(self.public_key, self.bound * len(self), "sum")
        return EncryptedVector(self.public_key, [total], self.exponent, bound)

    def group_sums(self, groups: Sequence[Sequence[int]]) -> EncryptedVector:
        """One element per group: the sum of the elements at that group's positions (an empty group
        sums to an encrypted zero, the constant 1 — rerandomize before handing it on)."""
        nsquare = self.public_key.nsquare
        sums: list[int] = []
        largest = 0
        for group in groups:
            total = ONE
            for position in group:
                total = total * self.ciphertexts[position] % nsquare
            sums.append(total)
            largest = max(largest, len(group))
        counting.count(counting.ADD, sum(max(len(group) - 1, 0) for group in groups))
        bound = _checked(self.public_key, self.bound * largest, "group sums")
        return EncryptedVector(self.public_key, sums, self.exponent, bound)

    def dot(self, matrix: np.ndarray, precision_bits: int | None = None) -> EncryptedVector:
        """``[[matrix.T @ plain]]``: one element per column of ``matrix`` (rows = this vector's length).

        ``precision_bits`` (1..60) gives each column's largest magnitude that many bits instead of
        the default rule in :mod:`accord.crypto.fixedpoint`.
        """
        if precision_bits is not None and not (
            isinstance(precision_bits, int) and 1 <= precision_bits <= COLUMN_MAX_BITS
        ):
            raise ArgumentError(
                f"dot: precision_bits {precision_bits!r} is out of range",
                hint=f"use a whole number from 1 to {COLUMN_MAX_BITS}, or None for the default",
            )
        encoded, column_exponents = column_encoding(as_float_matrix(matrix, len(self), "dot"), precision_bits)
        products = batch.products(self.public_key, self.ciphertexts, encoded)
        # Columns come out at exponent (ours + theirs); raise each to the largest so they share one.
        target = max((e for e in column_exponents if e is not None), default=0)
        nsquare = self.public_key.nsquare
        aligned: list[int] = []
        bound = 0
        for product, column_exponent, magnitude in zip(
            products, column_exponents, _column_abs_sums(encoded), strict=True
        ):
            shift = 0 if column_exponent is None else target - column_exponent
            bound = max(bound, (self.bound * magnitude) << shift)
            aligned.append(powmod(product, 1 << shift, nsquare) if shift else product)
        bound = _checked(self.public_key, bound, "dot")
        return EncryptedVector(self.public_key, aligned, self.exponent + target, bound)

    # ---- assembly, randomness, transport ---------------------------------------------------------

    @staticmethod
    def concatenate(parts: Sequence[EncryptedVector]) -> EncryptedVector:
        if not parts:
            raise ArgumentError(
                "concatenate: no encrypted vectors given", hint="pass at least one EncryptedVector"
            )
        first = parts[0]
        for part in parts[1:]:
            first._require_same_key(part, "concatenate")
        exponent = max(part.exponent for part in parts)
        aligned = [part._rescaled(exponent) for part in parts]
        ciphertexts = [c for part in aligned for c in part.ciphertexts]
        bound = max(part.bound for part in aligned)
        return EncryptedVector(first.public_key, ciphertexts, exponent, bound)

    def rerandomized(self) -> EncryptedVector:
        """The same plaintexts under fresh randomness (unlinkable to these ciphertexts)."""
        fresh = batch.refresh(self.public_key, self.ciphertexts)
        return EncryptedVector(self.public_key, fresh, self.exponent, self.bound)

    def to_bytes(self) -> bytes:
        width = self.public_key.ciphertext_bytes
        header = VectorHeader(
            width=width, exponent=self.exponent, count=len(self), bound_bits=self.bound.bit_length()
        )
        return header.to_bytes() + pack_ciphertexts(self.ciphertexts, width)

    @classmethod
    def from_bytes(cls, data: bytes, public_key: PublicKey) -> EncryptedVector:
        header = read_header(data, public_key.ciphertext_bytes)
        bound = (1 << header.bound_bits) - 1
        if bound > public_key.max_plaintext:
            raise DataFormatError(
                f"encrypted vector: plaintext bound of {header.bound_bits} bits does not fit a "
                f"{public_key.key_length}-bit key",
                hint="decode with the public key the sender encrypted under",
            )
        ciphertexts = unpack_ciphertexts(memoryview(data)[HEADER_BYTES:], header.width)
        nsquare = public_key.nsquare
        for index, c in enumerate(ciphertexts):
            if not 0 < c < nsquare:
                raise DataFormatError(
                    f"encrypted vector: ciphertext {index} is not in the range 1..n²-1 of this key",
                    hint="the value was corrupted in transfer or encrypted under another key; resend it",
                )
        return cls(public_key, ciphertexts, header.exponent, bound)

    def _require_same_key(self, other: EncryptedVector, operation: str) -> None:
        if other.public_key != self.public_key:
            raise DataMismatchError(
                f"cannot {operation} vectors encrypted under different public keys",
                hint="every party must encrypt with the public key the arbiter distributed for this job",
            )


def _column_abs_sums(encoded: np.ndarray) -> list[int]:
    """Exact ``Σ_i |encoded[i, j]|`` per column, without int64 overflow (entries are below 2^61)."""
    magnitudes = np.abs(encoded)
    high = (magnitudes >> 31).sum(axis=0).tolist()
    low = (magnitudes & ((1 << 31) - 1)).sum(axis=0).tolist()
    return [(int(h) << 31) + int(lo) for h, lo in zip(high, low, strict=True)]


def _checked(public_key: PublicKey, bound: int, operation: str) -> int:
    if bound > public_key.max_plaintext:
        raise ComponentParameterError(
            f"homomorphic {operation}: results could need {bound.bit_length() + 1} bits, more than a "
            f"{public_key.key_length}-bit key holds",
            hint="set a longer encrypt_param.key_length, or scale the features so magnitudes stay small",
            field="encrypt_param.key_length",
        )
    return bound


def encrypt_vector(public_key: PublicKey, values: object) -> EncryptedVector:
    array = as_float_vector(values, "encrypt")
    exponent = vector_exponent(array)
    plaintexts = to_integers(array, exponent)
    bound = _checked(public_key, max((abs(m) for m in plaintexts), default=0), "encryption")
    return EncryptedVector(public_key, batch.encrypt(public_key, plaintexts), exponent, bound)


def decrypt_vector(private_key: PrivateKey, vector: EncryptedVector) -> np.ndarray:
    public_key = private_key.public_key
    if vector.public_key != public_key:
        raise DataMismatchError(
            "cannot decrypt: the vector was encrypted under a different public key",
            hint="decrypt with the private key generated together with the encrypting public key",
        )
    n, half = public_key.n, public_key.max_plaintext
    residues = batch.decrypt(private_key, vector.ciphertexts)
    signed = [int(m) - n if m > half else int(m) for m in residues]
    return to_floats(signed, vector.exponent)
