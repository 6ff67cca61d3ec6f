"""A paused job survives every process of the site being killed: Temporal, server and worker.

The dev server keeps its state in a SQLite file under the home; the site's rows are in its database.
Once everything is back the job is still paused on every party, holds no cores, and a resume over the
HTTP API carries it on to success without running its finished component again.
"""

from __future__ import annotations

from tests.chaos.site import PARTIES, ChaosSite
from tests.scheduling.jobs import chain_dsl, conf
from tests.support import wait_until

COMPONENTS = ["c0", "c1"]


def test_a_paused_job_survives_every_process_killed_then_resumes(chaos_site: ChaosSite) -> None:
    job_id = chaos_site.submit(chain_dsl(["TestSleep"] * 2), conf(common={"c0": {"seconds": 1}}))
    chaos_site.wait_running(job_id, "c0")
    chaos_site.call("/v1/job/pause", {"job_id": job_id})
    wait_until(
        lambda: set(chaos_site.party_statuses(job_id).values()) == {"paused"},
        60,
        f"job {job_id} to be paused on every party",
        chaos_site.logs,
    )
    for name in ("worker", "server", "temporal"):
        chaos_site.kill(name)
    chaos_site.up()

    assert chaos_site.party_statuses(job_id) == dict.fromkeys(PARTIES, "paused")
    remaining, total = chaos_site.engine_cores()
    assert remaining == total, "a paused job holds no cores"
    chaos_site.call("/v1/job/resume", {"job_id": job_id})
    chaos_site.assert_ended_cleanly(job_id, COMPONENTS)
    assert set(chaos_site.calls(job_id, "c0").values()) == {1}, "c0 ran once, before the pause"
    assert set(chaos_site.calls(job_id, "c1").values()) == {1}
