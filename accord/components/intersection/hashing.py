"""How ids become hash values, and how a set of digests travels between parties.

As in FATE, the salt is appended to the text before hashing (``str(value) + salt``). Digest sets are sent
as one sorted, fixed-width byte string, so the receiver learns nothing from their order.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterable, Sequence

from accord.errors import TransferError


def digest(method: str, text: str) -> bytes:
    return hashlib.new(method, text.encode("utf-8")).digest()


def digest_size(method: str) -> int:
    return hashlib.new(method).digest_size


def id_numbers(ids: Sequence[str], method: str, salt: str) -> list[int]:
    """``H(id + salt)`` as a big-endian integer (FATE's ``int(hexdigest, 16)``)."""
    return [int.from_bytes(digest(method, sid + salt), "big") for sid in ids]


def signature_digests(signatures: Sequence[int], method: str, salt: str) -> list[bytes]:
    """The final hash of each signature, which is what the parties compare."""
    return [digest(method, str(signature) + salt) for signature in signatures]


def raw_keys(ids: Sequence[str], *, use_hash: bool, method: str, salt: str, as_base64: bool) -> list[str]:
    """What the raw protocol sends for each id: the id itself, or its salted hash (hex or base64)."""
    if not use_hash or method == "none":
        return list(ids)
    if as_base64:
        return [base64.b64encode(digest(method, sid + salt)).decode("ascii") for sid in ids]
    return [hashlib.new(method, (sid + salt).encode("utf-8")).hexdigest() for sid in ids]


def pack(digests: Iterable[bytes]) -> bytes:
    return b"".join(sorted(digests))


def unpack(blob: object, width: int, what: str) -> list[bytes]:
    if not isinstance(blob, bytes) or len(blob) % width:
        raise TransferError(f"the peer sent {what} that is not a list of {width}-byte digests")
    return [blob[start : start + width] for start in range(0, len(blob), width)]
