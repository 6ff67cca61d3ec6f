"""``/v1/table/grant``, ``/v1/table/revoke`` and ``/v1/table/grant/list``: who may read a site's tables.

In cluster mode a job initiated by another party reads one of this site's tables only if the table is
granted to that party (or to ``*``, every party); FATE's permission check, in its simplest form. A job
this site's own parties initiate needs no grant, and neither does anything in standalone.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Annotated, Any

from fastapi import APIRouter
from pydantic import AliasChoices, BaseModel, BeforeValidator, ConfigDict, Field

from accord.api.schemas import Envelope
from accord.errors import RecordNotFound
from accord.persistence import TableGrantRepository
from accord.storage import TableStore
from accord.storage.names import TableNamePart

log = logging.getLogger(__name__)


def _spelt(value: object) -> object:
    # FATE confs spell party ids as numbers and as strings; both name the same party.
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


Party = Annotated[
    str,
    BeforeValidator(_spelt),
    Field(
        min_length=1,
        max_length=32,
        description="the party id whose jobs may read the table, or '*' for every party",
        examples=["10000", "*"],
    ),
]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class _TableBody(_Body):
    namespace: TableNamePart
    table_name: TableNamePart = Field(validation_alias=AliasChoices("table_name", "name"))


class GrantBody(_TableBody):
    party: Party


class GrantListBody(_Body):
    namespace: str | None = Field(default=None, max_length=255)
    table_name: str | None = Field(
        default=None, max_length=255, validation_alias=AliasChoices("table_name", "name")
    )


def grant_router(
    grants: TableGrantRepository, tables: TableStore, errors: dict[int | str, dict[str, Any]]
) -> APIRouter:
    router = APIRouter(prefix="/v1/table", responses=errors)

    @router.post("/grant")
    async def grant(body: GrantBody) -> Envelope[dict[str, Any]]:
        """Let jobs initiated by ``party`` read the table (cluster mode); granting twice is harmless."""
        if await asyncio.to_thread(tables.find, body.namespace, body.table_name) is None:
            raise RecordNotFound(
                f"table {body.namespace}.{body.table_name} does not exist on this site",
                hint="check the namespace and name with `accord table list`, or upload the table first",
                namespace=body.namespace,
                table_name=body.table_name,
            )
        record, created = await asyncio.to_thread(grants.grant, body.namespace, body.table_name, body.party)
        log.info("table %s.%s granted to party %s", body.namespace, body.table_name, record.party)
        message = "granted" if created else "already granted"
        return Envelope(retmsg=message, data=record.to_dict())

    @router.post("/revoke")
    async def revoke(body: GrantBody) -> Envelope[dict[str, Any]]:
        """Withdraw a grant: later tasks of that party's jobs can no longer read the table."""
        if not await asyncio.to_thread(grants.revoke, body.namespace, body.table_name, body.party):
            raise RecordNotFound(
                f"table {body.namespace}.{body.table_name} is not granted to party {body.party}",
                hint="list the table's grants with `accord table grants -n NS -t NAME`",
                namespace=body.namespace,
                table_name=body.table_name,
            )
        log.info("table %s.%s no longer granted to party %s", body.namespace, body.table_name, body.party)
        return Envelope(
            retmsg="revoked",
            data={"namespace": body.namespace, "table_name": body.table_name, "party": str(body.party)},
        )

    @router.post("/grant/list")
    async def list_grants(body: GrantListBody) -> Envelope[list[dict[str, Any]]]:
        """The grants of the site's tables, optionally of one namespace or table."""
        records = await asyncio.to_thread(grants.list_grants, body.namespace, body.table_name)
        return Envelope(data=[record.to_dict() for record in records])

    return router
