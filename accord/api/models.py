"""FATE-Flow's ``/v1/model/{query,export,import,delete}`` over :class:`~accord.model_store.ModelService`.

``/v1/model/import`` takes the archive itself as the request body (``application/zip`` or
``application/octet-stream``, ``?force=true`` to replace, ``?trust_unsigned=true`` to accept an
unsigned archive or one from a signer the site does not trust), or, like ``/v1/data/upload``, a JSON
body naming a ``file`` on the site (with ``force`` and ``trust_unsigned`` fields).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from pydantic import AliasChoices, Field, ValidationError

from accord.api.schemas import Envelope, ModelId, ModelVersion, ModelVersionBody, PartyId, Role, _Body
from accord.errors import ArgumentError
from accord.model_store import ModelService
from accord.model_store.store import sha256
from accord.storage.intake import server_file

ZIP = "application/zip"
ARCHIVE_SHA_HEADER = "X-Archive-Sha256"
# Far above any archive of JSON models; a body this big is not one.
MAX_IMPORT_BYTES = 1 << 30


class ModelQueryBody(_Body):
    model_id: ModelId | None = None
    model_version: ModelVersion | None = None
    role: Role | None = None
    party_id: PartyId | None = None
    include_models: bool = Field(
        default=False, description="add each component's model JSON (needs model_id and model_version)"
    )


class PartyVersionBody(ModelVersionBody):
    role: Role
    party_id: PartyId


class ModelDeleteBody(ModelVersionBody):
    role: Role | None = Field(default=None, description="only this role's versions; all by default")
    party_id: PartyId | None = None


class ModelImportBody(_Body):
    file: str = Field(min_length=1, description="the archive's path on the site")
    force: bool = Field(
        default=False,
        validation_alias=AliasChoices("force", "force_update"),
        description="replace the version if the site already holds it",
    )
    trust_unsigned: bool = Field(
        default=False,
        description="accept an unsigned archive, or one signed by a site this one does not trust "
        "(logged as a warning)",
    )


def _archive_name(body: PartyVersionBody) -> str:
    return quote(f"{body.model_id}_{body.model_version}_{body.role}_{body.party_id}.zip", safe="")


def model_router(
    models: ModelService, errors: dict[int | str, dict[str, Any]], *, upload_roots: Sequence[Path] = ()
) -> APIRouter:
    router = APIRouter(prefix="/v1/model", responses=errors)

    @router.post("/query")
    async def query(body: ModelQueryBody) -> Envelope[list[dict[str, Any]]]:
        """Model versions on this site, one entry per party, newest first.

        Given model_id and model_version, each entry also carries the training DSL, runtime conf and
        the party's plan, and with include_models every component's model.
        """
        if body.model_id is not None and body.model_version is not None:
            model_id, version = body.model_id, body.model_version
            data = await asyncio.to_thread(
                lambda: models.query(
                    model_id, version, body.role, body.party_id, with_models=body.include_models
                )
            )
            return Envelope(data=data)
        if body.include_models:
            raise ArgumentError(
                "include_models needs one model version", hint="give model_id and model_version too"
            )
        infos = await asyncio.to_thread(
            models.list_models, body.model_id, body.model_version, body.role, body.party_id
        )
        return Envelope(data=[info.to_dict() for info in infos])

    @router.post(
        "/export",
        response_class=Response,
        responses={
            200: {
                "description": "one party's model version as a zip archive (manifest.json, "
                "manifest.sha256, models/*.json)",
                "content": {ZIP: {"schema": {"type": "string", "format": "binary"}}},
            }
        },
    )
    async def export(body: PartyVersionBody) -> Response:
        """One party's version as a portable, checksummed archive signed by this site."""
        data = await asyncio.to_thread(
            models.export_bytes, body.model_id, body.model_version, body.role, body.party_id
        )
        headers = {
            "Content-Disposition": f"attachment; filename*=UTF-8''{_archive_name(body)}",
            ARCHIVE_SHA_HEADER: sha256(data),
        }
        return Response(content=data, media_type=ZIP, headers=headers)

    @router.post(
        "/import",
        openapi_extra={
            "requestBody": {
                "required": True,
                "content": {
                    ZIP: {"schema": {"type": "string", "format": "binary"}},
                    "application/json": {"schema": ModelImportBody.model_json_schema()},
                },
            },
        },
    )
    async def import_(
        request: Request,
        force: Annotated[
            bool, Query(description="with an archive body: replace the version if the site holds it")
        ] = False,
        trust_unsigned: Annotated[
            bool,
            Query(
                description="with an archive body: accept it unsigned or from a signer the site does "
                "not trust"
            ),
        ] = False,
    ) -> Envelope[dict[str, Any]]:
        """Import an archive `export` wrote: every checksum and the exporting site's signature are
        verified, and nothing is kept on error."""
        if request.headers.get("content-type", "").startswith("application/json"):
            try:
                conf = ModelImportBody.model_validate_json(await request.body())
            except ValidationError as error:
                raise RequestValidationError(
                    [{**e, "loc": ("body", *e["loc"])} for e in error.errors()]
                ) from None
            # As for uploads: a file of the site's own only below upload_roots, never a client's pick.
            path = await asyncio.to_thread(server_file, conf.file, upload_roots)
            info = await asyncio.to_thread(
                lambda: models.import_(path, force=conf.force, trust_unsigned=conf.trust_unsigned)
            )
            return Envelope(data=info.to_dict())
        declared = int(request.headers.get("content-length") or 0)
        if declared > MAX_IMPORT_BYTES:
            raise ArgumentError(
                f"the request body is {declared} bytes, more than a model archive can be",
                hint="send the file `accord model export` wrote",
            )
        data = await request.body()
        if not data:
            raise ArgumentError(
                "the request has no body",
                hint="send the archive as the body (Content-Type: application/zip), or JSON naming "
                "a file on the site",
            )
        info = await asyncio.to_thread(
            lambda: models.import_bytes(
                data, force=force, trust_unsigned=trust_unsigned, source="the uploaded archive"
            )
        )
        return Envelope(data=info.to_dict())

    @router.post("/delete")
    async def delete(body: ModelDeleteBody) -> Envelope[list[dict[str, Any]]]:
        """Delete a version's models on this site (of one role or party if given); the versions deleted."""
        infos = await asyncio.to_thread(
            models.delete, body.model_id, body.model_version, body.role, body.party_id
        )
        return Envelope(data=[info.to_dict() for info in infos])

    return router
