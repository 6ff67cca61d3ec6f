"""Keeping a site's files to the user it runs as: keys, tables, models, exchanged values, logs.

Called at the start of each long-running entry point (server, worker), never at import: from then
on every file and directory the process creates is its user's alone (umask 077), whichever library
creates it, and the home itself is 0700. Child processes inherit the umask. The standalone supervisor,
which runs inside the CLI (and tests), holds that umask only while it starts the stack
(:func:`private_files`) and starts its children with it.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

PRIVATE_UMASK = 0o077


def private_process(home: Path) -> None:
    """Make this process's new files 0600 / directories 0700, and ``home`` a 0700 directory."""
    os.umask(PRIVATE_UMASK)
    private_home(home)


def private_home(home: Path) -> None:
    """``home`` as a 0700 directory, made if missing."""
    home.mkdir(mode=0o700, parents=True, exist_ok=True)
    # An existing home made by hand or by an older version is tightened too.
    os.chmod(home, 0o700)


@contextmanager
def private_files(home: Path) -> Iterator[None]:
    """:func:`private_process` for the duration of the block; the caller's umask afterwards."""
    previous = os.umask(PRIVATE_UMASK)
    try:
        private_home(home)
        yield
    finally:
        os.umask(previous)
