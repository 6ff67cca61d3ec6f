"""FATE-Flow's ``/v1/tracking/component/...`` endpoints over :class:`TrackingService`."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter
from fastapi.responses import Response
from pydantic import Field

from accord.api.schemas import Envelope, JobId, PartyId, Role, _Body
from accord.site.tracking import TrackingService


class ComponentBody(_Body):
    job_id: JobId
    role: Role
    party_id: PartyId
    component_name: str = Field(min_length=1, max_length=128)


class PartyJobBody(_Body):
    job_id: JobId
    role: Role
    party_id: PartyId


class MetricBody(ComponentBody):
    metric_namespace: str | None = None
    metric_name: str | None = None


class OutputDataBody(ComponentBody):
    output: str | None = Field(default=None, description="the data output's name; the first by default")


def tracking_router(tracking: TrackingService, errors: dict[int | str, dict[str, Any]]) -> APIRouter:
    router = APIRouter(prefix="/v1/tracking", responses=errors)

    @router.post("/component/list")
    async def components(body: PartyJobBody) -> Envelope[list[dict[str, Any]]]:
        """The job's components on this party, with their modules and outputs."""
        return Envelope(
            data=await asyncio.to_thread(tracking.components, body.job_id, body.role, body.party_id)
        )

    @router.post("/component/metrics")
    async def metric_names(body: ComponentBody) -> Envelope[dict[str, list[str]]]:
        """Metric names by namespace."""
        data = await asyncio.to_thread(
            tracking.metric_names, body.job_id, body.role, body.party_id, body.component_name
        )
        return Envelope(data=data)

    @router.post("/component/metric/all")
    async def metric_all(body: MetricBody) -> Envelope[dict[str, dict[str, Any]]]:
        """Every metric's points and meta (or the one named), by namespace and name."""
        data = await asyncio.to_thread(
            lambda: tracking.metrics(
                body.job_id,
                body.role,
                body.party_id,
                body.component_name,
                namespace=body.metric_namespace,
                name=body.metric_name,
            )
        )
        return Envelope(data=data)

    @router.post("/component/parameters")
    async def parameters(body: ComponentBody) -> Envelope[dict[str, Any]]:
        """The component's parameters on this party, merged as the job ran them."""
        data = await asyncio.to_thread(
            tracking.parameters, body.job_id, body.role, body.party_id, body.component_name
        )
        return Envelope(data=data)

    @router.post("/component/output/model")
    async def output_model(body: ComponentBody) -> Envelope[dict[str, Any]]:
        """The model the component saved on this party, as stored (JSON)."""
        data = await asyncio.to_thread(
            tracking.output_model, body.job_id, body.role, body.party_id, body.component_name
        )
        return Envelope(data=data)

    @router.post("/component/output/data")
    async def output_data(body: OutputDataBody) -> Envelope[dict[str, Any]]:
        """The first rows of the component's output data, its header and row count."""
        data = await asyncio.to_thread(
            lambda: tracking.output_data(
                body.job_id, body.role, body.party_id, body.component_name, output=body.output
            )
        )
        return Envelope(data=data)

    @router.post(
        "/component/output/data/download",
        response_class=Response,
        responses={
            200: {
                "description": "the component's whole output data as CSV",
                "content": {"text/csv": {"schema": {"type": "string"}}},
            },
            **errors,
        },
    )
    async def output_data_download(body: OutputDataBody) -> Response:
        """The component's whole output data as CSV."""
        lines = await asyncio.to_thread(
            lambda: list(
                tracking.output_csv(
                    body.job_id, body.role, body.party_id, body.component_name, output=body.output
                )
            )
        )
        name = f"{body.job_id}_{body.component_name}_{body.role}_{body.party_id}.csv"
        return Response(
            "".join(lines),
            media_type="text/csv",
            headers={"content-disposition": f'attachment; filename="{name}"'},
        )

    return router
