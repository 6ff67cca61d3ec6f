"""The reuse probe from the initiator's activity to a site's handler, over real gRPC on loopback."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any, cast

import pytest
from temporalio.testing import ActivityEnvironment

from accord.activities.federation import FederationActivities
from accord.activities.reuse import TaskReuse
from accord.components import TaskContext
from accord.contracts import ReuseProbe
from accord.errors import NotAPartyOfJob, PermissionDenied, RecordNotFound, ReuseUnavailable
from accord.federation.client import FederationClient
from accord.federation.commands import ProbeReuse, ReuseOffer
from accord.federation.routes import RouteTable
from accord.federation.server import FederationServer
from accord.identity import Party, ReuseCandidate
from accord.persistence import Database, NewTask, TaskKey
from accord.site.control import SiteControl
from accord.wiring import SiteStores
from tests.site.test_reuse import GUEST, HOST, J1, J2, Site, _plan
from tests.support import loopback_settings

# This helper's block of ports (23200-23299).
PORT = 23217
OTHER = Party(role="host", party_id=10001)
EXPECTED = ReuseCandidate(job_id=J1, component="reader_0", task_version=0)


@pytest.fixture
def site(tmp_path: Path) -> Site:
    # Hosts the job's two parties only, so a probe for any other party is refused.
    settings = loopback_settings(tmp_path / "home", local_party_ids=(9999, 10000))
    database = Database.from_settings(settings)
    database.migrate()
    found = Site(SiteStores.open(settings, database), settings.home)
    found.upload("breast")
    found.pipeline(J1)
    found.create(_plan(J2), J2)
    return found


def _control(site: Site) -> SiteControl:
    stores = site.stores
    settings = loopback_settings(site.home, local_party_ids=(9999, 10000))
    # Probes signal no workflow: the Temporal client is never used.
    return SiteControl(
        settings,
        cast(Any, None),
        stores.jobs,
        stores.tasks,
        stores.resources,
        stores.models,
        reuse=stores.reuse,
    )


@pytest.fixture
async def client(site: Site) -> AsyncIterator[FederationClient]:
    server = FederationServer(_control(site), host="127.0.0.1", port=PORT)
    await server.start()
    made = FederationClient(RouteTable(default=server.address), timeout_s=2.0, attempts=2, backoff_s=0.01)
    yield made
    await made.close()
    await server.stop(0)


async def test_a_party_of_the_job_gets_the_hosted_partys_offer(site: Site) -> None:
    control = _control(site)
    for source in (GUEST, HOST):  # as QueryStatus: any party of the job may ask
        offer = await control.probe_reuse(ProbeReuse(job_id=J2, party=HOST, component="reader_0"), source)
        assert offer == ReuseOffer(party=HOST, candidates=(EXPECTED,))
    log = (site.home / "logs" / "jobs" / J2 / "host_10000" / "schedule.log").read_text()
    assert f"reader_0 may reuse {EXPECTED}" in log


async def test_the_probe_is_refused_to_strangers_and_for_parties_not_hosted(site: Site) -> None:
    control = _control(site)
    with pytest.raises(NotAPartyOfJob):
        await control.probe_reuse(ProbeReuse(job_id=J2, party=HOST, component="reader_0"), OTHER)
    with pytest.raises(NotAPartyOfJob):
        await control.probe_reuse(
            ProbeReuse(job_id=J2, party=Party(role="host", party_id=9999), component="reader_0"), GUEST
        )
    with pytest.raises(PermissionDenied, match="not hosted"):
        await control.probe_reuse(ProbeReuse(job_id=J2, party=OTHER, component="reader_0"), GUEST)
    with pytest.raises(RecordNotFound):
        await control.probe_reuse(
            ProbeReuse(job_id="20990101000000000001", party=HOST, component="reader_0"), GUEST
        )
    # A site that keeps no reuse records offers nothing.
    bare = SiteControl(
        loopback_settings(site.home),
        cast(Any, None),
        site.stores.jobs,
        site.stores.tasks,
        site.stores.resources,
    )
    assert await bare.probe_reuse(
        ProbeReuse(job_id=J2, party=HOST, component="reader_0"), GUEST
    ) == ReuseOffer(party=HOST)


async def test_the_probe_round_trips_over_grpc_and_refusals_arrive_coded(client: FederationClient) -> None:
    offer = await client.probe_reuse(ProbeReuse(job_id=J2, party=GUEST, component="reader_0"), source=GUEST)
    assert offer == ReuseOffer(party=GUEST, candidates=(EXPECTED,))
    with pytest.raises(NotAPartyOfJob):
        await client.probe_reuse(ProbeReuse(job_id=J2, party=GUEST, component="reader_0"), source=OTHER)


async def test_the_activity_asks_every_party_and_one_that_cannot_answer_offers_nothing(
    client: FederationClient, site: Site
) -> None:
    activities = FederationActivities(client, site.stores.jobs)
    probe = ReuseProbe(job_id=J2, component="reader_0", parties=(GUEST, HOST, OTHER))
    offers = await ActivityEnvironment().run(activities.probe_reuse, probe, GUEST)
    assert offers == [
        ReuseOffer(party=GUEST, candidates=(EXPECTED,)),
        ReuseOffer(party=HOST, candidates=(EXPECTED.model_copy(),)),
        ReuseOffer(party=OTHER),
    ]


async def test_the_adoption_runs_in_the_components_place_and_fails_coded(site: Site, tmp_path: Path) -> None:
    plan = _plan(J2)
    key = TaskKey(J2, "reader_0", 0, "guest", 9999)
    ctx = TaskContext(
        job_id=J2,
        party=GUEST,
        component="reader_0",
        module="Reader",
        task_version=0,
        parameters={},
        work_dir=tmp_path,
    )
    site.stores.tasks.create(NewTask(key=key))
    TaskReuse(site.reuse).adoption(plan, key, EXPECTED).run(ctx)
    assert site.output(J2, GUEST, "reader_0").read_bytes() == b"raw rows of guest"
    with pytest.raises(ReuseUnavailable, match="keeps no reuse records"):
        TaskReuse(None).adoption(plan, key, EXPECTED).run(ctx)
    # Without a service a task is simply not fingerprinted, and its outputs not recorded.
    assert await TaskReuse(None).fingerprint(plan, key) is None
    assert await TaskReuse(site.reuse).fingerprint(plan, key) is not None
