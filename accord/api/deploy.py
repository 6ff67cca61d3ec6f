"""FATE-Flow's ``/v1/model/deploy`` and ``/v1/model/get/predict/{dsl,conf}`` over ModelDeployment."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter
from pydantic import Field

from accord.api.schemas import Envelope, ModelVersionBody
from accord.site.deploy import ModelDeployment


class DeployBody(ModelVersionBody):
    cpn_list: str | list[str] = Field(
        description="the components to deploy: 'a,b,c' or a list, as FATE-Flow takes them"
    )


def deploy_router(deployment: ModelDeployment, errors: dict[int | str, dict[str, Any]]) -> APIRouter:
    router = APIRouter(prefix="/v1/model", responses=errors)

    @router.post("/deploy")
    async def deploy(body: DeployBody) -> Envelope[dict[str, Any]]:
        """A new model version of the listed components, on every party of the model."""
        deployed = await deployment.deploy(body.model_id, body.model_version, body.cpn_list)
        return Envelope(
            data={
                "model_id": deployed.model_id,
                "model_version": deployed.model_version,
                "components": list(deployed.components),
                "dsl": deployed.predict_dsl,
            }
        )

    @router.post("/get/predict/dsl")
    async def predict_dsl(body: ModelVersionBody) -> Envelope[dict[str, Any]]:
        """The predict DSL of a deployed version."""
        return Envelope(
            data=await asyncio.to_thread(deployment.predict_dsl, body.model_id, body.model_version)
        )

    @router.post("/get/predict/conf")
    async def predict_conf(body: ModelVersionBody) -> Envelope[dict[str, Any]]:
        """A predict conf for a deployed version, with the training job's parties and readers."""
        return Envelope(
            data=await asyncio.to_thread(deployment.predict_conf, body.model_id, body.model_version)
        )

    return router
