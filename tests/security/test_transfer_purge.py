"""Exchanged values (intermediate protocol values) leave <home>/transfer when their job ends there.

With ``transfer_retention_s`` 0 they go as the job ends; with a retention they stay that long, for
debugging, and the site's periodic sweep removes them after it.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from accord.federation.mailbox import Mailbox, TransferKey
from accord.identity import Party
from accord.persistence import Database, JobRepository, NewJob
from accord.settings import Settings
from accord.site.transfers import TransferJanitor
from accord.status import JobStatus
from tests.conftest import SiteFactory
from tests.pipeline.test_hetero_lr_examples import run_example

pytestmark = pytest.mark.asyncio(loop_scope="session")


def values_of(home: Path, job_id: str) -> list[Path]:
    return [path for path in (home / "transfer" / job_id).rglob("*") if path.is_file()]


async def test_a_jobs_values_are_gone_when_it_ends(make_site: SiteFactory) -> None:
    site = await make_site()
    job_id = await run_example(site, "hetero_lr_normal")
    assert site.job_status(job_id) == {
        ("guest", 9999): JobStatus.SUCCESS,
        ("host", 10000): JobStatus.SUCCESS,
        ("arbiter", 10000): JobStatus.SUCCESS,
    }
    assert not (site.settings.home / "transfer" / job_id).exists()


async def test_values_stay_for_the_retention_and_then_go(make_site: SiteFactory) -> None:
    retention = 6.0
    site = await make_site(transfer_retention_s=retention, reconcile_interval_s=0.5)
    job_id = await run_example(site, "hetero_lr_normal")
    ended = time.monotonic()
    # The two-party protocol exchanged values, and they are kept while the retention runs.
    assert len(values_of(site.settings.home, job_id)) > 10
    while (site.settings.home / "transfer" / job_id).exists():
        assert time.monotonic() - ended < retention + 30, "the values outlived their retention"
        await asyncio.sleep(0.2)
    # The job's end was stamped before wait() returned, so this bounds the time they were kept.
    assert time.monotonic() - ended >= retention - 2


async def test_the_sweep_purges_ended_and_unknown_jobs_only(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path)
    database = Database.from_settings(settings)
    database.migrate()
    jobs = JobRepository(database)
    mailbox = Mailbox(tmp_path / "transfer")
    for job_id in ("running1", "ended1", "unknown1"):
        mailbox.put(
            TransferKey(
                job_id=job_id,
                component="c0",
                task_version=0,
                tag="t",
                source=Party(role="guest", party_id=9999),
                destination=Party(role="host", party_id=10000),
            ),
            b"value",
        )
    for job_id in ("running1", "ended1"):
        jobs.create(
            NewJob(
                job_id=job_id,
                role="host",
                party_id=10000,
                initiator_role="guest",
                initiator_party_id=9999,
                dsl={},
                runtime_conf={},
            )
        )
    jobs.update_status("ended1", "host", 10000, JobStatus.CANCELED)
    janitor = TransferJanitor(settings, jobs, mailbox)
    assert sorted(janitor.sweep()) == ["ended1", "unknown1"]
    assert mailbox.job_ids() == ["running1"]
    database.dispose()
