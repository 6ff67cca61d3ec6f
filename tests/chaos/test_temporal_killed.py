"""The Temporal dev server is killed with SIGKILL mid-task and restarted; the job still succeeds.

The dev server keeps its state in a SQLite file under the home, so the restarted server resumes the
same workflows. The Accord server and worker must ride out the outage: their clients reconnect.
"""

from __future__ import annotations

import time

from tests.chaos.site import ChaosSite
from tests.scheduling.jobs import chain_dsl, conf

COMPONENTS = ["c0", "c1", "c2"]
# Long enough for a short outage (kill, restart) to fall well inside one task.
SLEEP_S = 6
# Keep the server down for a moment: the clients must see the outage, not just a quick blip.
SHORT_OUTAGE_S = 1.0
# Longer than the Temporal client keeps retrying a call (about 10 s), so the server's signal carrying
# a task's report fails instead of waiting the outage out.
LONG_OUTAGE_S = 15.0


def restart_temporal_after(chaos_site: ChaosSite, outage_s: float) -> None:
    """Kill the dev server, leave it down ``outage_s``, start it again; the others must survive."""
    survivors = {name: chaos_site.pid(name) for name in ("server", "worker")}
    chaos_site.kill("temporal")
    time.sleep(outage_s)
    restarted = chaos_site.up()
    actions = {process.state.name: process.action for process in restarted.processes}
    expected = {"temporal": "restarted", "server": "running", "worker": "running"}
    assert actions == expected, f"server or worker did not survive the outage\n{chaos_site.logs()}"
    assert {name: chaos_site.pid(name) for name in survivors} == survivors


def test_temporal_killed_and_restarted_job_still_succeeds(chaos_site: ChaosSite) -> None:
    job_id = chaos_site.submit(chain_dsl(["TestSleep"] * 3), conf(common={"c1": {"seconds": SLEEP_S}}))
    chaos_site.wait_running(job_id, "c1")

    restart_temporal_after(chaos_site, SHORT_OUTAGE_S)

    chaos_site.assert_ended_cleanly(job_id, COMPONENTS)
    # Still the same processes after the job: a client that gave up late would show here.
    assert chaos_site.stack.status().all_ready


def test_temporal_down_while_a_task_ends_job_still_succeeds(chaos_site: ChaosSite) -> None:
    # c1 ends during the outage: its success report has to wait for Temporal to come back.
    job_id = chaos_site.submit(chain_dsl(["TestSleep"] * 3), conf(common={"c1": {"seconds": 2}}))
    chaos_site.wait_running(job_id, "c1")

    restart_temporal_after(chaos_site, LONG_OUTAGE_S)

    # Once Temporal is back the rest takes seconds on a quiet machine; the bound only has to catch a job
    # that hangs, with room for an activity the outage timed out to be retried on a loaded one (CI runs
    # two test files at a time).
    chaos_site.assert_ended_cleanly(job_id, COMPONENTS, timeout_s=120)
