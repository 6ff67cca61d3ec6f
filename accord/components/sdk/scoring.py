"""Online scoring as a component hook: a trained model scores rows from its party's features alone.

Serving knows nothing of a module's model file: it asks the component for a :class:`PartyScorer`
(:meth:`ComponentBase.scorer`) and gives it rows of features in the scorer's ``header`` order.

- A summed model (HeteroLR, HeteroLinR): each party's partial is a number per row; serving sums the
  parties' partials and asks the guest's scorer for the outcome.
- A combined model (HeteroSecureBoost): a host's ``partial`` is a vector per row, one value per
  ``columns`` entry (a tree model's go-left decision, 1.0 or 0.0, at each of the host's own split
  nodes); the guest's scorer is a :class:`CombiningScorer`, whose ``combine`` turns its own features
  and the hosts' answers into what ``outcome`` takes.
- A whole model (HomoSecureBoost): a :class:`CombiningScorer` that asks no host.
- A sealed model (HeteroNN): a host's answers depend on weights only the guest holds, and must stay
  secret from the guest but for what the predict job reveals too. The guest's scorer is a
  :class:`SealingScorer`: at load, serving makes a Paillier key pair for the published model and gives
  each host :meth:`SealingScorer.sealed_share` (the guest's weights for that host, encrypted under the
  public key); the host's :class:`SealedAnsweringScorer` turns its rows and that share into
  ciphertexts of its answer vectors, which serving decrypts into the :class:`HostAnswers` that
  ``combine`` takes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol, runtime_checkable

import numpy as np

if TYPE_CHECKING:
    from accord.crypto import PublicKey


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
        """This party's part of each row's score, from rows of features (n rows by len(header)):
        shape (n,) for a summed model, (n, len(columns)) for a host of a combined one."""
        ...

    def outcome(self, totals: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Scores and integer labels of the summed partials, or of what ``combine`` returned (asked of
        the guest's scorer)."""
        ...


@runtime_checkable
class AnsweringScorer(PartyScorer, Protocol):
    """A host's scorer whose partial is a vector per row, one value per named column."""

    @property
    def columns(self) -> tuple[str, ...]:
        """What each value of a row's answer is about (for trees: ``"<tree>.<node id>"``)."""
        ...


@dataclass(frozen=True)
class HostAnswers:
    """One host's answers to a request: ``values`` (rows asked, len(columns)) named by ``columns``."""

    columns: tuple[str, ...]
    values: np.ndarray


@runtime_checkable
class CombiningScorer(PartyScorer, Protocol):
    """A guest's scorer that combines its own rows with the hosts' answers instead of summing partials."""

    @property
    def asks_hosts(self) -> bool:
        """False when the guest's model is whole (homo models): no host is asked at all."""
        ...

    def combine(self, features: np.ndarray, answers: Mapping[int, HostAnswers]) -> np.ndarray:
        """What :meth:`outcome` takes, from the guest's rows of features (n, len(header)) and each
        host's answers by party id (empty when ``asks_hosts`` is False)."""
        ...


@runtime_checkable
class SealingScorer(CombiningScorer, Protocol):
    """A guest's scorer whose hosts answer ciphertexts under a key serving makes for each load."""

    @property
    def key_length(self) -> int:
        """Bits of the Paillier key the model's answers are sealed under (its encrypt_param)."""
        ...

    def sealed_share(self, host: int, key: PublicKey) -> bytes:
        """What host ``host`` (party id) computes its answers with: the guest's weights for it,
        encrypted under ``key`` (an ``EncryptedVector.to_bytes``)."""
        ...


@runtime_checkable
class SealedAnsweringScorer(AnsweringScorer, Protocol):
    """A host's scorer that answers ciphertexts: the guest's share of its weights is sealed to it."""

    def sealed_answers(self, features: np.ndarray, share: bytes, key: PublicKey) -> list[bytes]:
        """Per row of ``features`` (n, len(header)), its answer vector (len(columns) values) encrypted
        under ``key`` (an ``EncryptedVector.to_bytes``), from the guest's sealed ``share``."""
        ...


class WholeModelScorer:
    """A horizontal (homo) model's scorer: every client holds the whole model, so the guest scores a row
    alone and asks no host (a host's partial added to the guest's would count the model twice)."""

    def __init__(self, scorer: PartyScorer) -> None:
        self._scorer = scorer

    @property
    def component(self) -> str:
        return self._scorer.component

    @property
    def header(self) -> tuple[str, ...]:
        return self._scorer.header

    @property
    def asks_hosts(self) -> bool:
        return False

    def partial(self, features: np.ndarray) -> np.ndarray:
        return self._scorer.partial(features)

    def combine(self, features: np.ndarray, answers: Mapping[int, HostAnswers]) -> np.ndarray:
        return self._scorer.partial(features)

    def outcome(self, totals: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return self._scorer.outcome(totals)
