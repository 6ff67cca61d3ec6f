"""A party's models on disk as canonical JSON, recorded with their checksum in SQL.

JSON, never pickle: a model is read back by a later job, another release or another site, and reading
it must not run code. Components keep their models to plain data (lists, numbers, strings).
"""

from __future__ import annotations

import hashlib
import json
import os
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

from accord.errors import DataFormatError
from accord.persistence import ModelRepository


@dataclass(frozen=True)
class ModelKey:
    model_id: str
    model_version: str
    role: str
    party_id: int
    component: str


def _encode(model: Mapping[str, Any]) -> bytes:
    try:
        return json.dumps(model, sort_keys=True, separators=(",", ":"), allow_nan=False).encode()
    except (TypeError, ValueError) as error:
        raise DataFormatError(
            f"a model must be plain JSON data: {error}",
            hint="convert numpy arrays with .tolist() and keep numbers finite",
        ) from None


class ModelStore:
    def __init__(self, root: Path, records: ModelRepository) -> None:
        self._root = root
        self._records = records

    def path(self, key: ModelKey) -> Path:
        return (
            self._root
            / quote(key.model_id, safe="")
            / quote(key.model_version, safe="")
            / f"{quote(key.role, safe='')}_{int(key.party_id)}"
            / f"{quote(key.component, safe='')}.json"
        )

    def save(self, key: ModelKey, model: Mapping[str, Any]) -> str:
        """Store ``model`` and return its checksum; saving again replaces it (a rerun of its task)."""
        body = _encode(model)
        checksum = hashlib.sha256(body).hexdigest()
        path = self.path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(f".{path.name}.{uuid.uuid4().hex}.part")
        partial.write_bytes(body)
        os.replace(partial, path)
        self._records.save(
            key.model_id,
            key.model_version,
            key.role,
            key.party_id,
            key.component,
            storage=str(path),
            checksum=checksum,
            replace=True,
        )
        return checksum

    def load(self, key: ModelKey) -> dict[str, Any]:
        record = self._records.get(key.model_id, key.model_version, key.role, key.party_id, key.component)
        body = Path(record.storage).read_bytes()
        if hashlib.sha256(body).hexdigest() != record.checksum:
            raise DataFormatError(
                f"the stored model of {key.component} ({key.model_id} {key.model_version}) does not match "
                "its checksum",
                hint="the model file was changed after it was saved; train the model again",
            )
        loaded: dict[str, Any] = json.loads(body)
        return loaded
