"""The models a site serves and its service ids, in memory and in ``<home>/serving/published.json``.

The file keeps references only (which model version, which party, which lookup table); weights and a
host's partial scores are rebuilt from the model store and the table at start-up, so the file never
holds model data and never goes stale against the stored models. A sealed model's entry also names
its load's key (``seal``), whose material lives beside the file (:mod:`accord.serving.sealing`).
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from accord.components.sdk import PartyScorer
from accord.crypto import PrivateKey
from accord.errors import DataFormatError
from accord.model_store import VersionKey
from accord.serving.messages import SEAL_PATTERN, TableName

FORMAT = 1


class _Record(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class PublishedEntry(_Record):
    model_id: str
    model_version: str
    role: str
    party_id: int
    # Hosts: the lookup table the partial scores come from.
    table: TableName | None = None
    # Sealed models (HeteroNN): the id of the Paillier key made for this load.
    seal: str | None = Field(default=None, pattern=SEAL_PATTERN)

    @property
    def key(self) -> VersionKey:
        return VersionKey(self.model_id, self.model_version, self.role, self.party_id)


class Binding(_Record):
    model_id: str
    model_version: str


class PublishedFile(_Record):
    format: int = FORMAT
    models: list[PublishedEntry] = Field(default_factory=list)
    services: dict[str, Binding] = Field(default_factory=dict)


@dataclass(frozen=True)
class LookupAnswers:
    """A host's answers of a combined model for every row of its lookup table, computed at load time:
    ``values[rows[sample id]]`` is that row's vector, named by ``columns``."""

    columns: tuple[str, ...]
    rows: Mapping[str, int]
    values: np.ndarray


@dataclass(frozen=True)
class SealedAnswers:
    """A host's answers of a sealed model for every row of its lookup table, computed at load time:
    ``ciphertexts[rows[sample id]]`` is that row's vector encrypted under the guest's key."""

    columns: tuple[str, ...]
    rows: Mapping[str, int]
    ciphertexts: Sequence[bytes]


@dataclass(frozen=True)
class PublishedPart:
    entry: PublishedEntry
    # The model component's scorer (ComponentBase.scorer).
    scorer: PartyScorer
    # The model's guests (who may ask a host) and hosts (whom a guest asks).
    guests: tuple[int, ...]
    hosts: tuple[int, ...]
    # Hosts of a summed model only: sample id → x_h · w_h.
    partials: Mapping[str, float] = field(default_factory=dict)
    # Hosts of a combined model only (HeteroSecureBoost: decisions at the host's own nodes).
    answers: LookupAnswers | None = None
    # Hosts of a sealed model only (HeteroNN: [[z_h]] under the guest's key).
    sealed: SealedAnswers | None = None
    # The guest of a sealed model only: the private key its hosts' answers are sealed under.
    key: PrivateKey | None = None

    @property
    def rows(self) -> int:
        """How many sample ids a host's lookup table answers for."""
        return len(self._known)

    def knows(self, sample_id: str) -> bool:
        """Whether a host's lookup table holds ``sample_id``."""
        return sample_id in self._known

    @property
    def _known(self) -> Mapping[str, object]:
        if self.sealed is not None:
            return self.sealed.rows
        return self.answers.rows if self.answers is not None else self.partials


class Registry:
    """``roles``: the parts this process serves; the file's entries of other roles are kept as they are."""

    def __init__(self, home: Path, roles: Collection[str]) -> None:
        self.path = home / "serving" / "published.json"
        self.roles = frozenset(roles)
        self.parts: dict[VersionKey, PublishedPart] = {}
        self.services: dict[str, Binding] = {}
        # Published entries whose part could not be rebuilt at the last restore, with the reason.
        self.broken: dict[VersionKey, str] = {}

    def read(self) -> PublishedFile:
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return PublishedFile()
        try:
            return PublishedFile.model_validate_json(text)
        except ValidationError as error:
            raise DataFormatError(
                f"{self.path} is not a published-models file: {error.errors()[0]['msg']}",
                hint="fix or remove the file, then load the models again",
            ) from None

    def mtime(self) -> float:
        try:
            return self.path.stat().st_mtime
        except FileNotFoundError:
            return 0.0

    def replace(self, parts: Iterable[PublishedPart], services: Mapping[str, Binding]) -> None:
        self.parts = {part.entry.key: part for part in parts}
        self.services = dict(services)

    def publish(self, part: PublishedPart) -> PublishedPart | None:
        """Publish ``part``; the part it replaces, if any (whose sealed key material may go)."""
        previous = self.parts.get(part.entry.key)
        self.parts[part.entry.key] = part
        self.broken.pop(part.entry.key, None)
        self.save()
        return previous

    def bind(self, service_id: str, binding: Binding) -> None:
        self.services[service_id] = binding
        self.save()

    def save(self) -> None:
        # Entries that failed to rebuild stay in the file: fixing their table brings them back.
        kept = {
            entry.key: entry
            for entry in self.read().models
            if entry.key in self.broken or entry.role not in self.roles
        }
        kept.update({part.entry.key: part.entry for part in self.parts.values()})
        body = PublishedFile(models=sorted(kept.values(), key=lambda e: e.key), services=self.services)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        partial = self.path.with_name(f".{self.path.name}.{uuid.uuid4().hex}.part")
        partial.write_text(json.dumps(body.model_dump(mode="json"), indent=2, sort_keys=True) + "\n")
        os.replace(partial, self.path)
