"""The bodies of FederationServing calls (JSON inside the federation Envelope and Reply)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from accord.identity import Party


class _Message(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class TableName(_Message):
    namespace: str = Field(min_length=1)
    name: str = Field(min_length=1)

    def __str__(self) -> str:
        return f"{self.namespace}.{self.name}"


class LoadPart(_Message):
    """Publish ``party``'s part of a model; ``table`` replaces the training reader's table."""

    model_id: str
    model_version: str
    party: Party
    table: TableName | None = None


class PartLoaded(_Message):
    party: Party
    component: str
    features: int
    # Hosts only: the lookup table and how many sample ids it holds.
    table: TableName | None = None
    rows: int = 0


class PartialScore(_Message):
    model_id: str
    model_version: str
    party: Party
    sample_ids: list[str] = Field(min_length=1)


class Partials(_Message):
    """A host's answer for the sample ids asked, in the same order: a number per row for a summed model
    (HeteroLR: ``x_h · w_h``), or a vector per row for a combined one (HeteroSecureBoost: the host's
    go-left decision, 1.0 or 0.0, at each of its split nodes), its values named by ``columns``."""

    partials: list[float] = Field(default_factory=list)
    vectors: list[list[float]] = Field(default_factory=list)
    columns: list[str] = Field(default_factory=list)
