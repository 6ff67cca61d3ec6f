"""``checkpoint list|get`` (FATE-Flow's ``/v1/checkpoint/list|get``): the model checkpoints a training
component saved (``ModelCheckpoint``) on one party of this site.

FATE keys checkpoints by model id, model version, role, party id and component; here a model version is
its training job (a deployed version leads back to it through its ``pipeline`` entry), and the
checkpoints are in the newest run of the component that saved any (:mod:`accord.components.sdk.checkpoint`).
Answers follow FATE's shape: per checkpoint its ``step_index``, ``step_name``, ``create_time`` and
``models`` (the component's model with its checksum; ``get`` adds the model itself).
A site answers only for its own parties: the caller names a model, never a path.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from accord.components.sdk import layout
from accord.components.sdk.checkpoint import INDEX_FILE, list_checkpoints
from accord.errors import ArgumentError, DataFormatError, PartyNotHosted, RecordNotFound
from accord.model_store import ModelKey, ModelStore
from accord.persistence import JobRepository
from accord.persistence.records import JobRecord
from accord.settings import Settings

log = logging.getLogger(__name__)

PIPELINE = "pipeline"


@dataclass(frozen=True)
class CheckpointQuery:
    model_id: str
    model_version: str
    role: str
    party_id: int
    component_name: str


class CheckpointReader:
    """Checkpoints of the parties ``settings`` hosts, found from their model id and version."""

    def __init__(self, settings: Settings, jobs: JobRepository, models: ModelStore | None = None) -> None:
        self._settings = settings
        self._jobs = jobs
        self._models = models

    def list(self, query: CheckpointQuery) -> list[dict[str, Any]]:
        """Every checkpoint of the component on the party, oldest step first, without the models."""
        folder = self._folder(query)
        return [_entry(folder, saved, query.component_name, with_model=False) for saved in _sorted(folder)]

    def get(
        self, query: CheckpointQuery, step_index: int | None = None, step_name: str | None = None
    ) -> dict[str, Any]:
        """One checkpoint with its model: by ``step_index``, or the last one saved as ``step_name``.

        As FATE's ``/v1/checkpoint/get``, a step that was not saved answers an empty object.
        """
        if (step_index is None) == (step_name is None):
            raise ArgumentError(
                "checkpoint get needs exactly one of step_index and step_name",
                hint="pass --step-index N or --step-name NAME (see `accord checkpoint list`)",
            )
        folder = self._folder(query)
        chosen = [
            saved
            for saved in _sorted(folder)
            if (step_index is not None and saved["step_index"] == step_index)
            or (step_name is not None and saved["step_name"] == step_name)
        ]
        if not chosen:
            return {}
        return _entry(folder, chosen[-1], query.component_name, with_model=True)

    # ---- finding the task's folder -------------------------------------------------------------

    def _folder(self, query: CheckpointQuery) -> Path:
        if not self._settings.hosts_party(query.party_id):
            log.warning(
                "refused checkpoint read of %s %s (model %s version %s): party not hosted by this site",
                query.role,
                query.party_id,
                query.model_id,
                query.model_version,
            )
            raise PartyNotHosted(
                f"{query.role} {query.party_id} is not a party of this site: a site reads only its own "
                "parties' checkpoints",
                hint="ask the site that hosts that party, with its own role and party_id",
            )
        job = self.training_job(query)
        names = party_components(job)
        if query.component_name not in names:
            raise RecordNotFound(
                f"model {query.model_id} version {query.model_version} has no component "
                f"{query.component_name!r} on {query.role} {query.party_id}",
                hint=f"its components there are {', '.join(names) or 'none'}",
            )
        party = layout.party_dir(self._settings.home, job.job_id, query.role, query.party_id)
        return _newest_with_checkpoints(party, query.component_name)

    def training_job(self, query: CheckpointQuery) -> JobRecord:
        """The job that trained the version (a deployed version's parent); RecordNotFound if not here."""
        job = self._job(query.model_id, query.model_version, query.role, query.party_id)
        if job is None and self._models is not None:
            # A deployed version: its checkpoints are those of the training job it was made from.
            parent = self._parent_version(query)
            if parent is not None:
                job = self._job(query.model_id, parent, query.role, query.party_id)
        if job is None:
            raise RecordNotFound(
                f"no model {query.model_id} version {query.model_version} trained on {query.role} "
                f"{query.party_id} on this site",
                hint="pass the model_id and model_version the training job printed (`accord model list`)",
                model_id=query.model_id,
                model_version=query.model_version,
            )
        return job

    def _job(self, model_id: str, version: str, role: str, party_id: int) -> JobRecord | None:
        rows = self._jobs.parties(version, role=role, party_id=party_id)
        return next((row for row in rows if row.model_id == model_id), None)

    def _parent_version(self, query: CheckpointQuery) -> str | None:
        assert self._models is not None
        key = ModelKey(query.model_id, query.model_version, query.role, query.party_id, PIPELINE)
        try:
            pipeline = self._models.load(key)
        except RecordNotFound:
            return None
        parent = pipeline.get("parent_model_version")
        return parent if isinstance(parent, str) else None


def party_components(job: JobRecord) -> list[str]:
    """The components the job's plan runs on the party of this row."""
    for party in (job.plan or {}).get("parties", []):
        if party.get("role") == job.role and party.get("party_id") == job.party_id:
            return [str(name) for name in party.get("components", [])]
    return []


def _newest_with_checkpoints(party: Path, component: str) -> Path:
    """The checkpoint folder of the newest run (task version) of ``component`` that saved any."""
    pattern = re.compile(rf"^{re.escape(component)}_v(\d+)$")
    runs: list[tuple[int, Path]] = []
    if party.is_dir():
        for path in party.iterdir():
            found = pattern.match(path.name)
            if found and (path / "checkpoints" / INDEX_FILE).is_file():
                runs.append((int(found.group(1)), path / "checkpoints"))
    if not runs:
        # No run saved any: FATE lists none, so the answer is an empty list, not an error.
        return layout.task_dir(party, component, 0) / "checkpoints"
    return max(runs)[1]


def _sorted(folder: Path) -> list[dict[str, Any]]:
    # FATE lists by step index; a step saved twice keeps its latest save (the index holds one entry).
    return sorted(list_checkpoints(folder), key=lambda saved: int(saved["step_index"]))


def _entry(folder: Path, saved: dict[str, Any], component: str, *, with_model: bool) -> dict[str, Any]:
    name = str(saved["file"])
    if "/" in name or name.startswith("."):
        raise DataFormatError(
            f"the checkpoint index in the task of {component} names {name!r}, not a checkpoint file",
            hint="the index was changed outside accord; run the component again",
        )
    try:
        body = (folder / name).read_bytes()
    except FileNotFoundError:
        raise DataFormatError(
            f"checkpoint {saved['step_index']} of {component} is in its index but its file is gone",
            hint="the file was removed outside accord; run the component again",
        ) from None
    created = datetime.fromtimestamp(float(saved["time"]), tz=UTC).isoformat()
    entry: dict[str, Any] = {
        "step_index": int(saved["step_index"]),
        "step_name": str(saved["step_name"]),
        "create_time": created,
    }
    if with_model:
        entry["models"] = {component: json.loads(body)}
    else:
        entry["models"] = {component: {"sha256": hashlib.sha256(body).hexdigest(), "format": "json"}}
    return entry
