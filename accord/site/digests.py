"""Content digests of a party's files, and cheap signatures telling whether a file is still the one digested.

A digest is of the bytes, never of a name or a path: the same data under another table name, job or
component digests the same. A signature (inode, size, modification time) changes whenever a file is
replaced; components and the table store write by replacing (``os.replace``), never in place, so an
unchanged signature means unchanged bytes, and a hard link shares its source's signature.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import threading
import uuid
from collections import OrderedDict
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

_CHUNK = 1 << 20
_CACHE_SIZE = 256


def canonical_json(value: Any) -> bytes:
    """The same value always gives the same bytes (sorted keys, no spaces); TypeError if not JSON."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), allow_nan=True).encode()


def sha256_of(value: Any) -> str:
    return hashlib.sha256(canonical_json(value)).hexdigest()


def file_digest(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _files(folder: Path) -> Iterator[tuple[str, Path]]:
    """Every file under ``folder`` with its relative POSIX path, in a stable order."""
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            yield path.relative_to(folder).as_posix(), path


def tree_digest(folder: Path) -> str:
    """Over each file's relative path and bytes: the folder's content, not where it lies."""
    digest = hashlib.sha256()
    for relative, path in _files(folder):
        digest.update(canonical_json([relative, file_digest(path)]))
    return digest.hexdigest()


def digest(path: Path) -> str:
    return tree_digest(path) if path.is_dir() else file_digest(path)


def _stat(path: Path) -> str:
    st = path.stat()
    return f"{st.st_ino}:{st.st_size}:{st.st_mtime_ns}"


def signature(path: Path) -> str | None:
    """A cheap identity of a file (or of every file in a folder); None when it is not there."""
    try:
        if path.is_dir():
            return sha256_of([[relative, _stat(file)] for relative, file in _files(path)])
        return _stat(path)
    except FileNotFoundError:
        return None


def link_file(source: Path, target: Path) -> None:
    """``target`` becomes ``source``'s bytes: a hard link (no copy, and it outlives ``source``), or a copy
    where the file system cannot link; atomically replacing what ``target`` held."""
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.{uuid.uuid4().hex}.part")
    try:
        try:
            os.link(source, partial)
        except OSError:
            shutil.copy2(source, partial)
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)


def link_tree(source: Path, target: Path) -> None:
    """``target`` becomes a folder of links to ``source``'s files, replacing what it held as a whole."""
    staging = target.with_name(f".{target.name}.{uuid.uuid4().hex}")
    try:
        staging.mkdir(mode=source.stat().st_mode & 0o777, parents=True)
        for relative, path in _files(source):
            link_file(path, staging / relative)
        if target.exists():
            shutil.rmtree(target)
        os.replace(staging, target)
    finally:
        if staging.exists():
            shutil.rmtree(staging)


class TableDigests:
    """Digests of the site's stored tables, remembered per stored version so a table is read once.

    A table's stored version lives in a folder of its own (its ``address``, new on every upload), so the
    address with the data file's signature names its content.
    """

    def __init__(self, max_entries: int = _CACHE_SIZE) -> None:
        self._max_entries = max_entries
        self._known: OrderedDict[tuple[str, str], str] = OrderedDict()
        self._lock = threading.Lock()

    def of(self, data_file: Path, description: Mapping[str, Any]) -> str | None:
        """Over the data file's bytes and how it is read (schema, delimiter); None when it is gone."""
        stamp = signature(data_file)
        if stamp is None:
            return None
        key = (str(data_file), stamp + sha256_of(dict(description)))
        with self._lock:
            known = self._known.get(key)
        if known is not None:
            return known
        try:
            found = sha256_of([file_digest(data_file), dict(description)])
        except FileNotFoundError:
            return None
        with self._lock:
            self._known[key] = found
            while len(self._known) > self._max_entries:
                self._known.popitem(last=False)
        return found
