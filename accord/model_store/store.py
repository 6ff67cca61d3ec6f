"""A party's models as canonical JSON blobs, recorded with their checksum in SQL.

JSON, never pickle: a model is read back by a later job, another release or another site, and reading
it must not run code. Components keep their models to plain data (lists, numbers, strings).

A version is made by its training job and frozen when that job succeeds (or when it is imported):
until then a rerun of a task replaces its model, afterwards a different model is a conflict.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

from accord.errors import ConflictError, DataFormatError, RecordNotFound
from accord.model_store.storage import LocalDirectoryStorage, ModelStorage
from accord.persistence import ModelRecord, ModelRepository, NewModelVersion


@dataclass(frozen=True, order=True)
class VersionKey:
    """One party's part of a model version: what an export archive holds."""

    model_id: str
    model_version: str
    role: str
    party_id: int

    def __str__(self) -> str:
        return f"model {self.model_id} version {self.model_version} of {self.role} {self.party_id}"

    def component(self, name: str) -> ModelKey:
        return ModelKey(self.model_id, self.model_version, self.role, self.party_id, name)


@dataclass(frozen=True)
class ModelKey:
    model_id: str
    model_version: str
    role: str
    party_id: int
    component: str

    @property
    def version(self) -> VersionKey:
        return VersionKey(self.model_id, self.model_version, self.role, self.party_id)


# Asked before a save: may this party's version still change?
SealCheck = Callable[[VersionKey], bool]


def encode_model(model: Mapping[str, Any]) -> bytes:
    """The canonical bytes of a model: the same model always gives the same bytes and checksum."""
    try:
        return json.dumps(model, sort_keys=True, separators=(",", ":"), allow_nan=False).encode()
    except (TypeError, ValueError) as error:
        raise DataFormatError(
            f"a model must be plain JSON data: {error}",
            hint="convert numpy arrays with .tolist() and keep numbers finite",
        ) from None


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def version_prefix(version: VersionKey) -> str:
    return "/".join(
        (
            quote(version.model_id, safe=""),
            quote(version.model_version, safe=""),
            f"{quote(version.role, safe='')}_{int(version.party_id)}",
        )
    )


def blob_key(key: ModelKey) -> str:
    return f"{version_prefix(key.version)}/{quote(key.component, safe='')}.json"


class ModelStore:
    """Models on ``storage`` (a directory path means files under it), rows in ``records``.

    ``sealed`` says whether a version may still change; by default a version is sealed once its
    training job succeeded on this site or once it was imported.
    """

    def __init__(
        self,
        storage: Path | ModelStorage,
        records: ModelRepository,
        *,
        sealed: SealCheck | None = None,
    ) -> None:
        self.storage: ModelStorage = LocalDirectoryStorage(storage) if isinstance(storage, Path) else storage
        self.records = records
        self._sealed = sealed or (lambda v: records.sealed(v.model_id, v.model_version, v.role, v.party_id))

    def save(self, key: ModelKey, model: Mapping[str, Any]) -> str:
        """Store ``model`` and return its checksum; while the job runs, saving again replaces it."""
        body = encode_model(model)
        checksum = sha256(body)
        if self._sealed(key.version):
            stored = self.records.find(
                key.model_id,
                model_version=key.model_version,
                role=key.role,
                party_id=key.party_id,
                component_name=key.component,
            )
            if stored and stored[0].checksum == checksum:
                # The same model again (a retried activity): nothing changes, so nothing to refuse.
                return checksum
            raise ConflictError(
                f"{key.version} is final: its training job succeeded or it was imported, so "
                f"{key.component}'s model can no longer change",
                hint="train a new version (a new job), or delete this version first",
                model_id=key.model_id,
                model_version=key.model_version,
            )
        location = blob_key(key)
        self.storage.put(location, body)
        self.records.save(*_row_key(key), storage=location, checksum=checksum, replace=True)
        return checksum

    def record(self, key: ModelKey) -> ModelRecord:
        """The stored model's row (where it lies, its checksum); RecordNotFound when there is none."""
        return self.records.get(*_row_key(key))

    def read(self, key: ModelKey) -> bytes:
        """The stored canonical bytes of a model, checked against the checksum recorded with it."""
        return self.read_record(self.record(key))

    def read_record(self, record: ModelRecord) -> bytes:
        body = self.storage.get(self._location(record.storage))
        if sha256(body) != record.checksum:
            raise DataFormatError(
                f"the stored model of {record.component_name} ({record.model_id} "
                f"{record.model_version}) does not match its checksum",
                hint="the model file was changed after it was saved; train or import the model again",
            )
        return body

    def load(self, key: ModelKey) -> dict[str, Any]:
        loaded: dict[str, Any] = json.loads(self.read(key))
        return loaded

    def _location(self, stored: str) -> str:
        # Rows written before the storage interface hold an absolute path under the local root.
        if isinstance(self.storage, LocalDirectoryStorage) and Path(stored).is_absolute():
            return Path(stored).relative_to(self.storage.root).as_posix()
        return stored

    def install(
        self, version: VersionKey, models: Mapping[str, bytes], origin: NewModelVersion
    ) -> list[ModelRecord]:
        """Make ``version`` exactly ``models`` (component → canonical bytes): all of them or none.

        The caller has checked the bytes. Blobs are written first and restored if anything fails, so
        rows never point at a blob that is not there; blobs of components the new version lacks go last.
        """
        written: dict[str, bytes | None] = {}
        rows: dict[str, tuple[str, str]] = {}
        try:
            for component, body in models.items():
                location = blob_key(version.component(component))
                written[location] = _previous(self.storage, location)
                self.storage.put(location, body)
                rows[component] = (location, sha256(body))
            replaced = self.records.replace_version(*_version_fields(version), rows, origin)
        except BaseException:
            for location, previous in written.items():
                if previous is None:
                    self.storage.delete(location)
                else:
                    self.storage.put(location, previous)
            raise
        kept = {location for location, _ in rows.values()}
        for old in replaced:
            if self._location(old.storage) not in kept:
                self.storage.delete(self._location(old.storage))
        return replaced

    def remove(self, version: VersionKey) -> list[ModelRecord]:
        """Forget ``version``: rows first, so no row is ever left pointing at a deleted blob."""
        removed = self.records.delete_version(*_version_fields(version))
        for record in removed:
            self.storage.delete(self._location(record.storage))
        return removed


def _row_key(key: ModelKey) -> tuple[str, str, str, int, str]:
    return key.model_id, key.model_version, key.role, key.party_id, key.component


def _version_fields(version: VersionKey) -> tuple[str, str, str, int]:
    return version.model_id, version.model_version, version.role, version.party_id


def _previous(storage: ModelStorage, location: str) -> bytes | None:
    try:
        return storage.get(location)
    except RecordNotFound:
        return None
