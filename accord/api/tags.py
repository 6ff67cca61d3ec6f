"""FATE-Flow's tags (``/v1/model/tag/...``), tags on model versions (``/v1/model/model_tag/...``) and
``/v1/model/get/model/info``."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

from fastapi import APIRouter
from pydantic import Field

from accord.api.schemas import Envelope, JobId, ModelId, ModelVersion, PartyId, Role, _Body
from accord.errors import RecordNotFound
from accord.model_store import ModelService
from accord.persistence import Database, TagRepository
from accord.settings import Settings

TagName = Annotated[str, Field(min_length=1, max_length=255, pattern=r"^[^\x00-\x1f\x7f]+$")]


class TagBody(_Body):
    tag_name: TagName


class TagCreateBody(TagBody):
    tag_desc: str = Field(default="", max_length=4096)


class TagUpdateBody(TagBody):
    new_tag_name: TagName | None = None
    new_tag_desc: str | None = Field(default=None, max_length=4096)


class TagQueryBody(TagBody):
    with_model: bool = False


class TagListBody(_Body):
    limit: int = Field(default=10, ge=1, le=10_000)


class ModelTagBody(_Body):
    job_id: JobId = Field(description="the model version (a training job's id) to tag")
    tag_name: TagName


class ModelTagListBody(_Body):
    job_id: JobId


class ModelInfoBody(_Body):
    model_id: ModelId
    model_version: ModelVersion
    role: Role | None = None
    party_id: PartyId | None = None


def tag_router(
    database: Database,
    settings: Settings,
    models: ModelService | None,
    errors: dict[int | str, dict[str, Any]],
) -> APIRouter:
    router = APIRouter(prefix="/v1/model", responses=errors)
    tags = TagRepository(database)

    @router.post("/tag/create")
    async def create(body: TagCreateBody) -> Envelope[dict[str, Any]]:
        """A new tag; a name in use is refused."""
        return Envelope(data=(await asyncio.to_thread(tags.create, body.tag_name, body.tag_desc)).to_dict())

    @router.post("/tag/update")
    async def update(body: TagUpdateBody) -> Envelope[dict[str, Any]]:
        """Rename a tag or change its description; its models keep it."""
        tag = await asyncio.to_thread(
            lambda: tags.update(body.tag_name, new_name=body.new_tag_name, new_description=body.new_tag_desc)
        )
        return Envelope(data=tag.to_dict())

    @router.post("/tag/list")
    async def list_tags(body: TagListBody) -> Envelope[dict[str, Any]]:
        """The newest tags, with how many model versions each labels."""
        found = await asyncio.to_thread(lambda: tags.list_tags(limit=body.limit))
        return Envelope(data={"tags": [t.to_dict() for t in found], "count": len(found)})

    @router.post("/tag/retrieve")
    async def query(body: TagQueryBody) -> Envelope[dict[str, Any]]:
        """One tag, with the model versions it labels if ``with_model``."""
        tag = await asyncio.to_thread(tags.get, body.tag_name)
        data = tag.to_dict()
        if body.with_model:
            data["models"] = list(tag.model_versions)
        return Envelope(data=data)

    @router.post("/tag/destroy")
    async def destroy(body: TagBody) -> Envelope[None]:
        """Delete a tag and take it off every model version."""
        await asyncio.to_thread(tags.delete, body.tag_name)
        return Envelope(retmsg=f"tag {body.tag_name!r} deleted")

    def check_version(version: str) -> None:
        if models is not None and not models.list_models(model_version=version):
            raise RecordNotFound(
                f"this site holds no model version {version}",
                hint="tag the version of a job that trained here (`accord model list`)",
                model_version=version,
            )

    @router.post("/model_tag/create")
    async def tag_model(body: ModelTagBody) -> Envelope[dict[str, Any]]:
        """Tag a model version (creating the tag if new)."""
        await asyncio.to_thread(check_version, body.job_id)
        added = await asyncio.to_thread(tags.tag_model, body.job_id, body.tag_name)
        return Envelope(data={"tag_name": body.tag_name, "model_version": body.job_id, "added": added})

    @router.post("/model_tag/remove")
    async def untag_model(body: ModelTagBody) -> Envelope[dict[str, Any]]:
        """Take a tag off a model version."""
        removed = await asyncio.to_thread(tags.untag_model, body.job_id, body.tag_name)
        if not removed:
            raise RecordNotFound(f"model version {body.job_id} has no tag {body.tag_name!r}")
        return Envelope(data={"tag_name": body.tag_name, "model_version": body.job_id, "removed": True})

    @router.post("/model_tag/retrieve")
    async def model_tags(body: ModelTagListBody) -> Envelope[list[dict[str, Any]]]:
        """The tags on a model version."""
        found = await asyncio.to_thread(tags.model_tags, body.job_id)
        return Envelope(data=[{"name": t.name, "description": t.description} for t in found])

    @router.post("/get/model/info")
    async def model_info(body: ModelInfoBody) -> Envelope[list[dict[str, Any]]]:
        """Each matching party's version: components, checksums, source, and its tags."""
        if models is None:
            raise RecordNotFound("this site keeps no models")

        def read() -> list[dict[str, Any]]:
            assert models is not None
            infos = models.list_models(body.model_id, body.model_version, body.role, body.party_id)
            hosted = [i for i in infos if settings.hosts_party(i.key.party_id)]
            if not hosted:
                raise RecordNotFound(
                    f"no model {body.model_id} version {body.model_version} on this site",
                    hint="list the site's versions with `accord model list`",
                )
            tagged = [t.name for t in tags.model_tags(body.model_version)]
            return [i.to_dict() | {"tags": tagged} for i in hosted]

        return Envelope(data=await asyncio.to_thread(read))

    return router
