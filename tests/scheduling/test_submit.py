"""Submission refuses what the site cannot run, with a coded error and nothing left behind."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from accord.errors import ArgumentError, ComponentNotImplemented, EngineUnavailable, PartyNotHosted
from tests.conftest import SiteFactory
from tests.scheduling.harness import RunningSite
from tests.scheduling.jobs import chain_dsl, conf

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def test_a_computing_engine_the_site_does_not_run_is_refused(site: RunningSite) -> None:
    with pytest.raises(EngineUnavailable) as caught:
        await site.submit(chain_dsl(["TestSleep"]), conf(job={"computing_engine": "LINKIS_SPARK"}))
    assert caught.value.code == 10124
    assert "LINKIS_SPARK" in caught.value.retmsg
    assert site.jobs.list_jobs() == []


@pytest.mark.parametrize(
    ("job", "words"),
    [
        (
            {"backend": 1, "work_mode": 1, "rabbitmq_run": {"queue": {"durable": True}}},
            ["RABBITMQ", "rabbitmq_run"],
        ),
        ({"backend": 2, "pulsar_run": {"max_message_size": 1048576}}, ["PULSAR", "pulsar_run"]),
        ({"computing_engine": "SPARK", "federation_engine": "STANDALONE"}, ["storage_engine HDFS"]),
    ],
)
async def test_spark_jobs_are_accepted_and_unused_engines_are_noted(
    site: RunningSite, job: dict[str, object], words: list[str]
) -> None:
    # FATE's Spark backends: the job runs on the site's Spark master, and what Accord does not use
    # (the message queue, HDFS) is said in the submit result and the job's log, never dropped silently.
    spark_run = {"num-executors": 1, "executor-cores": 1, "executor-memory": "512m"}
    result = await site.site.jobs.submit(chain_dsl(["TestSleep"]), conf(job={**job, "spark_run": spark_run}))
    notes = " | ".join(result.notes)
    for word in words:
        assert word in notes
    assert "not used" in notes
    schedule = (Path(result.logs_directory) / "guest_9999" / "schedule.log").read_text()
    assert all(f"note: {note}" in schedule for note in result.notes)
    plan = site.jobs.get(result.job_id, "guest", 9999).plan
    assert plan is not None and plan["parties"][0]["job_parameters"]["computing_engine"] == "SPARK"


async def test_a_backend_0_job_has_no_notes(site: RunningSite) -> None:
    result = await site.site.jobs.submit(chain_dsl(["TestSleep"]), conf())
    assert result.notes == []


async def test_a_site_without_java_refuses_a_spark_job(
    site: RunningSite, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("JAVA_HOME", str(tmp_path / "no-jdk"))
    with pytest.raises(EngineUnavailable) as caught:
        await site.submit(chain_dsl(["TestSleep"]), conf(job={"backend": 1}))
    assert caught.value.code == 10124
    assert "Java runtime" in caught.value.retmsg and "JAVA_HOME" in caught.value.retmsg
    assert "openjdk-17-jre-headless" in caught.value.retmsg
    assert site.jobs.list_jobs() == []


async def test_a_site_without_pyspark_refuses_a_spark_job(
    site: RunningSite, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A None entry makes the module unimportable, as on a site installed without the spark extra.
    monkeypatch.setitem(sys.modules, "pyspark", None)
    with pytest.raises(EngineUnavailable) as caught:
        await site.submit(chain_dsl(["TestSleep"]), conf(job={"computing_engine": "SPARK"}))
    assert "pyspark" in caught.value.retmsg and "accord[spark]" in caught.value.retmsg
    assert site.jobs.list_jobs() == []


@pytest.mark.parametrize(
    ("spark_run", "words"),
    [
        ({"spark.master": "yarn"}, ["cannot choose the Spark master"]),
        ({"executor-memroy": "1g"}, ["'executor-memroy'", "spark-submit option"]),
        ({"deploy-mode": "cluster"}, ["deploy-mode", "client"]),
    ],
)
async def test_spark_run_is_checked_at_submit(
    site: RunningSite, spark_run: dict[str, object], words: list[str]
) -> None:
    with pytest.raises(ArgumentError) as caught:
        await site.submit(chain_dsl(["TestSleep"]), conf(job={"backend": 1, "spark_run": spark_run}))
    for word in words:
        assert word in caught.value.retmsg
    assert site.jobs.list_jobs() == []


async def test_module_without_implementation_is_refused(site: RunningSite) -> None:
    dsl = chain_dsl(["TestSleep"])
    # A FATE module the catalog knows but no installed package implements.
    dsl["components"]["c1"] = {
        "module": "ApiReader",
        "input": {"data": {"data": ["c0.data"]}},
        "output": {"data": ["data"]},
    }
    with pytest.raises(ComponentNotImplemented) as caught:
        await site.submit(dsl, conf())
    assert "ApiReader" in caught.value.retmsg
    assert site.jobs.list_jobs() == []


async def test_initiator_of_another_site_is_refused(make_site: SiteFactory) -> None:
    site = await make_site(local_party_ids=(10000,))
    with pytest.raises(PartyNotHosted, match="guest 9999"):
        await site.submit(chain_dsl(["TestSleep"]), conf())
