"""Submission refuses what the site cannot run, with a coded error and nothing left behind."""

from __future__ import annotations

import pytest

from accord.errors import ComponentNotImplemented, EngineUnavailable, PartyNotHosted
from tests.conftest import SiteFactory
from tests.scheduling.harness import RunningSite
from tests.scheduling.jobs import chain_dsl, conf

pytestmark = pytest.mark.asyncio(loop_scope="session")


@pytest.mark.parametrize(
    ("job", "words"),
    [
        ({"backend": 1, "work_mode": 1}, ["computing SPARK", "RABBITMQ"]),
        ({"backend": 2}, ["PULSAR"]),
        ({"computing_engine": "SPARK"}, ["SPARK"]),
    ],
)
async def test_engines_the_site_lacks_are_refused(
    site: RunningSite, job: dict[str, object], words: list[str]
) -> None:
    with pytest.raises(EngineUnavailable) as caught:
        await site.submit(chain_dsl(["TestSleep"]), conf(job=job))
    assert caught.value.code == 10124
    for word in words:
        assert word in caught.value.retmsg
    assert site.jobs.list_jobs() == []


async def test_module_without_implementation_is_refused(site: RunningSite) -> None:
    with pytest.raises(ComponentNotImplemented) as caught:
        await site.submit(chain_dsl(["TestSleep", "HeteroLinR"]), conf(arbiter=10000))
    assert "HeteroLinR" in caught.value.retmsg
    assert site.jobs.list_jobs() == []


async def test_initiator_of_another_site_is_refused(make_site: SiteFactory) -> None:
    site = await make_site(local_party_ids=(10000,))
    with pytest.raises(PartyNotHosted, match="guest 9999"):
        await site.submit(chain_dsl(["TestSleep"]), conf())
