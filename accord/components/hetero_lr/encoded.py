"""Encrypted arithmetic split over partitions that adds up to exactly what the whole batch gives.

``X^T·[[d]]`` over a batch is the product of each partition's ``X_p^T·[[d_p]]``: Paillier adds
exactly, so only the fixed-point encoding of ``X`` could make the split differ. Each column's
encoding is set by its largest (and smallest non-zero) magnitude, so a partition encodes with the
whole batch's column magnitudes (:func:`column_stats`, merged over partitions first) and every
entry rounds as in the whole-batch encoding (see :func:`accord.crypto.fixedpoint.column_encoding`,
whose rule this follows). A partition may strip more common trailing zero bits than the whole
batch would; that only lowers its exponent, and adding the partials raises it back exactly.

Partials travel as packed sections (:func:`pack` / :func:`unpack`): named numpy arrays and byte
strings (an :meth:`EncryptedVector.to_bytes`), never pickle.
"""

from __future__ import annotations

import json
import math
import struct
from collections.abc import Mapping, Sequence

import numpy as np

from accord.crypto import batch
from accord.crypto._gmp import powmod
from accord.crypto.fixedpoint import COLUMN_BASE_BITS, COLUMN_MAX_BITS
from accord.crypto.paillier import PublicKey
from accord.crypto.vector import EncryptedVector, _checked, _column_abs_sums
from accord.errors import DataFormatError

Stats = tuple[np.ndarray, np.ndarray]
_MAGIC = b"HLR1"
_LENGTH = struct.Struct(">I")


def column_stats(matrix: np.ndarray) -> Stats:
    """Per column: the largest magnitude (0 for an all-zero column) and the smallest non-zero one."""
    magnitudes = np.abs(np.asarray(matrix, dtype=np.float64))
    largest = magnitudes.max(axis=0, initial=0.0)
    smallest = np.where(magnitudes > 0, magnitudes, np.inf).min(axis=0, initial=np.inf)
    return largest, smallest


def merge_stats(left: Stats | None, right: Stats | None) -> Stats | None:
    if left is None or right is None:
        return right if left is None else left
    return np.maximum(left[0], right[0]), np.minimum(left[1], right[1])


def encode_columns(
    matrix: np.ndarray, stats: Stats, precision_bits: int | None
) -> tuple[np.ndarray, list[int | None]]:
    """``column_encoding`` of these rows at the whole batch's column magnitudes ``stats``."""
    rows, columns = matrix.shape
    encoded = np.zeros((rows, columns), dtype=np.int64)
    exponents: list[int | None] = []
    largest, smallest = stats
    for j in range(columns):
        top = float(largest[j])
        if top == 0.0 or rows == 0:
            exponents.append(None)
            continue
        if precision_bits is None:
            bits = min(COLUMN_MAX_BITS, COLUMN_BASE_BITS + math.ceil(math.log2(top / float(smallest[j]))))
        else:
            bits = precision_bits
        exponent = bits - math.frexp(top)[1]
        scaled = np.rint(np.ldexp(matrix[:, j], exponent)).astype(np.int64)
        nonzero = scaled[scaled != 0]
        if nonzero.size == 0:
            # This partition's entries of the column are all zero: it adds nothing to the column.
            exponents.append(None)
            continue
        zeros = int(np.log2((nonzero & -nonzero).min().astype(np.float64)))
        encoded[:, j] = scaled >> zeros
        exponents.append(exponent - zeros)
    return encoded, exponents


def dot(
    vector: EncryptedVector, matrix: np.ndarray, stats: Stats, precision_bits: int | None
) -> EncryptedVector:
    """``[[matrix^T · vector]]`` for this partition's rows, as :meth:`EncryptedVector.dot` computes it."""
    public_key = vector.public_key
    encoded, column_exponents = encode_columns(matrix, stats, precision_bits)
    products = batch.products(public_key, vector.ciphertexts, encoded)
    target = max((e for e in column_exponents if e is not None), default=0)
    nsquare = public_key.nsquare
    aligned: list[int] = []
    bound = 0
    for product, column_exponent, magnitude in zip(
        products, column_exponents, _column_abs_sums(encoded), strict=True
    ):
        shift = 0 if column_exponent is None else target - column_exponent
        bound = max(bound, (vector.bound * magnitude) << shift)
        aligned.append(powmod(product, 1 << shift, nsquare) if shift else product)
    bound = _checked(public_key, bound, "dot")
    return EncryptedVector(public_key, aligned, vector.exponent + target, bound)


def total(parts: Sequence[bytes], public_key: PublicKey) -> EncryptedVector:
    """The sum of partitions' partial vectors (each :meth:`EncryptedVector.to_bytes`)."""
    vectors = [EncryptedVector.from_bytes(part, public_key) for part in parts]
    if not vectors:
        raise DataFormatError("no partition sent a partial result", hint="the table has no partitions")
    summed = vectors[0]
    for vector in vectors[1:]:
        summed = summed + vector
    return summed


# ---- packed sections ----------------------------------------------------------------------


def pack(sections: Mapping[str, np.ndarray | bytes]) -> bytes:
    """Named arrays (numeric dtypes) and byte strings as one blob: a JSON header, then the buffers."""
    header: dict[str, list[object]] = {}
    buffers: list[bytes] = []
    for name, value in sections.items():
        if isinstance(value, bytes):
            header[name] = ["b", len(value)]
            buffers.append(value)
        else:
            array = np.ascontiguousarray(value)
            data = array.tobytes()
            header[name] = [array.dtype.str, list(array.shape), len(data)]
            buffers.append(data)
    text = json.dumps(header).encode()
    return _MAGIC + _LENGTH.pack(len(text)) + text + b"".join(buffers)


def unpack(blob: bytes) -> dict[str, np.ndarray | bytes]:
    if blob[:4] != _MAGIC:
        raise DataFormatError(
            "a HeteroLR partition blob has an unknown layout",
            hint="every party must run the same accord version",
        )
    (length,) = _LENGTH.unpack_from(blob, 4)
    start = 8 + length
    header = json.loads(blob[8:start])
    view = memoryview(blob)
    sections: dict[str, np.ndarray | bytes] = {}
    for name, spec in header.items():
        if spec[0] == "b":
            size = int(spec[1])
            sections[name] = bytes(view[start : start + size])
        else:
            dtype, shape, size = np.dtype(spec[0]), tuple(spec[1]), int(spec[2])
            if dtype.kind not in "biuf":
                raise DataFormatError(f"a HeteroLR partition blob holds a {dtype} array")
            sections[name] = np.frombuffer(view[start : start + size], dtype=dtype).reshape(shape)
        start += size
    return sections


def array(sections: Mapping[str, np.ndarray | bytes], name: str) -> np.ndarray:
    value = sections[name]
    if isinstance(value, bytes):
        raise DataFormatError(f"a HeteroLR partition blob's {name!r} is bytes, not numbers")
    return value


def data(sections: Mapping[str, np.ndarray | bytes], name: str) -> bytes:
    value = sections[name]
    if not isinstance(value, bytes):
        raise DataFormatError(f"a HeteroLR partition blob's {name!r} is numbers, not bytes")
    return value
