"""Byte layout of ciphertext lists: between parties and to the process pool.

A ciphertext is a fixed-width big-endian integer of ``ceil(bits(n²) / 8)`` bytes. Converting a
2048-bit ``mpz`` to and from bytes costs about 0.6 µs; pickling it costs about 3 µs, so the pool
moves packed bytes too.

An encrypted vector on the wire is a 19-byte header followed by the packed ciphertexts::

    magic  b"ACPV"   4 bytes
    version          u8   (1)
    width            u32  bytes per ciphertext
    exponent         i32  fixed-point exponent of every element
    count            u32  number of ciphertexts
    bound_bits       u16  every plaintext magnitude is below 2**bound_bits

The public key does not travel with the vector: the receiver supplies the one it expects, and a
width that does not match it is rejected.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from dataclasses import dataclass

from accord.crypto._gmp import mpz_from_bytes
from accord.errors import DataFormatError

MAGIC = b"ACPV"
VERSION = 1
_HEADER = struct.Struct(">4sBIiIH")
HEADER_BYTES = _HEADER.size


def pack_ciphertexts(ciphertexts: Sequence[int], width: int) -> bytes:
    return b"".join([c.to_bytes(width, "big") for c in ciphertexts])


def unpack_ciphertexts(data: bytes | memoryview, width: int) -> list[int]:
    view = memoryview(data)
    return [mpz_from_bytes(view[start : start + width], "big") for start in range(0, len(view), width)]


@dataclass(frozen=True)
class VectorHeader:
    width: int
    exponent: int
    count: int
    bound_bits: int

    def to_bytes(self) -> bytes:
        return _HEADER.pack(MAGIC, VERSION, self.width, self.exponent, self.count, self.bound_bits)


def read_header(data: bytes, expected_width: int) -> VectorHeader:
    """The header of ``data``, checked against the receiver's ciphertext width and the data length."""
    if not isinstance(data, bytes | bytearray | memoryview):
        raise DataFormatError(
            f"encrypted vector: expected bytes, got {type(data).__name__}",
            hint="pass what EncryptedVector.to_bytes() produced",
        )
    if len(data) < HEADER_BYTES:
        raise DataFormatError(
            f"encrypted vector: {len(data)} bytes is shorter than the {HEADER_BYTES}-byte header",
            hint="the value was cut short in transfer; resend it",
        )
    magic, version, width, exponent, count, bound_bits = _HEADER.unpack_from(data)
    if magic != MAGIC or version != VERSION:
        raise DataFormatError(
            f"encrypted vector: unknown format (magic {bytes(magic)!r}, version {version})",
            hint="pass what EncryptedVector.to_bytes() produced, from the same Accord version",
        )
    if width != expected_width:
        raise DataFormatError(
            f"encrypted vector: ciphertexts are {width} bytes wide but this public key's are "
            f"{expected_width}",
            hint="decode with the public key the sender encrypted under",
        )
    body = len(data) - HEADER_BYTES
    if body != count * width:
        raise DataFormatError(
            f"encrypted vector: header announces {count} ciphertexts of {width} bytes "
            f"({count * width} bytes) but {body} bytes follow",
            hint="the value was cut short or padded in transfer; resend it",
        )
    return VectorHeader(width=width, exponent=exponent, count=count, bound_bits=bound_bits)
