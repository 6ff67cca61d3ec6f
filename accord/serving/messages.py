"""The bodies of FederationServing calls (JSON inside the federation Envelope and Reply)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from accord.identity import Party

# A load's seal id names its key files: 32 hex digits, nothing a path could be made of.
SEAL_PATTERN = r"^[0-9a-f]{32}$"


class _Message(BaseModel):
    # Ciphertexts (bytes) travel as base64 in the JSON body.
    model_config = ConfigDict(frozen=True, extra="forbid", ser_json_bytes="base64", val_json_bytes="base64")


class TableName(_Message):
    namespace: str = Field(min_length=1)
    name: str = Field(min_length=1)

    def __str__(self) -> str:
        return f"{self.namespace}.{self.name}"


class SealedShare(_Message):
    """The guest's weights for one host of a sealed model (HeteroNN), encrypted under a Paillier key the
    guest made for this load (``seal`` names it); the host computes its answers under it."""

    seal: str = Field(pattern=SEAL_PATTERN)
    public_key: dict[str, str]
    share: bytes


class LoadPart(_Message):
    """Publish ``party``'s part of a model; ``table`` replaces the training reader's table."""

    model_id: str
    model_version: str
    party: Party
    table: TableName | None = None
    # Sealed models only.
    sealed: SealedShare | None = None


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
    # Sealed models: the guest's key the answers must be under (a host loaded since refuses).
    seal: str = ""


class Partials(_Message):
    """A host's answer for the sample ids asked, in the same order: a number per row for a summed model
    (HeteroLR: ``x_h · w_h``), or a vector per row for a combined one (HeteroSecureBoost: the host's
    go-left decision, 1.0 or 0.0, at each of its split nodes), its values named by ``columns``, or for a
    sealed model a ciphertext vector per row (HeteroNN: ``[[z_h]]`` under the guest's key, one value per
    column), which only the guest can read."""

    partials: list[float] = Field(default_factory=list)
    vectors: list[list[float]] = Field(default_factory=list)
    sealed: list[bytes] = Field(default_factory=list)
    columns: list[str] = Field(default_factory=list)
