"""Secure aggregation: the arbiter learns the sum of the clients' vectors and nothing else.

Each client (every guest and host) makes a fresh X25519 key pair per task and sends the public key to
the arbiter, which relays all of them back. Each pair of clients then shares a secret no one else
knows (the arbiter only relayed public keys; it is trusted to relay them faithfully, the usual
honest-but-curious model). From a pair's secret, HKDF-SHA256 derives the pair's key, bound to the job
and component; each aggregation expands it, under that aggregation's tag, into a ChaCha20 key stream:
one 64-bit pad per value.

Values travel as fixed-point integers modulo 2**64: the client with the lower position adds the pad it
shares with each higher one, the higher one subtracts it. Every pad cancels in the arbiter's sum, which
is exact (integer arithmetic), while each single message is uniformly random to whoever lacks the pair
secrets.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms
from cryptography.hazmat.primitives.kdf.hkdf import HKDF, HKDFExpand
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from accord.components.sdk import Transfer
from accord.errors import DataFormatError, DataMismatchError
from accord.identity import Party

# Bits after the binary point of a fixed-point value: a resolution of 2**-40 (about 1e-12), for
# magnitudes below 2**22 (about 4e6), leaving headroom in the signed 64-bit range.
FRACTION_BITS = 40
_LIMIT_BITS = 62
_KEY_BYTES = 32
_ZERO_NONCE = bytes(16)
CLIENT_ROLES = ("guest", "host")


def clients_of(roles: Mapping[str, Sequence[int]]) -> list[Party]:
    """The clients in their agreed order: guests, then hosts, each in conf order."""
    return [Party(role=role, party_id=party_id) for role in CLIENT_ROLES for party_id in roles.get(role, ())]


# ---- fixed point --------------------------------------------------------------------------------


def encode(values: np.ndarray, fraction_bits: int = FRACTION_BITS) -> np.ndarray:
    """``values`` as integers modulo 2**64 (two's complement of round(value·2**fraction_bits))."""
    floats = np.asarray(values, dtype=np.float64)
    scaled = np.round(floats * float(2**fraction_bits))
    if not np.all(np.isfinite(scaled)) or np.any(np.abs(scaled) >= float(2**_LIMIT_BITS)):
        raise DataFormatError(
            f"a value to aggregate is not finite or exceeds ±{2.0 ** (_LIMIT_BITS - fraction_bits):g}, "
            "which secure aggregation cannot carry",
            hint="lower learning_rate or add a penalty so that the weights stay bounded",
        )
    return scaled.astype(np.int64).view(np.uint64)


def decode(total: np.ndarray, fraction_bits: int = FRACTION_BITS) -> np.ndarray:
    signed = np.asarray(total, dtype=np.uint64).view(np.int64)
    result: np.ndarray = signed.astype(np.float64) / float(2**fraction_bits)
    return result


# ---- keys and pads ------------------------------------------------------------------------------


def new_private_key() -> X25519PrivateKey:
    return X25519PrivateKey.generate()


def public_bytes(key: X25519PrivateKey) -> bytes:
    return key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


def _party_label(party: Party) -> bytes:
    return f"{party.role}:{party.party_id}".encode()


def pair_keys(
    private_key: X25519PrivateKey,
    public_keys: Sequence[bytes],
    clients: Sequence[Party],
    position: int,
    context: bytes,
) -> dict[int, bytes]:
    """The key this client shares with each other client, by position, bound to ``context``."""
    keys: dict[int, bytes] = {}
    for other, public in enumerate(public_keys):
        if other == position:
            continue
        secret = private_key.exchange(X25519PublicKey.from_public_bytes(public))
        low, high = sorted((position, other))
        info = b"|".join(
            [b"accord.homo_lr.secagg.v1", context, _party_label(clients[low]), _party_label(clients[high])]
        )
        keys[other] = HKDF(algorithm=hashes.SHA256(), length=_KEY_BYTES, salt=None, info=info).derive(secret)
    return keys


def pad(pair_key: bytes, tag: str, size: int) -> np.ndarray:
    """``size`` pseudo-random 64-bit words for one aggregation, from a pair's key and the tag."""
    round_key = HKDFExpand(algorithm=hashes.SHA256(), length=_KEY_BYTES, info=tag.encode()).derive(pair_key)
    encryptor = Cipher(algorithms.ChaCha20(round_key, _ZERO_NONCE), mode=None).encryptor()
    stream = encryptor.update(bytes(8 * size)) + encryptor.finalize()
    return np.frombuffer(stream, dtype="<u8").astype(np.uint64)


def mask(encoded: np.ndarray, position: int, keys: dict[int, bytes], tag: str) -> np.ndarray:
    """``encoded`` plus the pads shared with higher positions, minus those shared with lower ones."""
    masked = np.array(encoded, dtype=np.uint64, copy=True)
    for other, key in keys.items():
        words = pad(key, tag, masked.size)
        masked = masked + words if position < other else masked - words
    return masked


def modular_sum(vectors: Sequence[np.ndarray]) -> np.ndarray:
    total = np.zeros_like(np.asarray(vectors[0], dtype=np.uint64))
    for vector in vectors:
        total = total + np.asarray(vector, dtype=np.uint64)
    return total


# ---- the two sides over a task's transfer -------------------------------------------------------


def _tag(kind: str, name: str) -> str:
    return f"secagg.{kind}.{name}"


def masked_tag(name: str) -> str:
    """The transfer tag under which each client sends its masked vector for aggregation ``name``."""
    return _tag("masked", name)


@dataclass(frozen=True)
class ClientKeys:
    clients: tuple[Party, ...]
    position: int
    keys: dict[int, bytes]


class AggregationClient:
    """A guest's or host's end: agree the pair keys, then send masked vectors and get results back."""

    def __init__(self, transfer: Transfer, clients: Sequence[Party], context: bytes) -> None:
        self.transfer = transfer
        self.clients = tuple(clients)
        self.position = self.clients.index(transfer.party)
        self.context = context
        self._keys: dict[int, bytes] | None = None

    def setup(self, info: dict[str, Any]) -> dict[str, Any]:
        """Send our public key and ``info`` to the arbiter; its reply, after deriving the pair keys."""
        private_key = new_private_key()
        mine = public_bytes(private_key)
        self.transfer.remote({"public_key": mine, **info}, role="arbiter", tag=_tag("setup", "up"), index=0)
        reply: dict[str, Any] = self.transfer.get(role="arbiter", tag=_tag("setup", "down"), index=0)
        if reply.get("problem"):
            return reply
        public_keys = [bytes(key) for key in reply["public_keys"]]
        if len(public_keys) != len(self.clients) or public_keys[self.position] != mine:
            raise DataMismatchError(
                f"the arbiter relayed {len(public_keys)} public keys that do not match this party's",
                hint="all parties must run the same job conf",
            )
        self._keys = pair_keys(private_key, public_keys, self.clients, self.position, self.context)
        return reply

    @property
    def keys(self) -> ClientKeys:
        if self._keys is None:
            raise RuntimeError("setup() has not run")
        return ClientKeys(self.clients, self.position, self._keys)

    def send(self, values: np.ndarray, name: str, fraction_bits: int = FRACTION_BITS) -> None:
        masked = mask(encode(values, fraction_bits), self.position, self.keys.keys, masked_tag(name))
        self.transfer.remote(masked, role="arbiter", tag=masked_tag(name), index=0)

    def receive(self, name: str) -> Any:
        return self.transfer.get(role="arbiter", tag=_tag("result", name), index=0)


class AggregationServer:
    """The arbiter's end: relay public keys, sum masked vectors, send results back."""

    def __init__(self, transfer: Transfer, clients: Sequence[Party]) -> None:
        self.transfer = transfer
        self.clients = tuple(clients)
        self._roles = [role for role in CLIENT_ROLES if any(c.role == role for c in self.clients)]

    def _collect(self, tag: str) -> list[Any]:
        values: list[Any] = []
        for role in self._roles:
            values.extend(self.transfer.get(role=role, tag=tag))
        return values

    def _broadcast(self, value: Any, tag: str) -> None:
        for role in self._roles:
            self.transfer.remote(value, role=role, tag=tag)

    def collect_setup(self) -> list[dict[str, Any]]:
        return self._collect(_tag("setup", "up"))

    def answer_setup(self, setups: Sequence[dict[str, Any]], reply: dict[str, Any]) -> None:
        public_keys = [bytes(setup["public_key"]) for setup in setups]
        self._broadcast({**reply, "public_keys": public_keys}, _tag("setup", "down"))

    def collect_sum(self, name: str, fraction_bits: int = FRACTION_BITS) -> np.ndarray:
        """The decoded sum of every client's vector for aggregation ``name``."""
        vectors = self._collect(masked_tag(name))
        sizes = {np.asarray(vector).size for vector in vectors}
        if len(sizes) != 1:
            raise DataMismatchError(
                f"the clients sent vectors of different lengths {sorted(sizes)} for {name}",
                hint="every guest and host must have the same features",
            )
        return decode(modular_sum(vectors), fraction_bits)

    def send_result(self, value: Any, name: str) -> None:
        self._broadcast(value, _tag("result", name))


def job_context(job_id: str, component: str, task_version: int) -> bytes:
    return hashlib.sha256(f"{job_id}/{component}/{task_version}".encode()).digest()
