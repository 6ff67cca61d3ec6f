"""Counts of Paillier operations for the site's metrics (:mod:`accord.metrics`).

Components reach the crypto layer through many call paths, none of which carries the site's services,
so the one counting hook is process-wide: the worker installs a sink at start-up (``set_sink``) and
every batch entry point reports how many elements it processed, once per call, never per ciphertext,
so counting costs nothing measurable next to the modular arithmetic. Until a sink is set (tests,
library use, the crypto pool's worker processes) counting does nothing, and this module imports
nothing, so the pool's workers stay as light as :mod:`accord.crypto.pool` wants them.

Operations: ``encrypt``, ``decrypt``, ``rerandomize`` (fresh randomness for a ciphertext), ``add``
(ciphertext + ciphertext or + plaintext), ``multiply`` (ciphertext times plaintext, one modular
exponentiation each) and ``exponentiation`` (the terms ``c_i^e_ij`` of a multi-exponentiation
``Π_i c_i^e_ij``, the ``X^T·[[d]]`` kernel: rows times columns).
"""

from __future__ import annotations

from collections.abc import Callable

ENCRYPT = "encrypt"
DECRYPT = "decrypt"
RERANDOMIZE = "rerandomize"
ADD = "add"
MULTIPLY = "multiply"
EXPONENTIATION = "exponentiation"
OPERATIONS = (ENCRYPT, DECRYPT, RERANDOMIZE, ADD, MULTIPLY, EXPONENTIATION)

Sink = Callable[[str, int], None]

_sink: Sink | None = None


def set_sink(sink: Sink | None) -> None:
    """Report every counted batch to ``sink(operation, elements)`` from now on (None: stop counting)."""
    global _sink
    _sink = sink


def count(operation: str, elements: int) -> None:
    """``elements`` operations of one kind were done by one batch call."""
    sink = _sink
    if sink is not None and elements > 0:
        sink(operation, elements)
