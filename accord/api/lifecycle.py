"""FATE-Flow's ``/v1/checkpoint/list|get`` and ``/v1/model/migrate``.

Checkpoints are read by :class:`~accord.site.checkpoints.CheckpointReader` (a site answers only for its
own parties); migrate runs :mod:`accord.model_store.migrate` on the executing parties this site hosts
and answers as FATE does: per role and party the retcode of its part, and under ``detail`` each part's
retcode and message, with the new model id and version.
"""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter
from pydantic import Field

from accord.api.schemas import ComponentName, Envelope, ModelId, ModelVersion, PartyId, Role, _Body
from accord.errors import AccordError
from accord.model_store import ModelService
from accord.model_store.migrate import ModelMigration, parse_request
from accord.persistence import Database, JobRepository
from accord.settings import Settings
from accord.site.checkpoints import CheckpointQuery, CheckpointReader


class CheckpointListBody(_Body):
    model_id: ModelId
    model_version: ModelVersion
    role: Role
    party_id: PartyId
    component_name: ComponentName

    def query(self) -> CheckpointQuery:
        return CheckpointQuery(
            self.model_id, self.model_version, self.role, self.party_id, self.component_name
        )


class CheckpointGetBody(CheckpointListBody):
    step_index: int | None = Field(default=None, ge=0, description="the checkpoint's step (iteration)")
    step_name: str | None = Field(default=None, min_length=1, max_length=100)


class PartyRef(_Body):
    role: Role
    party_id: PartyId


class MigrateBody(_Body):
    """FATE's migrate conf (fate_flow/examples/migrate_model.json)."""

    model_id: ModelId
    model_version: ModelVersion
    role: dict[Role, list[PartyId]] = Field(description="the model's parties, by role")
    migrate_role: dict[Role, list[PartyId]] = Field(description="their new ids, position by position")
    migrate_initiator: PartyRef
    execute_party: dict[Role, list[PartyId]] = Field(description="whose parts to migrate (old ids)")
    unify_model_version: str | None = Field(
        default=None, pattern=r"^[A-Za-z0-9_]{1,128}$", description="the new version; a new id by default"
    )
    job_parameters: dict[str, Any] | None = Field(default=None, description='{"federated_mode": "SINGLE"}')


def lifecycle_router(
    settings: Settings,
    database: Database,
    models: ModelService | None,
    errors: dict[int | str, dict[str, Any]],
) -> APIRouter:
    router = APIRouter(prefix="/v1", responses=errors)
    jobs = JobRepository(database)
    reader = CheckpointReader(settings, jobs, models.store if models is not None else None)

    @router.post("/checkpoint/list")
    async def checkpoint_list(body: CheckpointListBody) -> Envelope[list[dict[str, Any]]]:
        """The checkpoints (ModelCheckpoint) a component saved on one party of this site, by step."""
        return Envelope(data=await asyncio.to_thread(reader.list, body.query()))

    @router.post("/checkpoint/get")
    async def checkpoint_get(body: CheckpointGetBody) -> Envelope[dict[str, Any]]:
        """One checkpoint with its model, by step_index or step_name (the last saved under it)."""
        found = await asyncio.to_thread(reader.get, body.query(), body.step_index, body.step_name)
        return Envelope(data=found)

    if models is None:
        return router
    migration = ModelMigration(models.store, jobs, settings.hosts_party)

    @router.post("/model/migrate")
    async def migrate(body: MigrateBody) -> Envelope[dict[str, Any]]:
        """FATE's migrate conf: the executing parties' parts of a model version under new party ids."""
        parsed = parse_request(body.model_dump(exclude_none=True))
        migration.check_hosted(parsed)
        # Every part is checked before any is written, so a refusal leaves nothing half migrated.
        for role, ids in parsed.execute_party.items():
            for party_id in ids:
                await asyncio.to_thread(migration.check_party, parsed, role, party_id)

        def run() -> tuple[dict[str, Any], bool]:
            status: dict[str, Any] = {"detail": {}}
            ok = True
            for role, ids in parsed.execute_party.items():
                status.setdefault(role, {})
                status["detail"].setdefault(role, {})
                for party_id in ids:
                    try:
                        new = migration.migrate_party(parsed, role, party_id)
                    except AccordError as error:
                        ok = False
                        status[role][str(party_id)] = error.code
                        status["detail"][role][str(party_id)] = {
                            "retcode": error.code,
                            "retmsg": error.retmsg,
                        }
                        continue
                    status[role][str(party_id)] = 0
                    status["detail"][role][str(party_id)] = {
                        "retcode": 0,
                        "retmsg": f"migrated: new model id {new.model_id}, model version "
                        f"{new.model_version}, party {new.role} {new.party_id}",
                        "model_id": new.model_id,
                        "model_version": new.model_version,
                        "migrate_party_id": new.party_id,
                    }
            return status, ok

        status, ok = await asyncio.to_thread(run)
        version = parsed.unify_model_version
        if ok:
            return Envelope(data=status, jobId=version)
        # FATE answers 101 with the per-party codes when a part failed.
        return Envelope(retcode=101, retmsg="failed", data=status, jobId=version)

    return router
