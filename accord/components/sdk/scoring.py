"""Online scoring as a component hook: a trained model scores rows from its party's features alone.

Serving knows nothing of a module's model file: it asks the component for a :class:`PartyScorer`
(:meth:`ComponentBase.scorer`), gives it rows of features in the scorer's ``header`` order, sums
the parties' partials and asks the guest's scorer for the outcome. A vertically split model (HeteroLR)
has a partial per party; a horizontal one (HomoLR) scores a whole row on one party.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np


class PartyScorer(Protocol):
    @property
    def component(self) -> str:
        """The component whose model this is (for messages)."""
        ...

    @property
    def header(self) -> tuple[str, ...]:
        """The features the scorer reads, in the column order :meth:`partial` takes them."""
        ...

    def partial(self, features: np.ndarray) -> np.ndarray:
        """This party's part of each row's score, from rows of features (n rows by len(header))."""
        ...

    def outcome(self, totals: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Scores and 0/1 labels of the summed partials (asked of the guest's scorer)."""
        ...
