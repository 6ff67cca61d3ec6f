"""A site's model versions as FATE-Flow manages them: list, query, export, import, delete.

A version is one party's part of a model, ``(model_id, model_version, role, party_id)``: each party
keeps only its own components, so an export is one archive per party. A version trained here is
described by its job row (DSL, runtime conf, plan); an imported one keeps the same in the
``model_versions`` table, which :meth:`ModelService.query` reads first.
"""

from __future__ import annotations

import logging
import os
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from accord.errors import (
    ConflictError,
    InputFileError,
    JobStateError,
    PartyNotHosted,
    RecordNotFound,
)
from accord.model_store.archive import Manifest, entry, read_archive, write_archive
from accord.model_store.signing import ArchiveSigning, Signer
from accord.model_store.store import ModelKey, ModelStore, VersionKey
from accord.persistence import JobRecord, JobRepository, ModelRecord, NewModelVersion
from accord.status import JobStatus

log = logging.getLogger(__name__)

IMPORTED = "import"


@dataclass(frozen=True)
class ComponentModel:
    component_name: str
    sha256: str
    create_time: datetime


@dataclass(frozen=True)
class ModelVersionInfo:
    """One party's version: its components and what this site knows of the job that made it."""

    key: VersionKey
    components: tuple[ComponentModel, ...]
    create_time: datetime
    # The training job's id when its row is on this site; an imported version usually has none.
    job_id: str | None
    job_status: str | None
    job_type: str | None
    imported: bool
    # Who signed the archive, on the answer to an import only (it is not kept).
    signer: Signer | None = None

    def to_dict(self) -> dict[str, Any]:
        signed = {"signer": self.signer.to_dict()} if self.signer is not None else {}
        return signed | {
            "model_id": self.key.model_id,
            "model_version": self.key.model_version,
            "role": self.key.role,
            "party_id": self.key.party_id,
            "components": [
                {
                    "component_name": c.component_name,
                    "sha256": c.sha256,
                    "create_time": _ms(c.create_time),
                }
                for c in self.components
            ],
            "create_time": _ms(self.create_time),
            "job_id": self.job_id,
            "job_status": self.job_status,
            "job_type": self.job_type,
            "imported": self.imported,
        }


def _ms(moment: datetime) -> int:
    # FATE-Flow's API gives times as milliseconds since the epoch.
    return int(moment.timestamp() * 1000)


@dataclass(frozen=True)
class _JobFiles:
    dsl: dict[str, Any] | None
    runtime_conf: dict[str, Any] | None
    party_plan: dict[str, Any] | None


def _not_found(model_id: str, model_version: str | None, role: str | None, party_id: int | None) -> Exception:
    who = " ".join(str(p) for p in (role, party_id) if p is not None)
    version = f" version {model_version}" if model_version else ""
    return RecordNotFound(
        f"no model {model_id}{version}{' of ' + who if who else ''} on this site",
        hint="list what the site holds with `accord model list`",
        model_id=model_id,
        model_version=model_version,
    )


def _job_type(job: JobRecord) -> str | None:
    if job.plan is not None and isinstance(job.plan.get("job_type"), str):
        return str(job.plan["job_type"])
    common = job.runtime_conf.get("job_parameters", {}).get("common", {})
    return str(common.get("job_type", "train")) if isinstance(common, dict) else None


def _party_plan(job: JobRecord) -> dict[str, Any] | None:
    for party in (job.plan or {}).get("parties", []):
        if party.get("role") == job.role and party.get("party_id") == job.party_id:
            found: dict[str, Any] = party
            return found
    return None


class ModelService:
    """Model versions of the parties a site hosts; ``hosts_party`` refuses imports for other parties.

    ``signing`` signs every export with the site's key and decides which imports it trusts.
    """

    def __init__(
        self,
        store: ModelStore,
        jobs: JobRepository,
        *,
        signing: ArchiveSigning,
        hosts_party: Callable[[int], bool] | None = None,
    ) -> None:
        self._store = store
        self._signing = signing
        self._records = store.records
        self._jobs = jobs
        self._hosts_party = hosts_party

    @property
    def store(self) -> ModelStore:
        """The blobs and rows under the versions (``model migrate`` writes new versions there)."""
        return self._store

    # ---- reading ----------------------------------------------------------------------------

    def list_models(
        self,
        model_id: str | None = None,
        model_version: str | None = None,
        role: str | None = None,
        party_id: int | None = None,
    ) -> list[ModelVersionInfo]:
        """One entry per party's version, newest first."""
        groups: dict[VersionKey, list[ModelRecord]] = {}
        for record in self._records.find(model_id, model_version=model_version, role=role, party_id=party_id):
            key = VersionKey(record.model_id, record.model_version, record.role, record.party_id)
            groups.setdefault(key, []).append(record)
        infos = [self._info(key, rows) for key, rows in groups.items()]
        infos.sort(key=lambda i: (i.create_time, i.key.model_version), reverse=True)
        return infos

    def query(
        self,
        model_id: str,
        model_version: str,
        role: str | None = None,
        party_id: int | None = None,
        *,
        with_models: bool = False,
    ) -> list[dict[str, Any]]:
        """Each matching party's version in full: entry, training DSL and conf, the party's plan."""
        infos = self.list_models(model_id, model_version, role, party_id)
        if not infos:
            raise _not_found(model_id, model_version, role, party_id)
        detailed = []
        for info in infos:
            files = self._files(info.key, self._job(info.key))
            body = info.to_dict() | {
                "train_dsl": files.dsl,
                "train_runtime_conf": files.runtime_conf,
                "party_plan": files.party_plan,
            }
            if with_models:
                body["models"] = {
                    c.component_name: self._store.load(_model_key(info.key, c.component_name))
                    for c in info.components
                }
            detailed.append(body)
        return detailed

    def _job(self, key: VersionKey) -> JobRecord | None:
        rows = self._jobs.parties(key.model_version, role=key.role, party_id=key.party_id)
        return next((row for row in rows if row.model_id == key.model_id), None)

    def _info(self, key: VersionKey, rows: Sequence[ModelRecord]) -> ModelVersionInfo:
        job = self._job(key)
        origin = self._records.version(key.model_id, key.model_version, key.role, key.party_id)
        components = tuple(ComponentModel(r.component_name, r.checksum, r.create_time) for r in rows)
        status = job.status.value if job else origin.job_status if origin else None
        job_type = _job_type(job) if job else origin.job_type if origin else None
        return ModelVersionInfo(
            key=key,
            components=components,
            create_time=min(c.create_time for c in components),
            job_id=job.job_id if job else None,
            job_status=status,
            job_type=job_type,
            imported=origin is not None,
        )

    def _files(self, key: VersionKey, job: JobRecord | None) -> _JobFiles:
        origin = self._records.version(key.model_id, key.model_version, key.role, key.party_id)
        # An imported version's files describe the models it holds, even over a job row of the same id.
        if origin is not None:
            return _JobFiles(origin.dsl, origin.runtime_conf, origin.party_plan)
        if job is not None:
            return _JobFiles(job.dsl, job.runtime_conf, _party_plan(job))
        return _JobFiles(None, None, None)

    # ---- export and import ------------------------------------------------------------------

    def export_bytes(self, model_id: str, model_version: str, role: str, party_id: int) -> bytes:
        """The archive of one party's version (see :mod:`accord.model_store.archive`)."""
        key = VersionKey(model_id, model_version, role, party_id)
        rows = self._records.find(model_id, model_version=model_version, role=role, party_id=party_id)
        if not rows:
            raise _not_found(model_id, model_version, role, party_id)
        job = self._job(key)
        if job is not None and job.status != JobStatus.SUCCESS:
            raise JobStateError(
                f"{key} belongs to job {job.job_id}, which is {job.status.value}: only the models of a "
                "job that succeeded are exported",
                hint="wait for the job to succeed, or export a version whose job did",
                job_id=job.job_id,
            )
        models = {row.component_name: self._store.read_record(row) for row in rows}
        info, files = self._info(key, rows), self._files(key, job)
        manifest = Manifest(
            model_id=model_id,
            model_version=model_version,
            role=role,
            party_id=party_id,
            job_type=info.job_type,
            job_status=info.job_status,
            components=tuple(entry(name, body) for name, body in sorted(models.items())),
            train_dsl=files.dsl,
            train_runtime_conf=files.runtime_conf,
            party_plan=files.party_plan,
        )
        return write_archive(manifest, models, self._signing.sign)

    def export(self, model_id: str, model_version: str, role: str, party_id: int, path: Path) -> Path:
        """Write the archive to ``path`` whole or not at all; the path written."""
        data = self.export_bytes(model_id, model_version, role, party_id)
        target = path.absolute()
        partial = target.with_name(f".{target.name}.{uuid.uuid4().hex}.part")
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            partial.write_bytes(data)
            os.replace(partial, target)
        except OSError as error:
            partial.unlink(missing_ok=True)
            raise InputFileError(
                f"cannot write the model archive {str(target)!r}: {error.strerror or error}",
                hint="choose a writable output path",
            ) from None
        return target

    def import_(self, path: Path, *, force: bool = False, trust_unsigned: bool = False) -> ModelVersionInfo:
        """Import the archive at ``path``; see :meth:`import_bytes`."""
        try:
            data = path.read_bytes()
        except OSError as error:
            raise InputFileError(
                f"cannot read the model archive {str(path)!r}: {error.strerror or error}",
                hint="pass the path of a file `accord model export` wrote",
            ) from None
        except ValueError as error:  # a path no file can have, such as one with a NUL byte
            raise InputFileError(
                f"cannot read the model archive {str(path)!r}: {error}",
                hint="pass the path of a file `accord model export` wrote",
            ) from None
        return self.import_bytes(data, force=force, trust_unsigned=trust_unsigned, source=str(path))

    def import_bytes(
        self,
        data: bytes,
        *,
        force: bool = False,
        trust_unsigned: bool = False,
        source: str = "the model archive",
    ) -> ModelVersionInfo:
        """Verify every checksum and the signature, then register the version: all of it, or nothing.

        An archive that is unsigned or signed by a site this one does not trust is imported only with
        ``trust_unsigned``. An existing version is replaced only with ``force``, and never while its job
        runs here.
        """
        archive = read_archive(data, source)
        manifest, models, manifest_sha = archive.manifest, archive.models, archive.manifest_sha256
        signer = self._signing.verify(archive.signature, manifest_sha, source, trust_unsigned=trust_unsigned)
        key = manifest.version
        if self._hosts_party is not None and not self._hosts_party(key.party_id):
            raise PartyNotHosted(
                f"{source} holds {key}, and this site does not host party {key.party_id}",
                hint="import each party's archive on the site of that party",
            )
        job = self._job(key)
        if job is not None and not job.status.is_end:
            raise JobStateError(
                f"{key} is being made by job {job.job_id}, which is {job.status.value}",
                hint="wait for the job to end before replacing its models",
                job_id=job.job_id,
            )
        fields = (key.model_id, key.model_version, key.role, key.party_id)
        exists = self._records.find(
            key.model_id, model_version=key.model_version, role=key.role, party_id=key.party_id
        ) or self._records.version(*fields)
        if exists and not force:
            raise ConflictError(
                f"{key} is already on this site",
                hint="pass force (`accord model import --force`) to replace it, or delete it first",
                model_id=key.model_id,
                model_version=key.model_version,
            )
        origin = NewModelVersion(
            source=IMPORTED,
            manifest_sha256=manifest_sha,
            job_type=manifest.job_type,
            job_status=manifest.job_status,
            dsl=manifest.train_dsl,
            runtime_conf=manifest.train_runtime_conf,
            party_plan=manifest.party_plan,
        )
        self._store.install(key, models, origin)
        log.info(
            "imported %s from %s, signed by %s",
            key,
            source,
            f"{signer.subject} ({signer.trusted_by or 'untrusted, accepted with trust_unsigned'})"
            if signer
            else "no one (accepted with trust_unsigned)",
        )
        rows = self._records.find(
            key.model_id, model_version=key.model_version, role=key.role, party_id=key.party_id
        )
        return replace(self._info(key, rows), signer=signer)

    # ---- deleting ---------------------------------------------------------------------------

    def delete(
        self, model_id: str, model_version: str, role: str | None = None, party_id: int | None = None
    ) -> list[ModelVersionInfo]:
        """Remove the matching parties' versions, files and rows; refused while a job still makes one."""
        infos = self.list_models(model_id, model_version, role, party_id)
        if not infos:
            raise _not_found(model_id, model_version, role, party_id)
        for info in infos:
            job = self._job(info.key)
            if job is not None and not job.status.is_end:
                raise JobStateError(
                    f"{info.key} is being made by job {job.job_id}, which is {job.status.value}",
                    hint="stop the job or wait for it to end, then delete",
                    job_id=job.job_id,
                )
        for info in infos:
            self._store.remove(info.key)
        return infos


def _model_key(key: VersionKey, component: str) -> ModelKey:
    return ModelKey(key.model_id, key.model_version, key.role, key.party_id, component)
