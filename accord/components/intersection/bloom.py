"""A Bloom filter of hashed ids: FATE's intersection preprocessing (``run_preprocess``).

The filter owner puts ``H(id + salt)`` of each of its ids into a filter sized for its id count and
``false_positive_rate`` and sends the filter to its peers; a peer keeps only the ids the filter may
hold before the intersection protocol runs. A Bloom filter has no false negatives, so the
intersection is the same as without preprocessing: what changes is how many ids the protocol
encrypts and sends. The peer learns at most which of its ids the owner probably holds, as in FATE.

Positions are ``(a + i*b) mod m`` for ``i < k`` (double hashing), ``a`` and ``b`` the two halves of
the first 16 bytes of ``H(seed + digest)``; the seed comes from ``random_state`` so that both sides
compute the same positions.
"""

from __future__ import annotations

import hashlib
import math
import struct
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from accord.errors import TransferError

# A filter bigger than this (about 1.2e9 ids at 1e-3) is refused rather than allocated.
MAX_BITS = 1 << 34
_HEADER = struct.Struct(">QHQ")


def size_for(count: int, false_positive_rate: float) -> tuple[int, int]:
    """``(bits, hashes)`` of the smallest filter holding ``count`` ids at ``false_positive_rate``."""
    count = max(count, 1)
    bits = math.ceil(-count * math.log(false_positive_rate) / (math.log(2) ** 2))
    hashes = max(1, round(bits / count * math.log(2)))
    return max(bits, 8), hashes


@dataclass
class BloomFilter:
    bits: int
    hashes: int
    seed: int
    array: np.ndarray  # uint8, one byte per 8 bits

    @classmethod
    def empty(cls, bits: int, hashes: int, seed: int) -> BloomFilter:
        return cls(bits, hashes, seed, np.zeros((bits + 7) // 8, dtype=np.uint8))

    def _positions(self, digests: Sequence[bytes]) -> np.ndarray:
        """Every digest's ``hashes`` bit positions, one row per digest."""
        prefix = self.seed.to_bytes(8, "big")
        pairs = np.array(
            [struct.unpack(">QQ", hashlib.sha256(prefix + value).digest()[:16]) for value in digests],
            dtype=np.uint64,
        ).reshape(-1, 2)
        steps = np.arange(self.hashes, dtype=np.uint64)
        # uint64 arithmetic wraps, which keeps the positions spread as the modulus needs.
        return (pairs[:, :1] + steps[None, :] * pairs[:, 1:2]) % np.uint64(self.bits)

    def add(self, digests: Sequence[bytes]) -> None:
        if not digests:
            return
        positions = self._positions(digests).ravel()
        np.bitwise_or.at(self.array, (positions >> np.uint64(3)).astype(np.int64), _masks(positions))

    def may_hold(self, digests: Sequence[bytes]) -> np.ndarray:
        """A boolean per digest: False means the owner surely does not hold it."""
        if not digests:
            return np.zeros(0, dtype=bool)
        positions = self._positions(digests)
        set_bits = self.array[(positions >> np.uint64(3)).astype(np.int64)] & _masks(positions)
        held: np.ndarray = np.all(set_bits != 0, axis=1)
        return held

    def union(self, other: BloomFilter) -> BloomFilter:
        if (self.bits, self.hashes, self.seed) != (other.bits, other.hashes, other.seed):
            raise ValueError("only filters of one size and seed can be joined")
        return BloomFilter(self.bits, self.hashes, self.seed, self.array | other.array)

    def to_bytes(self) -> bytes:
        return _HEADER.pack(self.bits, self.hashes, self.seed) + self.array.tobytes()

    @classmethod
    def from_bytes(cls, data: object) -> BloomFilter:
        if not isinstance(data, bytes) or len(data) < _HEADER.size:
            raise TransferError("the peer sent a Bloom filter that is not bytes with a header")
        bits, hashes, seed = _HEADER.unpack_from(data)
        body = np.frombuffer(data, dtype=np.uint8, offset=_HEADER.size)
        if not 8 <= bits <= MAX_BITS or not 1 <= hashes <= 64 or len(body) != (bits + 7) // 8:
            raise TransferError(
                f"the peer sent a Bloom filter of {bits} bits and {hashes} hashes in {len(body)} bytes, "
                "which do not fit together"
            )
        return cls(bits, hashes, seed, body.copy())


def _masks(positions: np.ndarray) -> np.ndarray:
    return np.left_shift(np.uint8(1), (positions & np.uint64(7)).astype(np.uint8))
