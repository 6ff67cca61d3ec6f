"""The ``accord`` command line: one click group, with each command family in its own module."""

from __future__ import annotations

from accord.cli.dsl import dsl
from accord.cli.root import main

main.add_command(dsl)

__all__ = ["main"]
