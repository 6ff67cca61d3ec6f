"""Where an upload's bytes may come from: a client's stream, or a server file below ``upload_roots``.

The HTTP API never opens a path a client names unless the site's operator listed a directory holding
it (``upload_roots``, empty by default: FATE's ``use_local_data: 0`` is then refused). Paths are
resolved with their symlinks before the check, so neither ``..`` nor a link inside a root that points
outside it reaches another file.

A streamed upload is spooled to a private file under the site's home (0600 in a 0700 directory) and
counted against ``max_upload_bytes`` as it arrives, with its SHA-256 taken on the way, so the body is
never held in memory and a body over the limit is refused before the table is touched.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType

from accord.errors import AuthenticationFailed, PathNotAllowed, RequestTooLarge, UploadFileError

_PREFIX, _SUFFIX = "upload-", ".part"
ROOTS_SETTING = "upload_roots"
LIMIT_SETTING = "max_upload_bytes"
_STREAM_FIX = (
    "send the file's content instead (`accord data upload -c CONF` streams it from your machine), or "
    f"have the site's operator add a directory holding it to {ROOTS_SETTING} in the site config"
)


def server_file(file: str, roots: Sequence[Path]) -> Path:
    """The server file ``file`` names, resolved, if it lies below one of ``roots``; else refused.

    A relative ``file`` is looked for below each root in turn. Only a regular file is accepted.
    """
    if "\x00" in file:
        raise PathNotAllowed(f"upload field 'file' {file!r} holds a NUL byte", hint=_STREAM_FIX, file=file)
    if not roots:
        raise PathNotAllowed(
            f"this site reads no files of its own for uploads ({ROOTS_SETTING} is empty), so 'file' "
            f"{file!r} cannot be uploaded from the server",
            hint=_STREAM_FIX,
            file=file,
            setting=ROOTS_SETTING,
        )
    # No ``~`` expansion: a client's home is not the server user's.
    given = Path(file)
    candidates = [given] if given.is_absolute() else [root / given for root in roots]
    resolved_roots = [_resolved(root) for root in roots]
    resolved = [_resolved(candidate) for candidate in candidates]
    inside = [
        path
        for path in resolved
        if path is not None and any(root is not None and path.is_relative_to(root) for root in resolved_roots)
    ]
    for path in inside:
        if path.is_file():
            return path
    # Whether an escaping path exists is never looked at, let alone told.
    escaped = len(inside) < len(resolved)
    if not escaped and any(path.exists() for path in inside):
        raise UploadFileError(
            f"upload file {file!r} is not a regular file",
            hint="point 'file' at the delimited text file itself",
            file=file,
        )
    if not escaped:
        raise UploadFileError(
            f"upload file {file!r} does not exist below the site's {ROOTS_SETTING}",
            hint="check the path on the server, or stream the file from the client",
            file=file,
        )
    roots_text = ", ".join(repr(str(root)) for root in roots)
    raise PathNotAllowed(
        f"upload field 'file' {file!r} is not below the site's {ROOTS_SETTING} ({roots_text}), with "
        "symbolic links and '..' resolved",
        hint=_STREAM_FIX,
        file=file,
        setting=ROOTS_SETTING,
    )


def _resolved(path: Path) -> Path | None:
    """``path`` with every symlink and ``..`` resolved; None when that fails (a symlink loop, say)."""
    try:
        return path.resolve()
    except (OSError, RuntimeError):
        return None


def private_dir(path: Path) -> Path:
    """``path`` as a directory only its owner may enter (0700), made if missing."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(path, 0o700)
    return path


class Spool:
    """A streamed upload's bytes in a private temporary file, bounded and hashed as they arrive.

    Use as a context manager: the file is removed on exit, whatever happened.
    """

    def __init__(self, directory: Path, *, max_bytes: int) -> None:
        private_dir(directory)
        # mkstemp creates the file 0600 and O_EXCL, whatever the process's umask.
        descriptor, name = tempfile.mkstemp(prefix=_PREFIX, suffix=_SUFFIX, dir=directory)
        self.path = Path(name)
        self._file = os.fdopen(descriptor, "wb")
        self._hash = hashlib.sha256()
        self.max_bytes = max_bytes
        self.size = 0

    @staticmethod
    def clear(directory: Path) -> int:
        """Remove every spool file in ``directory``; how many there were."""
        removed = 0
        for leftover in directory.glob(f"{_PREFIX}*{_SUFFIX}"):
            leftover.unlink(missing_ok=True)
            removed += 1
        return removed

    def __enter__(self) -> Spool:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.discard()

    def check_declared(self, content_length: str | None) -> None:
        """Refuse at once a body whose declared length is already over the limit."""
        if content_length is not None and content_length.isdigit() and int(content_length) > self.max_bytes:
            self._too_large(f"declares {int(content_length)} bytes")

    def write(self, chunk: bytes) -> None:
        self.size += len(chunk)
        if self.size > self.max_bytes:
            self._too_large(f"has more than {self.max_bytes} bytes")
        self._hash.update(chunk)
        self._file.write(chunk)

    def finish(self, expected_sha256: str | None) -> Path:
        """Close the file and check the bytes against the SHA-256 the client declared; the file."""
        self._file.close()
        digest = self._hash.hexdigest()
        if expected_sha256 is not None and not hmac.compare_digest(digest, expected_sha256.strip().lower()):
            raise AuthenticationFailed(
                f"the uploaded bytes hash to sha256 {digest}, not the {expected_sha256[:64]!r} the request "
                "declared in X-Content-SHA256",
                hint="send the file's SHA-256 (hex) taken over exactly the bytes sent, and do not change "
                "the file while it uploads",
            )
        return self.path

    def discard(self) -> None:
        self._file.close()
        self.path.unlink(missing_ok=True)

    def _too_large(self, what: str) -> None:
        raise RequestTooLarge(
            f"the upload {what}, more than the site's {LIMIT_SETTING} of {self.max_bytes} bytes allows",
            hint=f"upload a smaller file, or have the site's operator raise {LIMIT_SETTING}",
            limit=self.max_bytes,
            setting=LIMIT_SETTING,
        )
