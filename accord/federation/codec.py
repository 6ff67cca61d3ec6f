"""How values cross between parties: an explicit, self-describing encoding; never pickle.

A peer's bytes are untrusted, so decoding only ever builds plain data, numpy arrays of numeric dtypes,
integers and Paillier ciphertext vectors; nothing in the bytes can name a class to instantiate.

Layout: ``ACV1`` magic, the length of a JSON header (4 bytes, big-endian), the header, then the binary
buffers back to back. The header is the value's tree in which every bulky leaf is a node
``{"~": kind, ...}`` pointing at a buffer by offset and length:

- ``nd``: a numpy array (dtype, shape) stored C-contiguous;
- ``ints``: a list of arbitrary-size integers stored as fixed-width big-endian magnitudes plus signs;
- ``pv``: a Paillier ciphertext vector with its public key;
- ``b``: raw bytes; ``t``: a tuple (a list node); ``m``: a dict with non-string keys.
"""

from __future__ import annotations

import json
import struct
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from accord.errors import TransferError

_MAGIC = b"ACV1"
_HEADER_LEN = struct.Struct(">I")
_MARK = "~"
# Integers JSON cannot carry exactly through every JSON reader become an ``ints`` buffer.
_JSON_SAFE_INT = 2**53
_NUMERIC_KINDS = frozenset("biufc")


class _Writer:
    def __init__(self) -> None:
        self.buffers: list[bytes] = []
        self.offset = 0

    def add(self, data: bytes) -> dict[str, int]:
        ref = {"o": self.offset, "n": len(data)}
        self.buffers.append(data)
        self.offset += len(data)
        return ref

    def node(self, value: Any) -> Any:
        if value is None or isinstance(value, (bool, str, float)):
            return value
        if isinstance(value, int):
            return value if abs(value) < _JSON_SAFE_INT else self._ints([value], scalar=True)
        if isinstance(value, np.generic):
            return self.node(value.item())
        if isinstance(value, np.ndarray):
            return self._array(value)
        if isinstance(value, (bytes, bytearray, memoryview)):
            return {_MARK: "b", **self.add(bytes(value))}
        if isinstance(value, tuple):
            return {_MARK: "t", "v": [self.node(item) for item in value]}
        if isinstance(value, list):
            if (
                value
                and all(_is_int(item) for item in value)
                and any(abs(int(item)) >= _JSON_SAFE_INT for item in value)
            ):
                return self._ints(value, scalar=False)
            return [self.node(item) for item in value]
        if isinstance(value, Mapping):
            if all(isinstance(key, str) for key in value) and _MARK not in value:
                return {key: self.node(item) for key, item in value.items()}
            return {_MARK: "m", "v": [[self.node(key), self.node(item)] for key, item in value.items()]}
        encrypted = _encrypted_vector_type()
        if encrypted is not None and isinstance(value, encrypted):
            return {_MARK: "pv", "key": value.public_key.to_dict(), **self.add(value.to_bytes())}
        if _is_int(value):
            return self.node(int(value))
        raise TransferError(
            f"cannot send a value of type {type(value).__name__} to another party",
            hint="send plain data, numpy arrays, integers or Paillier vectors",
        )

    def _array(self, array: np.ndarray) -> dict[str, Any]:
        if array.dtype.kind not in _NUMERIC_KINDS:
            if array.dtype.kind in "OUS":
                return {_MARK: "list-array", "v": self.node(array.tolist())}
            raise TransferError(f"cannot send a numpy array of dtype {array.dtype}")
        contiguous = np.ascontiguousarray(array)
        return {
            _MARK: "nd",
            "dtype": contiguous.dtype.str,
            "shape": list(contiguous.shape),
            **self.add(contiguous.tobytes()),
        }

    def _ints(self, values: Sequence[Any], *, scalar: bool) -> dict[str, Any]:
        numbers = [int(value) for value in values]
        width = max(1, max((abs(number).bit_length() + 7) // 8 for number in numbers))
        signs = bytes(1 if number < 0 else 0 for number in numbers)
        magnitudes = b"".join(abs(number).to_bytes(width, "big") for number in numbers)
        return {
            _MARK: "ints",
            "w": width,
            "count": len(numbers),
            "scalar": scalar,
            **self.add(signs + magnitudes),
        }


def _is_int(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return True
    # gmpy2's mpz is an integer without being an int subclass.
    return type(value).__name__ == "mpz"


def _encrypted_vector_type() -> type[Any] | None:
    try:
        from accord.crypto import EncryptedVector
    except ImportError:  # pragma: no cover - the crypto package is part of the install
        return None
    return EncryptedVector


def encode(value: Any) -> bytes:
    writer = _Writer()
    tree = writer.node(value)
    header = json.dumps(tree, separators=(",", ":"), allow_nan=True).encode()
    return b"".join([_MAGIC, _HEADER_LEN.pack(len(header)), header, *writer.buffers])


class _Reader:
    def __init__(self, body: memoryview) -> None:
        self.body = body

    def take(self, node: Mapping[str, Any]) -> memoryview:
        offset, length = node.get("o"), node.get("n")
        if not isinstance(offset, int) or not isinstance(length, int) or offset < 0 or length < 0:
            raise TransferError("a received value has a malformed buffer reference")
        if offset + length > len(self.body):
            raise TransferError("a received value is truncated")
        return self.body[offset : offset + length]

    def value(self, node: Any) -> Any:
        if isinstance(node, list):
            return [self.value(item) for item in node]
        if not isinstance(node, dict):
            return node
        kind = node.get(_MARK)
        if kind is None:
            return {key: self.value(item) for key, item in node.items()}
        if kind == "t":
            return tuple(self.value(item) for item in node["v"])
        if kind == "m":
            return {_hashable(self.value(key)): self.value(item) for key, item in node["v"]}
        if kind == "b":
            return bytes(self.take(node))
        if kind == "nd":
            return self._array(node)
        if kind == "list-array":
            return np.array(self.value(node["v"]), dtype=object)
        if kind == "ints":
            return self._ints(node)
        if kind == "pv":
            return self._encrypted(node)
        raise TransferError(f"a received value has an unknown part {kind!r}")

    def _array(self, node: Mapping[str, Any]) -> np.ndarray:
        dtype = np.dtype(str(node["dtype"]))
        if dtype.kind not in _NUMERIC_KINDS:
            raise TransferError(f"a received array has the non-numeric dtype {dtype}")
        shape = tuple(int(size) for size in node["shape"])
        data = self.take(node)
        expected = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
        if expected != len(data):
            raise TransferError(f"a received array of shape {shape} has {len(data)} bytes, not {expected}")
        return np.frombuffer(data, dtype=dtype).reshape(shape).copy()

    def _ints(self, node: Mapping[str, Any]) -> Any:
        width, count = int(node["w"]), int(node["count"])
        data = self.take(node)
        if width < 1 or len(data) != count * (width + 1):
            raise TransferError("a received integer list has the wrong size")
        signs = data[:count]
        numbers = [
            int.from_bytes(data[count + i * width : count + (i + 1) * width], "big") * (-1 if signs[i] else 1)
            for i in range(count)
        ]
        return numbers[0] if node.get("scalar") else numbers

    def _encrypted(self, node: Mapping[str, Any]) -> Any:
        from accord.crypto import EncryptedVector

        key = public_key_from_dict(node["key"])
        return EncryptedVector.from_bytes(bytes(self.take(node)), key)


def _hashable(value: Any) -> Any:
    return tuple(value) if isinstance(value, list) else value


_PUBLIC_KEYS: dict[str, Any] = {}


def public_key_from_dict(data: Mapping[str, str]) -> Any:
    """The process's one PublicKey object per key, so its encryption tables are built once."""
    from accord.crypto import PublicKey

    fingerprint = json.dumps(dict(data), sort_keys=True)
    key = _PUBLIC_KEYS.get(fingerprint)
    if key is None:
        key = _PUBLIC_KEYS[fingerprint] = PublicKey.from_dict(data)
    return key


def decode(data: bytes | memoryview) -> Any:
    view = memoryview(data)
    if len(view) < len(_MAGIC) + _HEADER_LEN.size or bytes(view[: len(_MAGIC)]) != _MAGIC:
        raise TransferError("a received value is not in Accord's value encoding")
    start = len(_MAGIC) + _HEADER_LEN.size
    (header_len,) = _HEADER_LEN.unpack(view[len(_MAGIC) : start])
    if start + header_len > len(view):
        raise TransferError("a received value is truncated in its header")
    try:
        tree = json.loads(bytes(view[start : start + header_len]))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise TransferError(f"a received value has a malformed header: {error}") from None
    try:
        return _Reader(view[start + header_len :]).value(tree)
    except (KeyError, TypeError, ValueError) as error:
        raise TransferError(f"a received value is malformed: {type(error).__name__}: {error}") from None
