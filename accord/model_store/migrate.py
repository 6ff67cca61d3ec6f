"""``model migrate`` (FATE-Flow's ``/v1/model/migrate``): a model version re-keyed to new party ids.

FATE's request: ``model_id`` and ``model_version`` of the source, its parties ``role``, their new ids
``migrate_role`` (the same roles, lists of the same lengths, position by position),
``migrate_initiator``, the ``execute_party`` whose parts to migrate (their old ids), and an optional
``unify_model_version`` for the new version (a new id by default). Each executing party's part becomes
version ``unify_model_version`` of the model id the new parties make
(``arbiter-100#guest-99#host-100#model``), under the party's new id: every component's model with
the party ids it names re-keyed (:mod:`accord.model_store.rekey`), and a ``pipeline`` entry whose
training conf names the new parties, so the new version loads, binds and predicts as the old one did.

A training version that was never deployed gets the ``pipeline`` entry FATE's training model carries:
the predict DSL of every component. Runs on the site that hosts the executing parties (in standalone,
all of them); a party this site does not host is refused, as is a field Accord does not run.
"""

from __future__ import annotations

import copy
import hashlib
import json
import logging
from dataclasses import dataclass
from typing import Any

from accord.dsl_compiler import generate_predict_dsl
from accord.dsl_compiler.compiler import model_id_for
from accord.errors import (
    ArgumentError,
    ComponentFeatureUnsupported,
    ConflictError,
    JobStateError,
    PartyNotHosted,
    RecordNotFound,
)
from accord.identity import new_job_id
from accord.model_store.rekey import ROLES, PartyMap, rekey_model
from accord.model_store.store import ModelStore, VersionKey, encode_model
from accord.persistence import JobRepository, NewModelVersion
from accord.persistence.records import JobRecord, ModelRecord
from accord.status import JobStatus

log = logging.getLogger(__name__)

PIPELINE = "pipeline"
MIGRATED = "migrate"
# FATE's job_parameters for migrate hold only the federated mode; both of its values run here.
_FEDERATED_MODES = ("SINGLE", "MULTIPLE")


@dataclass(frozen=True)
class MigrateRequest:
    model_id: str
    model_version: str
    role: dict[str, list[int]]
    migrate_role: dict[str, list[int]]
    migrate_initiator: tuple[str, int]
    execute_party: dict[str, list[int]]
    unify_model_version: str

    @property
    def new_model_id(self) -> str:
        return model_id_for({role: tuple(ids) for role, ids in self.migrate_role.items()})

    def party_map(self) -> PartyMap:
        return {
            (role, old): new
            for role, olds in self.role.items()
            for old, new in zip(olds, self.migrate_role[role], strict=True)
        }


def _roles(value: Any, field: str) -> dict[str, list[int]]:
    if not isinstance(value, dict) or not value:
        raise ArgumentError(
            f"{field} must map roles to party-id lists", hint=f'e.g. "{field}": {{"guest": [99]}}'
        )
    out: dict[str, list[int]] = {}
    for role, ids in value.items():
        if role not in ROLES:
            raise ArgumentError(f"{field} names role {role!r}", hint=f"roles are {', '.join(ROLES)}")
        if not isinstance(ids, list) or not ids:
            raise ArgumentError(f"{field}.{role} must be a non-empty list of party ids", hint="e.g. [9999]")
        try:
            out[role] = [int(pid) for pid in ids]
        except (TypeError, ValueError):
            raise ArgumentError(f"{field}.{role} holds {ids!r}, not party ids", hint="give numbers") from None
        if any(pid < 0 for pid in out[role]):
            raise ArgumentError(f"{field}.{role} holds a negative party id", hint="party ids are >= 0")
    return out


def parse_request(body: dict[str, Any]) -> MigrateRequest:
    """FATE's migrate conf, checked; a field FATE has and Accord does not run is refused by name."""
    known = {
        "model_id", "model_version", "role", "migrate_role", "migrate_initiator",
        "execute_party", "unify_model_version", "job_parameters",
    }  # fmt: skip
    unknown = sorted(set(body) - known)
    if unknown:
        raise ArgumentError(
            f"model migrate has no field {', '.join(repr(u) for u in unknown)}",
            hint=f"its fields are {', '.join(sorted(known))}",
        )
    missing = [name for name in ("model_id", "model_version", "role", "migrate_role", "migrate_initiator",
                                 "execute_party") if body.get(name) in (None, "", {})]  # fmt: skip
    if missing:
        raise ArgumentError(
            f"model migrate needs {', '.join(missing)}", hint="see FATE's examples/model/migrate_model.json"
        )
    params = body.get("job_parameters") or {}
    if not isinstance(params, dict) or set(params) - {"federated_mode"}:
        raise ComponentFeatureUnsupported(
            f"job_parameters {sorted(params) if isinstance(params, dict) else params!r} of model migrate: "
            "only federated_mode is run",
            hint='drop the other keys, or give "job_parameters": {"federated_mode": "SINGLE"}',
        )
    mode = params.get("federated_mode", "SINGLE")
    if mode not in _FEDERATED_MODES:
        raise ArgumentError(f"job_parameters.federated_mode {mode!r}", hint="give SINGLE or MULTIPLE")
    role = _roles(body["role"], "role")
    migrate_role = _roles(body["migrate_role"], "migrate_role")
    execute = _roles(body["execute_party"], "execute_party")
    if set(role) != set(migrate_role) or any(len(role[r]) != len(migrate_role[r]) for r in role):
        raise ArgumentError(
            "migrate_role must have the roles of role, with as many party ids each",
            hint="list each role's new ids in the order of its old ones",
        )
    if all({*role[r]} == {*migrate_role[r]} for r in role):
        raise ArgumentError(
            "migrate_role names the same parties as role: there is nothing to migrate",
            hint="give the new party ids in migrate_role",
        )
    for name, ids in execute.items():
        stray = [pid for pid in ids if pid not in role.get(name, [])]
        if stray:
            raise ArgumentError(
                f"execute_party.{name} names {stray}, not parties of role.{name}",
                hint="list the parties (by their old ids) whose part of the model to migrate",
            )
    initiator = body["migrate_initiator"]
    if not isinstance(initiator, dict) or set(initiator) != {"role", "party_id"}:
        raise ArgumentError(
            "migrate_initiator must be {role, party_id}", hint='e.g. {"role": "guest", "party_id": 99}'
        )
    init_role, init_pid = initiator["role"], int(initiator["party_id"])
    if init_pid not in migrate_role.get(init_role, []):
        raise ArgumentError(
            f"migrate_initiator {init_role} {init_pid} is not one of migrate_role's parties",
            hint="the new initiator is one of the new parties",
        )
    version = body.get("unify_model_version") or new_job_id()
    if not isinstance(version, str) or not version.replace("_", "").isalnum() or len(version) > 128:
        raise ArgumentError(
            f"unify_model_version {version!r} is not a plain version name",
            hint="letters, digits and _ (or leave it out for a new id)",
        )
    return MigrateRequest(
        model_id=str(body["model_id"]),
        model_version=str(body["model_version"]),
        role=role,
        migrate_role=migrate_role,
        migrate_initiator=(str(init_role), init_pid),
        execute_party=execute,
        unify_model_version=version,
    )


class ModelMigration:
    """Migrates the parts of the parties this site hosts (``hosts_party``)."""

    def __init__(self, store: ModelStore, jobs: JobRepository, hosts_party: Any) -> None:
        self._store = store
        self._jobs = jobs
        self._hosts_party = hosts_party

    def check_hosted(self, request: MigrateRequest) -> None:
        elsewhere = [
            f"{role} {pid}"
            for role, ids in request.execute_party.items()
            for pid in ids
            if not self._hosts_party(pid)
        ]
        if elsewhere:
            log.warning("refused model migrate of %s for %s: not hosted here", request.model_id, elsewhere)
            raise PartyNotHosted(
                f"execute_party names {', '.join(elsewhere)}, which this site does not host",
                hint="run model migrate on each party's own site, with execute_party naming its parties",
            )

    def check_party(self, request: MigrateRequest, role: str, party_id: int) -> None:
        """Refuse before anything is written: no source version, an unfinished job, a taken target."""
        self._prepare(request, role, party_id)

    def _prepare(
        self, request: MigrateRequest, role: str, party_id: int
    ) -> tuple[VersionKey, VersionKey, list[ModelRecord], JobRecord | None]:
        records = self._store.records
        source = VersionKey(request.model_id, request.model_version, role, party_id)
        rows = records.find(
            request.model_id, model_version=request.model_version, role=role, party_id=party_id
        )
        if not rows:
            raise RecordNotFound(
                f"no {source} on this site",
                hint="check model_id, model_version and role (`accord model list`)",
            )
        job = self._job(source)
        if job is not None and job.status != JobStatus.SUCCESS:
            raise JobStateError(
                f"{source} belongs to job {job.job_id}, which is {job.status.value}: only a finished "
                "model is migrated",
                hint="migrate the model of a job that succeeded",
                job_id=job.job_id,
            )
        new_pid = request.party_map()[(role, party_id)]
        target = VersionKey(request.new_model_id, request.unify_model_version, role, new_pid)
        if records.find(target.model_id, model_version=target.model_version, role=role, party_id=new_pid) or (
            records.version(target.model_id, target.model_version, role, new_pid)
        ):
            raise ConflictError(
                f"{target} exists already: unify_model_version {request.unify_model_version} is taken",
                hint="choose another unify_model_version, or leave it out for a new one",
            )
        return source, target, rows, job

    def migrate_party(self, request: MigrateRequest, role: str, party_id: int) -> VersionKey:
        """One executing party's part, written whole or not at all; its new key."""
        source, target, rows, job = self._prepare(request, role, party_id)
        parties = request.party_map()
        models: dict[str, dict[str, Any]] = {}
        for row in rows:
            model = json.loads(self._store.read_record(row))
            models[row.component_name] = rekey_model(model, parties, f"the model of {row.component_name}")
        origin = self._origin(source, job)
        pipeline = models.get(PIPELINE) or self._training_pipeline(job)
        if pipeline is not None:
            models[PIPELINE] = self._moved_pipeline(pipeline, request, source)
        bodies = {name: encode_model(model) for name, model in models.items()}
        manifest = hashlib.sha256(encode_model({"source": str(source), "models": sorted(bodies)})).hexdigest()
        self._store.install(
            target,
            bodies,
            NewModelVersion(
                source=MIGRATED,
                manifest_sha256=manifest,
                job_type=origin.get("job_type"),
                job_status=JobStatus.SUCCESS.value,
                dsl=origin.get("dsl"),
                runtime_conf=self._moved_conf(origin.get("runtime_conf"), request),
                party_plan=rekey_model(origin["party_plan"], parties, "the party plan")
                if isinstance(origin.get("party_plan"), dict)
                else None,
            ),
        )
        log.info("migrated %s to %s", source, target)
        return target

    # ---- pieces -------------------------------------------------------------------------------

    def _job(self, key: VersionKey) -> JobRecord | None:
        rows = self._jobs.parties(key.model_version, role=key.role, party_id=key.party_id)
        return next((row for row in rows if row.model_id == key.model_id), None)

    def _origin(self, key: VersionKey, job: JobRecord | None) -> dict[str, Any]:
        version = self._store.records.version(key.model_id, key.model_version, key.role, key.party_id)
        if version is not None:
            return {
                "job_type": version.job_type,
                "dsl": version.dsl,
                "runtime_conf": version.runtime_conf,
                "party_plan": version.party_plan,
            }
        if job is None:
            return {}
        plan = next(
            (p for p in (job.plan or {}).get("parties", []) if p.get("role") == key.role
             and p.get("party_id") == key.party_id),
            None,
        )  # fmt: skip
        return {
            "job_type": (job.plan or {}).get("job_type", "train"),
            "dsl": job.dsl,
            "runtime_conf": job.runtime_conf,
            "party_plan": plan,
        }

    @staticmethod
    def _training_pipeline(job: JobRecord | None) -> dict[str, Any] | None:
        """The pipeline entry of a training version that was never deployed: every component's predict DSL."""
        if job is None or not job.dsl:
            return None
        names = list(job.dsl.get("components", {}))
        predict = generate_predict_dsl(job.dsl, names).to_json_dict()
        return {
            "parent_model_version": job.job_id,
            "components": list(predict["components"]),
            "models": [],
            "predict_dsl": predict,
            "train_dsl": job.dsl,
            "train_runtime_conf": job.runtime_conf,
        }

    def _moved_pipeline(
        self, pipeline: dict[str, Any], request: MigrateRequest, source: VersionKey
    ) -> dict[str, Any]:
        moved = copy.deepcopy(pipeline)
        moved["train_runtime_conf"] = self._moved_conf(pipeline.get("train_runtime_conf"), request)
        moved["migrated_from"] = {
            "model_id": source.model_id,
            "model_version": source.model_version,
            "role": source.role,
            "party_id": source.party_id,
        }
        return moved

    @staticmethod
    def _moved_conf(conf: Any, request: MigrateRequest) -> dict[str, Any] | None:
        """The training conf as the new parties' (FATE: role, initiator, model id and version)."""
        if not isinstance(conf, dict):
            return None
        moved = rekey_model(copy.deepcopy(conf), request.party_map(), "the training conf")
        moved["role"] = copy.deepcopy(request.migrate_role)
        role, party_id = request.migrate_initiator
        moved["initiator"] = {"role": role, "party_id": party_id}
        common = moved.setdefault("job_parameters", {}).setdefault("common", {})
        if isinstance(common, dict):
            common["model_id"] = request.new_model_id
            common["model_version"] = request.unify_model_version
        return moved
