"""The standalone site's local credential: a random token under the home that only its owner can read.

``accord up`` (or ``accord server`` itself) creates it once; the CLI and the browser present it, as a
Jupyter server's token is presented, so another local user or a web page the user visits cannot drive
the site. Reading the file is what proves a caller may.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import stat
from pathlib import Path

from accord.errors import OperatingError

TOKEN_FILE = "local_token"
_TOKEN_BYTES = 32


def private_dir(path: Path) -> Path:
    """``path`` created if missing, readable by its owner only (0700)."""
    path.mkdir(parents=True, exist_ok=True)
    if stat.S_IMODE(path.stat().st_mode) & 0o077:
        path.chmod(0o700)
    return path


def ensure_local_token(home: Path) -> str:
    """The token of the site at ``home``, created (0600, in a 0700 home) when there is none yet.

    Safe to call from several processes at once: the file appears whole or not at all (written
    aside, then linked into place, which fails if another process got there first).
    """
    path = private_dir(home) / TOKEN_FILE
    token = read_local_token(home)
    if token is not None:
        return token
    partial = path.with_name(f".{TOKEN_FILE}.{secrets.token_hex(8)}.part")
    descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(descriptor, "w", encoding="ascii") as out:
            out.write(secrets.token_urlsafe(_TOKEN_BYTES) + "\n")
        # Another process may have linked its own first; then that one is the token.
        with contextlib.suppress(FileExistsError):
            os.link(partial, path)
    finally:
        partial.unlink(missing_ok=True)
    token = read_local_token(home)
    if token is None:
        raise OperatingError(
            f"the local credential {path} is empty or unreadable",
            hint="delete it and start the site again; a new one is made",
        )
    return token


def read_local_token(home: Path) -> str | None:
    """The token of the site at ``home``, tightening a file others could read; None without one."""
    path = home / TOKEN_FILE
    try:
        if stat.S_IMODE(path.stat().st_mode) & 0o077:
            path.chmod(0o600)
        token = path.read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError):
        return None
    return token or None
