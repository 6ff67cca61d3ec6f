"""Fixed-point packing of each row's gradients and hessians into Paillier plaintexts.

Every value is shifted by its column's minimum (so sums stay non-negative) and scaled to an integer
of about 53 significant bits; a slot is wide enough for the sum over every row. With cipher_compress
several slots share one ciphertext (FATE 1.11 packs g and h into one), and the host packs several
histogram bins into one ciphertext before sending, so the guest decrypts fewer.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

# Bits kept of each value's spread: sums stay exact to about 1e-9 of the largest gradient.
_SIGNIFICANT_BITS = 32


@dataclass(frozen=True)
class Packing:
    offsets: list[float]
    precision: int  # fractional bits of every encoded value
    slot_bits: int
    per_ct: int  # values per row ciphertext
    width: int  # ciphertexts per row
    bins_per_ct: int  # histogram cells packed into one ciphertext before sending

    @property
    def values(self) -> int:
        return len(self.offsets)

    @classmethod
    def plan(cls, values: np.ndarray, key_bits: int, compress: bool, decimals: int | None = None) -> Packing:
        """The layout for ``values`` (rows, m) under a key of ``key_bits`` bits; ``decimals`` (FATE's
        cipher_compress_error) keeps that many decimal digits of each value instead of 32 bits."""
        rows, m = values.shape
        offsets = values.min(axis=0) if rows else np.zeros(m)
        spread = float((values - offsets).max()) if rows else 0.0
        whole_bits = max(0, math.ceil(math.log2(spread + 1.0)))
        if decimals is None:
            precision = _SIGNIFICANT_BITS - whole_bits
        else:
            precision = math.ceil(decimals * math.log2(10))
        significant = whole_bits + precision
        slot_bits = significant + max(1, rows).bit_length() + 2
        usable = key_bits - 2
        per_ct = max(1, min(m, usable // slot_bits)) if compress else 1
        width = -(-m // per_ct)
        bins_per_ct = max(1, usable // (per_ct * slot_bits)) if compress else 1
        return cls([float(o) for o in offsets], precision, slot_bits, per_ct, width, bins_per_ct)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Packing:
        return cls(**data)

    def encode(self, values: np.ndarray) -> list[int]:
        """``width`` plaintexts per row, row after row."""
        scaled = np.rint((values - np.asarray(self.offsets)) * 2.0**self.precision)
        ints = np.maximum(scaled, 0).astype(object)
        plains: list[int] = []
        for row in ints:
            for k in range(self.width):
                part = row[k * self.per_ct : (k + 1) * self.per_ct]
                packed = 0
                for value in part:
                    packed = (packed << self.slot_bits) | int(value)
                plains.append(packed)
        return plains

    def decode(self, cells: list[int], counts: np.ndarray) -> np.ndarray:
        """Sums per cell from the ``width`` decrypted plaintexts of each cell; ``counts`` rows per cell.

        Returns (cells, m).
        """
        mask = (1 << self.slot_bits) - 1
        m, out = self.values, np.zeros((len(counts), self.values))
        scale = 2.0**-self.precision
        for cell in range(len(counts)):
            for k in range(self.width):
                plain = int(cells[cell * self.width + k])
                in_ct = min(self.per_ct, m - k * self.per_ct)
                for pos in range(in_ct):
                    value = (plain >> (self.slot_bits * (in_ct - 1 - pos))) & mask
                    out[cell, k * self.per_ct + pos] = value * scale
        shifted: np.ndarray = out + np.asarray(counts, dtype=np.float64).reshape(-1, 1) * np.asarray(
            self.offsets
        )
        return shifted

    @property
    def cell_bits(self) -> int:
        """The bits one cell's ciphertext uses (what compressing shifts by)."""
        return self.per_ct * self.slot_bits
