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
    # One per sample id asked, in the same order.
    partials: list[float]
