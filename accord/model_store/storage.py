"""Where model blobs live: a small key → bytes interface, and the local directory that backs it by default.

Keys are relative, ``/``-separated and already escaped by the caller, so any backend (a directory, an
object store) can hold them as they are. Backends never see SQL; the rows that say which blob holds
which model are :class:`~accord.model_store.ModelStore`'s business.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path
from typing import Protocol, runtime_checkable

from accord.errors import ArgumentError, RecordNotFound

_PARTIAL = ".part"


@runtime_checkable
class ModelStorage(Protocol):
    def put(self, key: str, data: bytes) -> None:
        """Store ``data`` under ``key``, replacing what was there; readers see old or new, never half."""

    def get(self, key: str) -> bytes:
        """The bytes under ``key``; :class:`~accord.errors.RecordNotFound` when there are none."""

    def delete(self, key: str) -> bool:
        """Remove ``key``; False when it did not exist."""

    def list(self, prefix: str = "") -> list[str]:
        """Every key under the folder ``prefix`` (all keys when empty), sorted."""


def check_key(key: str) -> list[str]:
    parts = key.split("/")
    if not key or key.startswith("/") or any(p in ("", ".", "..") for p in parts):
        raise ArgumentError(
            f"model storage key {key!r} is not a relative path of named parts",
            hint="build keys with ModelStore.blob_key",
        )
    return parts


class LocalDirectoryStorage:
    """Blobs as files under ``root``, written through a temporary file and a rename."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, key: str) -> Path:
        return self.root.joinpath(*check_key(key))

    def put(self, key: str, data: bytes) -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(f".{path.name}.{uuid.uuid4().hex}{_PARTIAL}")
        try:
            partial.write_bytes(data)
            os.replace(partial, path)
        except BaseException:
            partial.unlink(missing_ok=True)
            raise

    def get(self, key: str) -> bytes:
        try:
            return self._path(key).read_bytes()
        except FileNotFoundError:
            raise RecordNotFound(
                f"no model file {key!r} under {self.root}",
                hint="the file was removed outside accord; import or train the model again",
            ) from None

    def delete(self, key: str) -> bool:
        path = self._path(key)
        try:
            path.unlink()
        except FileNotFoundError:
            return False
        # Empty version folders would otherwise pile up after every delete.
        folder = path.parent
        while folder != self.root and folder.is_relative_to(self.root):
            try:
                folder.rmdir()
            except OSError:
                break
            folder = folder.parent
        return True

    def list(self, prefix: str = "") -> list[str]:
        base = self._path(prefix) if prefix else self.root
        if not base.is_dir():
            return []
        return sorted(
            path.relative_to(self.root).as_posix()
            for path in base.rglob("*")
            if path.is_file() and not path.name.endswith(_PARTIAL)
        )

    def __repr__(self) -> str:
        return f"LocalDirectoryStorage({str(self.root)!r})"
