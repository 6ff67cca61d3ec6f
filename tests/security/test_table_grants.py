"""Consent to use a table: in cluster mode a job another party initiated reads a table only if granted.

The attack: the host starts a job naming the guest's table for the guest's Reader; before grants, the
guest's site ran it and handed its data to the pipeline. Two real sites (own Temporal, own PostgreSQL,
mutual TLS) show the refusal, the grant and the revocation; the CLI and API run against real sites.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
from fastapi import FastAPI
from temporalio.testing import WorkflowEnvironment

from accord.api.app import create_app
from accord.errors import ArgumentError, RecordNotFound, TableNotGranted
from accord.persistence import Database, TableGrantRepository
from accord.status import JobStatus, TaskStatus
from tests.api.helpers import accord
from tests.cluster.federation import ARBITER, GUEST, HOST, Federation, federation_settings
from tests.cluster.test_three_sites import upload
from tests.http_server import serve_http
from tests.pg_server import PostgresServer
from tests.scheduling.harness import RunningSite
from tests.temporal_env import temporal_environment

ASYNC = pytest.mark.asyncio(loop_scope="session")

NAMESPACE, GUEST_TABLE, HOST_TABLE = "experiment", "breast_hetero_guest", "breast_hetero_host"
GRANT = f"accord table grant -n {NAMESPACE} -t {GUEST_TABLE} --party {HOST}"


def reader_job(initiator: tuple[str, int]) -> tuple[dict[str, Any], dict[str, Any]]:
    """A two-party job of one Reader per party, each naming its own party's table."""
    dsl = {"components": {"reader_0": {"module": "Reader", "output": {"data": ["data"]}}}}

    def table(name: str) -> dict[str, Any]:
        return {"0": {"reader_0": {"table": {"namespace": NAMESPACE, "name": name}}}}

    conf = {
        "dsl_version": 2,
        "initiator": {"role": initiator[0], "party_id": initiator[1]},
        "role": {"guest": [GUEST], "host": [HOST]},
        "job_parameters": {"common": {"task_cores": 1}},
        "component_parameters": {"role": {"guest": table(GUEST_TABLE), "host": table(HOST_TABLE)}},
    }
    return dsl, conf


def upload_ungranted(site: RunningSite, side: str) -> None:
    """The three-site tests' upload, without the grant it gives the guest."""
    upload(site, side)
    TableGrantRepository(site.site.database).revoke(NAMESPACE, f"breast_hetero_{side}", GUEST)


def grants_app(site: RunningSite) -> FastAPI:
    return create_app(
        site.site.jobs, tables=site.site.tables, grants=TableGrantRepository(site.site.database)
    )


# ---- the repository ----------------------------------------------------------------------------


def test_grants_are_kept_per_table_and_party(tmp_path: Path) -> None:
    with Database(f"sqlite:///{tmp_path / 'accord.db'}") as database:
        database.migrate()
        grants = TableGrantRepository(database)
        assert not grants.allows(NAMESPACE, GUEST_TABLE, HOST)
        record, created = grants.grant(NAMESPACE, GUEST_TABLE, HOST)
        assert created and record.party == str(HOST)
        assert grants.grant(NAMESPACE, GUEST_TABLE, str(HOST))[1] is False  # granting twice: one grant
        assert grants.allows(NAMESPACE, GUEST_TABLE, HOST)
        assert not grants.allows(NAMESPACE, GUEST_TABLE, ARBITER)
        assert not grants.allows(NAMESPACE, HOST_TABLE, HOST)
        grants.grant(NAMESPACE, HOST_TABLE, "*")
        assert grants.allows(NAMESPACE, HOST_TABLE, ARBITER)
        assert [(g.name, g.party) for g in grants.list_grants(NAMESPACE)] == [
            (GUEST_TABLE, str(HOST)),
            (HOST_TABLE, "*"),
        ]
        assert grants.revoke(NAMESPACE, GUEST_TABLE, HOST) and not grants.revoke(NAMESPACE, GUEST_TABLE, HOST)
        assert not grants.allows(NAMESPACE, GUEST_TABLE, HOST)
        for bad in ("guest", "-1", "012", "", "1" * 40):
            with pytest.raises(ArgumentError, match="neither a party id nor"):
                grants.grant(NAMESPACE, GUEST_TABLE, bad)


# ---- HTTP API and CLI on a real standalone site -------------------------------------------------


@ASYNC
async def test_api_grants_revokes_and_lists(site: RunningSite) -> None:
    upload_ungranted(site, "guest")
    transport = httpx.ASGITransport(app=grants_app(site))
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as api:
        body = {"namespace": NAMESPACE, "table_name": GUEST_TABLE, "party": HOST}
        granted = await api.post("/v1/table/grant", json=body)
        assert granted.status_code == 200 and granted.json()["retmsg"] == "granted", granted.text
        again = (await api.post("/v1/table/grant", json={**body, "party": str(HOST)})).json()
        assert again["retcode"] == 0 and again["retmsg"] == "already granted"
        everyone = await api.post("/v1/table/grant", json={**body, "party": "*"})
        assert everyone.json()["data"]["party"] == "*"

        listed = (await api.post("/v1/table/grant/list", json={"namespace": NAMESPACE})).json()
        assert [g["party"] for g in listed["data"]] == ["*", str(HOST)]
        assert (await api.post("/v1/table/grant/list", json={"table_name": "other"})).json()["data"] == []

        missing = await api.post("/v1/table/grant", json={**body, "table_name": "no_such"})
        assert missing.status_code == 404 and missing.json()["retcode"] == RecordNotFound.code
        bad = await api.post("/v1/table/grant", json={**body, "party": "host"})
        assert bad.status_code == 400 and "'*'" in bad.json()["retmsg"]
        unknown = await api.post("/v1/table/grant", json={**body, "parties": [1]})
        assert unknown.status_code == 400 and "parties" in unknown.json()["retmsg"]

        revoked = await api.post("/v1/table/revoke", json=body)
        assert revoked.status_code == 200 and revoked.json()["retmsg"] == "revoked"
        twice = await api.post("/v1/table/revoke", json=body)
        assert twice.status_code == 404 and "accord table grants" in twice.json()["retmsg"]
        paths = (await api.get("/openapi.json")).json()["paths"]
        assert {"/v1/table/grant", "/v1/table/revoke", "/v1/table/grant/list"} <= set(paths)


@ASYNC
async def test_cli_grant_grants_and_revoke(site: RunningSite, tmp_path: Path) -> None:
    upload_ungranted(site, "guest")
    table = ("-n", NAMESPACE, "-t", GUEST_TABLE)
    async with serve_http(grants_app(site), site.settings.http_host, site.settings.http_port) as address:

        async def run(*args: str) -> tuple[int, dict[str, Any]]:
            done = await accord("table", *args, server=address, home=tmp_path)
            return done.returncode, done.envelope

        code, granted = await run("grant", *table, "--party", str(HOST))
        assert code == 0 and granted["data"]["party"] == str(HOST), granted
        code, listed = await run("grants", *table)
        assert code == 0 and [g["party"] for g in listed["data"]] == [str(HOST)]
        code, revoked = await run("revoke", *table, "--party", str(HOST))
        assert code == 0 and revoked["retmsg"] == "revoked"
        code, listed = await run("grants")
        assert code == 0 and listed["data"] == []
        code, bad = await run("grant", *table, "--party", "everyone")
        assert code == 2 and bad["retcode"] == ArgumentError.code


# ---- two sites with mutual TLS -----------------------------------------------------------------


@pytest_asyncio.fixture(loop_scope="session")
async def two_sites(tmp_path: Path, postgres_server: PostgresServer) -> AsyncIterator[Federation]:
    """The guest's and the host's sites, each with its own Temporal and PostgreSQL, mutual TLS."""
    async with temporal_environment() as guest, temporal_environment() as host:
        # Only the guest and the host run; the arbiter's settings are made but its site never starts.
        temporal: dict[int, WorkflowEnvironment] = {GUEST: guest, HOST: host, ARBITER: host}
        ca_dir, settings = federation_settings(tmp_path, temporal, postgres_server)
        federation = Federation(settings=settings, temporal=temporal, ca_dir=ca_dir)
        try:
            for party_id, side in ((GUEST, "guest"), (HOST, "host")):
                upload(await federation.start(party_id), side)
            yield federation
        finally:
            await federation.stop_all()


@ASYNC
async def test_a_job_another_party_initiated_reads_a_table_only_while_granted(
    two_sites: Federation, tmp_path: Path
) -> None:
    guest, host = two_sites.site(GUEST), two_sites.site(HOST)
    guest_grants = TableGrantRepository(guest.site.database)
    # What upload() granted for the three-site tests: the guest may read the host's table.
    guest_grants.revoke(NAMESPACE, GUEST_TABLE, GUEST)

    async def host_job() -> tuple[str, JobStatus, str]:
        job_id = await host.submit(*reader_job(("host", HOST)))
        result = await host.site.jobs.wait(job_id)
        return job_id, result.status, result.reason

    job_id, status, reason = await host_job()
    assert status == JobStatus.FAILED
    # The guest's Reader failed, with the code and the very command that would grant the table.
    assert "reader_0" in reason and str(TableNotGranted.code) in reason and GRANT in reason, reason
    [task] = guest.tasks.latest(job_id, component_name="reader_0")
    assert task.status == TaskStatus.FAILED

    async with serve_http(grants_app(guest), guest.settings.http_host, guest.settings.http_port) as address:
        granted = await accord(*GRANT.split()[1:], server=address, home=tmp_path)
        assert granted.returncode == 0, granted.stdout + granted.stderr
        _, status, reason = await host_job()
        assert status == JobStatus.SUCCESS, reason

        revoke = GRANT.replace(" grant ", " revoke ").split()[1:]
        revoked = await accord(*revoke, server=address, home=tmp_path)
        assert revoked.returncode == 0, revoked.stdout + revoked.stderr
        _, status, reason = await host_job()
        assert status == JobStatus.FAILED and GRANT in reason, reason

    # A job the guest initiates reads the guest's own table without any grant of it.
    guest_job = await guest.submit(*reader_job(("guest", GUEST)))
    assert (await guest.site.jobs.wait(guest_job)).status == JobStatus.SUCCESS


@ASYNC
async def test_standalone_needs_no_grant(
    make_site: Callable[..., Awaitable[RunningSite]],
) -> None:
    site = await make_site()
    upload(site, "guest")
    upload(site, "host")
    result = await site.run(*reader_job(("host", HOST)))
    assert result.status == JobStatus.SUCCESS, result.reason
