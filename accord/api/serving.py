"""FATE-Flow's ``/v1/model/load`` and ``/v1/model/bind``: publish a model for online inference."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import Field

from accord.api.schemas import Envelope, ModelVersionBody, PartyId
from accord.serving import ServingService, TableName


class LoadBody(ModelVersionBody):
    tables: dict[PartyId, TableName] | None = Field(
        default=None,
        description="host party id → {namespace, name}: the table a host looks rows up in by sample "
        "id; by default the table its reader read in the training job",
    )


class BindBody(ModelVersionBody):
    service_id: str = Field(min_length=1, max_length=128)


def serving_router(serving: ServingService, errors: dict[int | str, dict[str, Any]]) -> APIRouter:
    router = APIRouter(prefix="/v1/model", responses=errors)

    @router.post("/load")
    async def load(body: LoadBody) -> Envelope[dict[str, Any]]:
        """Publish a model on every party for online inference (run on the guest's site)."""
        loaded = await serving.load(body.model_id, body.model_version, body.tables)
        return Envelope(
            data={
                "model_id": loaded.model_id,
                "model_version": loaded.model_version,
                "parties": [part.model_dump(mode="json") for part in loaded.parts],
            }
        )

    @router.post("/bind")
    async def bind(body: BindBody) -> Envelope[dict[str, Any]]:
        """Point a service id at a loaded model version; requests name the service id from then on."""
        binding = await serving.bind(body.service_id, body.model_id, body.model_version)
        return Envelope(data={"service_id": body.service_id, **binding.model_dump(mode="json")})

    return router
