"""The worker is killed with SIGKILL while tasks run; a new worker takes over and the job succeeds.

A killed worker stops heartbeating, so Temporal retries its task activity once the heartbeat timeout
(accord.workflows.party.HEARTBEAT_TIMEOUT) passes, on whichever worker polls the queue next.
"""

from __future__ import annotations

import os
import random
import time

from tests.chaos.site import ChaosSite
from tests.scheduling.jobs import chain_dsl, conf

# Fixed so a failure can be replayed; CHAOS_SEED picks other moments when hunting for races.
SEED = int(os.environ.get("CHAOS_SEED", "20240611"))


def test_worker_killed_mid_task_job_still_succeeds(chaos_site: ChaosSite) -> None:
    components = ["c0", "c1", "c2"]
    job_id = chaos_site.submit(chain_dsl(["TestSleep"] * 3), conf(common={"c1": {"seconds": 6}}))
    chaos_site.wait_running(job_id, "c1")

    killed = chaos_site.kill("worker")
    restarted = chaos_site.up()
    actions = {process.state.name: process.action for process in restarted.processes}
    assert actions == {"temporal": "running", "server": "running", "worker": "restarted"}
    assert chaos_site.pid("worker") != killed

    chaos_site.assert_ended_cleanly(job_id, components)
    runs = chaos_site.calls(job_id, "c1")
    # The run cut short by the kill is repeated from the start on the new worker.
    assert max(runs.values()) > 1, f"c1 ran only once per party: {dict(runs)}"


def test_worker_killed_twice_at_random_moments_job_still_succeeds(chaos_site: ChaosSite) -> None:
    components = ["c0", "c1", "c2", "c3"]
    job_conf = conf(common={name: {"seconds": 2} for name in components})
    chooser = random.Random(SEED)
    job_id = chaos_site.submit(chain_dsl(["TestSleep"] * 4), job_conf)
    chaos_site.wait_running(job_id, "c0")

    # Between kills the new worker needs a moment to pick work up, so the second kill may land on a
    # task that is running, a retry that is starting, or between tasks: all must be survived.
    pauses = (chooser.uniform(0.2, 2.5), chooser.uniform(0.5, 4.0))
    for pause in pauses:
        time.sleep(pause)
        chaos_site.kill("worker")
        chaos_site.up()

    # Captured by pytest and shown only when the test fails: what to replay.
    print(f"seed {SEED}: killed the worker after pauses of {pauses[0]:.2f} s and {pauses[1]:.2f} s")
    chaos_site.assert_ended_cleanly(job_id, components)
