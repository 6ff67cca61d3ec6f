"""Fixed-point additive secret shares between guest and host, and their products under Paillier.

A real ``x`` is the ring element ``round(x·2^F) mod 2^K`` (F = :data:`FRACTION_BITS`, K =
:data:`RING_BITS`); a shared value is a pair of ring elements, one per party, that add up to it mod
2^K. Each party's share alone is uniformly random (the masks below are drawn over the whole ring, or
statistically far wider than the values they hide).

The one cryptographic step is FATE's HE-based share multiplication: the party holding a share ``s``
encrypts it under its own Paillier key and sends it; the party holding a plaintext integer matrix
``A`` computes ``[[A·s + r]]`` with a fresh random ``r`` far wider than ``A·s``, re-randomizes the
ciphertexts (they would otherwise reveal ``A`` to the key holder, who knows the encryption
randomness) and sends them back; the key holder decrypts ``A·s + r`` and keeps it mod 2^K as its
share, the matrix holder keeps ``-r``. Neither learns anything of the other's input.

A product of two fixed-point values has 2F fraction bits; :meth:`ShareSession.truncate` drops F of
them locally (SecureML's two-party truncation: exact up to one unit in the last place, except with
probability about 2^(bits of the value + 1 - K)). The shares are first re-randomized with a zero
sharing from a seed the parties agree on, so a share that is really one party's own value (a
revealed weight, a local partial score) truncates correctly too.
"""

from __future__ import annotations

import random
import secrets
from typing import Any

import numpy as np

from accord.components.sdk import ComponentContext
from accord.crypto import batch
from accord.crypto._gmp import powmod
from accord.crypto.fixedpoint import to_integers
from accord.crypto.keys import PrivateKey, PublicKey, encrypt_integers, generate_keypair, rerandomize
from accord.errors import DataFormatError

FRACTION_BITS = 32
RING_BITS = 160
RING = 1 << RING_BITS
_HALF = RING >> 1
# Bits by which a mask outweighs the value it hides (statistical hiding of 2^-40).
MASK_SLACK_BITS = 40
# Plaintext exponents of the multi-exponentiation are signed 61-bit integers.
_MAX_ENCODED_BITS = 60

Ring = np.ndarray  # one-dimensional, dtype object, Python ints in [0, RING)


def encode(values: np.ndarray | float, scale: int = FRACTION_BITS) -> Ring:
    """Reals as ring elements with ``scale`` fraction bits."""
    array = np.atleast_1d(np.asarray(values, dtype=np.float64))
    return np.array([v % RING for v in to_integers(array, scale)] or [], dtype=object)


def decode(share: Ring, scale: int = FRACTION_BITS) -> np.ndarray:
    """A reconstructed ring vector as reals (elements above half the ring are negative)."""
    signed = [(int(v) - RING if int(v) >= _HALF else int(v)) for v in share]
    return np.array([v / (1 << scale) for v in signed], dtype=np.float64)


def zeros(length: int) -> Ring:
    return np.array([0] * length, dtype=object)


def plain_matrix(matrix: np.ndarray, scale: int = FRACTION_BITS) -> np.ndarray:
    """A real matrix as signed int64 fixed point, the exponents of the HE products."""
    values = np.asarray(matrix, dtype=np.float64)
    largest = float(np.max(np.abs(values))) if values.size else 0.0
    if largest and np.log2(largest) + scale >= _MAX_ENCODED_BITS:
        raise DataFormatError(
            f"a feature value of magnitude {largest:.3g} is too large for the fixed-point shares",
            hint="scale the features first (FeatureScale) so that every value is below 2^27",
        )
    encoded: np.ndarray = np.rint(np.ldexp(values, scale)).astype(np.int64)
    return encoded


def random_ring(length: int) -> Ring:
    """Uniformly random ring elements (the masks that turn a value into two shares)."""
    return np.array([secrets.randbits(RING_BITS) for _ in range(length)], dtype=object)


def matmul(matrix: np.ndarray, share: Ring) -> Ring:
    """``matrix · share`` mod 2^K for an int64 ``matrix`` (rows by len(share))."""
    if matrix.shape[0] == 0:
        return zeros(0)
    if matrix.shape[1] == 0:
        return zeros(matrix.shape[0])
    product: Ring = np.asarray(matrix.astype(object) @ share, dtype=object) % RING
    return product


def _signed(residue: int, n: int) -> int:
    return residue - n if residue > n // 2 else residue


class ShareSession:
    """One party's end of the two-party share arithmetic of a training (or predict) run.

    Every exchange is tagged with a running step number: guest and host make the same calls in
    the same order, so their tags match without being spelled out.
    """

    def __init__(self, ctx: ComponentContext[Any], key_length: int, prefix: str = "sshe") -> None:
        self.ctx = ctx
        self.prefix = prefix
        self.party = 0 if ctx.role == "guest" else 1
        self.peer = "host" if ctx.role == "guest" else "guest"
        self._step = 0
        self.public_key, self.private_key = generate_keypair(key_length)
        self.send(self.public_key.to_dict(), "public_key")
        self.peer_key = PublicKey.from_dict(self.receive("public_key"))
        # The seed of the zero sharings that re-randomize shares before truncation (drawn by the guest).
        if self.party == 0:
            seed = secrets.randbits(128)
            self.send(seed, "zero_seed")
            self.next_step()
        else:
            seed = int(self.receive("zero_seed"))
        self._zeros = random.Random(seed)

    # ---- transport --------------------------------------------------------------------------------

    def _tag(self, name: str) -> str:
        return f"{self.prefix}.{self._step}.{name}"

    def send(self, value: Any, name: str) -> None:
        self.ctx.transfer.remote(value, role=self.peer, tag=self._tag(name), index=0)

    def receive(self, name: str) -> Any:
        value = self.ctx.transfer.get(role=self.peer, tag=self._tag(name), index=0)
        self._step += 1
        return value

    def next_step(self) -> None:
        self._step += 1

    # ---- the HE share product -------------------------------------------------------------------

    def products(self, matrix: np.ndarray | None, vector: Ring | None) -> tuple[Ring | None, Ring | None]:
        """Both directions of the share product at once.

        ``matrix`` (int64, out by in): multiply the peer's share by it; ``vector``: my share for the
        peer's matrix. Returns (my share of ``matrix · peer's vector``, my share of ``peer's matrix
        · vector``), None where that direction is not asked.
        """
        tag = self._tag("product")
        if vector is not None:
            encrypted = encrypt_integers(self.public_key, [int(v) for v in vector])
            self.ctx.transfer.remote([int(c) for c in encrypted], role=self.peer, tag=f"{tag}.in", index=0)
        held: Ring | None = None
        if matrix is not None:
            ciphertexts = self.ctx.transfer.get(role=self.peer, tag=f"{tag}.in", index=0)
            held, masked = self._multiply(matrix, [int(c) for c in ciphertexts])
            self.ctx.transfer.remote(masked, role=self.peer, tag=f"{tag}.out", index=0)
        mine: Ring | None = None
        if vector is not None:
            returned = self.ctx.transfer.get(role=self.peer, tag=f"{tag}.out", index=0)
            mine = self._decrypted([int(c) for c in returned])
        self._step += 1
        return held, mine

    def _multiply(self, matrix: np.ndarray, ciphertexts: list[int]) -> tuple[Ring, list[int]]:
        key = self.peer_key
        if matrix.shape[1] != len(ciphertexts):
            raise DataFormatError(
                f"share product: {len(ciphertexts)} encrypted values for a matrix of "
                f"{matrix.shape[1]} columns",
                hint="guest and host must train on the same rows (the output of one Intersection)",
            )
        exponents = np.ascontiguousarray(matrix.T, dtype=np.int64)
        products = batch.products(key, ciphertexts, exponents)
        largest = int(np.max(np.abs(matrix))) if matrix.size else 0
        bits = RING_BITS + largest.bit_length() + max(1, matrix.shape[1]).bit_length() + MASK_SLACK_BITS
        masks = [secrets.randbits(bits) for _ in products]
        n, nsquare = key.n, key.nsquare
        shifted = [c * (1 + r * n) % nsquare for c, r in zip(products, masks, strict=True)]
        masked = [int(c) for c in rerandomize(key, shifted)]
        return np.array([(-r) % RING for r in masks], dtype=object), masked

    def _decrypted(self, ciphertexts: list[int]) -> Ring:
        n = self.public_key.n
        residues = self.private_key.decrypt_residues(ciphertexts)
        return np.array([_signed(int(m), n) % RING for m in residues], dtype=object)

    def weighted(self, share: Ring, factors: np.ndarray | None) -> Ring:
        """``factors ⊙ value`` for a shared value and real factors only the guest knows (sample weights).

        The host's share crosses encrypted under its key; the guest raises each ciphertext to its factor,
        masks and re-randomizes it as in :meth:`products`. Truncated back to F fraction bits.
        """
        tag = self._tag("weighted")
        if factors is None:
            encrypted = encrypt_integers(self.public_key, [int(v) for v in share])
            self.ctx.transfer.remote([int(c) for c in encrypted], role=self.peer, tag=f"{tag}.in", index=0)
            returned = self.ctx.transfer.get(role=self.peer, tag=f"{tag}.out", index=0)
            product = self._decrypted([int(c) for c in returned])
        else:
            encoded = [int(v) for v in plain_matrix(factors.reshape(-1, 1))[:, 0]]
            ciphertexts = [int(c) for c in self.ctx.transfer.get(role=self.peer, tag=f"{tag}.in", index=0)]
            key = self.peer_key
            n, nsquare = key.n, key.nsquare
            bits = RING_BITS + max((abs(f) for f in encoded), default=0).bit_length() + MASK_SLACK_BITS
            masks = [secrets.randbits(bits) for _ in encoded]
            raised = [
                powmod(c, f, nsquare) * (1 + r * n) % nsquare
                for c, f, r in zip(ciphertexts, encoded, masks, strict=True)
            ]
            self.ctx.transfer.remote(
                [int(c) for c in rerandomize(key, raised)], role=self.peer, tag=f"{tag}.out", index=0
            )
            local = np.array([int(v) * f for v, f in zip(share, encoded, strict=True)], dtype=object)
            product = np.array([(v - r) % RING for v, r in zip(local, masks, strict=True)], dtype=object)
        self._step += 1
        return self.truncate(product)

    # ---- local steps ----------------------------------------------------------------------------

    def truncate(self, share: Ring, bits: int = FRACTION_BITS) -> Ring:
        """Divide the shared value by 2^bits (its shares re-randomized first by a zero sharing)."""
        mask = np.array([self._zeros.getrandbits(RING_BITS) for _ in range(len(share))], dtype=object)
        if self.party == 0:
            mixed = (share + mask) % RING
            return np.array([int(v) >> bits for v in mixed], dtype=object)
        mixed = (share - mask) % RING
        return np.array([(-((-int(v) % RING) >> bits)) % RING for v in mixed], dtype=object)

    def scale(self, shares: list[Ring], factors: list[np.ndarray]) -> Ring:
        """``Σ factors_i ⊙ shares_i`` for public real factors (elementwise), truncated back to F bits."""
        total = zeros(len(shares[0]))
        for share, factor in zip(shares, factors, strict=True):
            encoded = encode(np.broadcast_to(factor, (len(share),)))
            total = (total + share * encoded) % RING
        return self.truncate(total)

    # ---- revealing ------------------------------------------------------------------------------

    def reveal(self, share: Ring, owner: str) -> Ring | None:
        """The shared value to ``owner`` (the other party sends its share and learns nothing)."""
        if self.ctx.role == owner:
            other = np.array([int(v) for v in self.receive("reveal")], dtype=object)
            combined: Ring = (share + other) % RING
            return combined
        self.send([int(v) for v in share], "reveal")
        self.next_step()
        return None

    def reveal_sum_to_guest(self, local: int, weights: Ring) -> int | None:
        """``Σ_i guest_weights_i · host_values_i + guest local + host local`` (mod 2^K) to the guest.

        The guest gives ``weights`` (ring elements), the host its ``values`` in the same argument;
        each adds its own ``local`` term. The host's values travel encrypted under its key; the sum
        comes back to it masked, and what it returns is masked by the guest's random.
        """
        tag = self._tag("sum")
        if self.party == 1:
            encrypted = encrypt_integers(self.public_key, [int(v) for v in weights])
            self.ctx.transfer.remote([int(c) for c in encrypted], role="guest", tag=f"{tag}.in", index=0)
            masked = int(self.ctx.transfer.get(role="guest", tag=f"{tag}.out", index=0))
            value = self._decrypted([masked])[0]
            self.ctx.transfer.remote(int((value + local) % RING), role="guest", tag=f"{tag}.back", index=0)
            self._step += 1
            return None
        key = self.peer_key
        ciphertexts = [int(c) for c in self.ctx.transfer.get(role="host", tag=f"{tag}.in", index=0)]
        nsquare = key.nsquare
        total = 1
        for c, w in zip(ciphertexts, weights, strict=True):
            if int(w):
                total = total * powmod(c, int(w), nsquare) % nsquare
        r = secrets.randbits(2 * RING_BITS + max(1, len(ciphertexts)).bit_length() + MASK_SLACK_BITS)
        masked = int(rerandomize(key, [total * (1 + r * key.n) % nsquare])[0])
        self.ctx.transfer.remote(masked, role="host", tag=f"{tag}.out", index=0)
        back = int(self.ctx.transfer.get(role="host", tag=f"{tag}.back", index=0))
        self._step += 1
        return (back + local - r) % RING


def private_key_dict(key: PrivateKey) -> dict[str, str]:
    return {"p": format(int(key.p), "x"), "q": format(int(key.q), "x"), "n": format(key.public_key.n, "x")}


def private_key_of(data: dict[str, str]) -> PrivateKey:
    public = PublicKey(int(data["n"], 16))
    return PrivateKey(int(data["p"], 16), int(data["q"], 16), public)


def signed(value: int) -> int:
    return value - RING if value >= _HALF else value
