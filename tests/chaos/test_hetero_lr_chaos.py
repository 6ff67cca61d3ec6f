"""FATE's hetero-LR example on a real standalone stack whose worker or Temporal server is SIGKILLed.

The worker runs the real components (Reader, DataTransform, RSA Intersection, HeteroLR with 1024-bit
Paillier, Evaluation), on tables uploaded over the HTTP API. The job runs three times on one site:
undisturbed, with the worker SIGKILLed three times at random moments while ``hetero_lr_0`` runs
(restarted each time), and with the Temporal dev server SIGKILLed mid-HeteroLR (restarted). Both
disturbed runs must succeed on every party with the undisturbed run's AUC, leave no core reserved
and no task with two rows for one version.

Why the AUC must be equal, not merely close: the example's ``init_method: zeros`` leaves no random
initial weights, the batches are shuffled from a fixed seed (``common.Batches``), and every encrypted
value is a fixed-point integer that decryption gives back exactly whatever the Paillier key. The only
randomness is in the keys (Paillier of the arbiter, RSA of the intersection, whose result is the same
set of ids under any key) and in the ciphertexts' random factors, and none of it reaches a decrypted
number. So equal data gives an equal model: the Evaluation's AUC is compared to 1e-9 and, stronger,
the guest's 569 prediction scores to 1e-12.

Found by these tests (fixed in accord): a run of a federated task cut off by a lost worker was retried
under the same task version, and the new run read the values the lost run had left in the mailboxes
(the arbiter's old public key among them), so HeteroLR failed to decrypt. A lost run now makes the job
run the task again on every party under a new version (``accord.activities.tasks.RUN_LOST``); the
lost version's rows end ``failed``, only the latest version of each task must succeed.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
from sqlalchemy import text

from accord.components.sdk import Dataset, layout
from accord.persistence import Database
from accord.settings import Settings
from accord.standalone.stack import Stack
from tests.chaos.site import ChaosSite, child_environment
from tests.support import loopback_settings, wait_until

# Fixed so a failure can be replayed; CHAOS_SEED picks other moments when hunting for races.
SEED = int(os.environ.get("CHAOS_SEED", "20240612"))

FATE_EXAMPLES = Path(__file__).resolve().parents[3] / "shared" / "fate" / "examples"
LR_EXAMPLES = FATE_EXAMPLES / "dsl" / "v2" / "hetero_logistic_regression"
GUEST, HOST, ARBITER = ("guest", 9999), ("host", 10000), ("arbiter", 10000)
PARTIES = frozenset({GUEST, HOST, ARBITER})
COMPONENTS = ["reader_0", "data_transform_0", "intersection_0", "hetero_lr_0", "evaluation_0"]
LR = "hetero_lr_0"
# Short enough for CI, long enough (a few seconds of HeteroLR) to kill processes in the middle of it.
MAX_ITER = 10
WORKER_KILLS = 3
AUC_TOLERANCE = 1e-9
SCORE_TOLERANCE = 1e-12
# Temporal stays down this long (the restart adds a few seconds more).
OUTAGE_S = 1.0
# The three runs and the restarts between them, on a loaded 2-core machine.
JOB_TIMEOUT_S = 240.0
ENDED = frozenset({"success", "failed", "canceled", "timeout"})

pytestmark = [
    pytest.mark.chaos,
    pytest.mark.skipif(not LR_EXAMPLES.is_dir(), reason=f"FATE's examples are not at {FATE_EXAMPLES}"),
]


def lr_settings(home: Path) -> Settings:
    """A site on free ports and its own task queue, running the real (default) components."""
    return loopback_settings(
        home,
        task_queue=f"chaos-lr-{random.Random().getrandbits(40):010x}",
    )


@pytest.fixture(scope="module")
def lr_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ChaosSite]:
    root = tmp_path_factory.mktemp("chaos-lr")
    calls_dir = root / "calls"
    with pytest.MonkeyPatch.context() as monkeypatch:
        child_environment(monkeypatch, calls_dir)
        site = ChaosSite(Stack(lr_settings(root / "home")), calls_dir, httpx.Client(timeout=60.0))
        try:
            site.up()
            for side in ("guest", "host"):
                # The file's bytes, as the CLI streams them: the site reads no path a client names.
                content = (FATE_EXAMPLES / "data" / f"breast_hetero_{side}.csv").read_bytes()
                conf = {
                    "table_name": f"breast_hetero_{side}",
                    "namespace": "experiment",
                    "head": 1,
                    "partition": 4,
                    "drop": 1,
                }
                reply = site.http.post(
                    f"{site.settings.http_address}/v1/data/upload",
                    params={"conf": json.dumps(conf)},
                    content=content,
                    headers={
                        "Content-Type": "application/octet-stream",
                        "X-Content-SHA256": hashlib.sha256(content).hexdigest(),
                    },
                )
                assert reply.json()["retcode"] == 0, reply.text
            yield site
        finally:
            site.http.close()
            site.stack.down()


def submit_lr(site: ChaosSite) -> str:
    dsl = json.loads((LR_EXAMPLES / "hetero_lr_normal_dsl.json").read_text())
    conf = json.loads((LR_EXAMPLES / "hetero_lr_normal_conf.json").read_text())
    conf["component_parameters"]["common"][LR]["max_iter"] = MAX_ITER
    # Each run must really run: the disturbed ones would otherwise reuse the undisturbed run's outputs.
    conf.setdefault("job_parameters", {}).setdefault("common", {})["reuse"] = False
    return site.submit(dsl, conf)


def wait_ended(site: ChaosSite, job_id: str) -> dict[tuple[str, int], str]:
    """Every party's status once all have ended; polls that fail while a process restarts are retried."""
    last: dict[str, Any] = {}

    def ended() -> dict[tuple[str, int], str] | None:
        try:
            statuses = site.party_statuses(job_id)
        except (httpx.HTTPError, AssertionError, ValueError) as error:
            last["error"] = repr(error)
            return None
        last["statuses"] = statuses
        return statuses if set(statuses) == PARTIES and set(statuses.values()) <= ENDED else None

    statuses = wait_until(
        ended, JOB_TIMEOUT_S, f"job {job_id} to end on every party", lambda: f"{last}\n{site.logs()}"
    )
    assert statuses is not None
    return statuses


def duplicated_task_rows(site: ChaosSite, job_id: str) -> list[Any]:
    """(component, task version, role, party) keys with more than one row, straight from the database."""
    with Database(site.settings.resolved_database_url) as database, database.engine.connect() as sql:
        return list(
            sql.execute(
                text(
                    "SELECT component_name, task_version, role, party_id, COUNT(*) FROM tasks "
                    "WHERE job_id = :job GROUP BY component_name, task_version, role, party_id "
                    "HAVING COUNT(*) > 1"
                ),
                {"job": job_id},
            )
        )


def task_status(site: ChaosSite, job_id: str, component: str) -> dict[tuple[str, int], str]:
    """Each party's latest status of ``component``, straight from the database (no HTTP needed)."""
    with Database(site.settings.resolved_database_url) as database, database.engine.connect() as sql:
        rows = sql.execute(
            text(
                "SELECT role, party_id, status FROM tasks WHERE job_id = :job AND component_name = :name "
                "ORDER BY task_version"
            ),
            {"job": job_id, "name": component},
        )
        return {(role, int(party)): str(status) for role, party, status in rows}


def lr_versions(site: ChaosSite, job_id: str) -> list[int]:
    with Database(site.settings.resolved_database_url) as database, database.engine.connect() as sql:
        rows = sql.execute(
            text("SELECT DISTINCT task_version FROM tasks WHERE job_id = :job AND component_name = :name"),
            {"job": job_id, "name": LR},
        )
        return sorted(int(version) for (version,) in rows)


def guest_scores(site: ChaosSite, job_id: str) -> np.ndarray:
    """The guest's HeteroLR prediction scores at full precision, by sample id."""
    party = layout.party_dir(site.settings.home, job_id, *GUEST)
    output = Dataset.load(layout.data_path(party, LR, "data"))
    order = np.argsort(output.ids().astype(str))
    scores: np.ndarray = np.asarray(output.column("predict_score"), dtype=np.float64)[order]
    return scores


def auc(site: ChaosSite, job_id: str) -> float:
    body = {"job_id": job_id, "role": "guest", "party_id": GUEST[1], "component_name": "evaluation_0"}
    metrics = site.call("/v1/tracking/component/metric/all", body)["data"]
    return float(dict(metrics["train"][LR]["data"])["auc"])


def assert_ended_cleanly(site: ChaosSite, job_id: str) -> None:
    """Success on every party and task, one row per task version, every core given back."""
    statuses = wait_ended(site, job_id)
    assert statuses == dict.fromkeys(PARTIES, "success"), f"{statuses}\n{site.logs()}"
    rows = site.job_rows(job_id)
    assert not any(row["f_resource_in_use"] for row in rows), rows
    assert duplicated_task_rows(site, job_id) == []
    tasks = site.task_rows(job_id)
    keys = [(t["f_component_name"], t["f_task_version"], t["f_role"], t["f_party_id"]) for t in tasks]
    assert len(keys) == len(set(keys)), f"a task version has two rows: {sorted(keys)}"
    assert {c for c, _, r, _ in keys if r == "guest"} == set(COMPONENTS), sorted(keys)
    # A run cut off by a lost worker ends failed and runs again under the next version: only the
    # latest version of each task must have succeeded.
    latest: dict[tuple[str, str, int], dict[str, Any]] = {}
    for task in tasks:
        key = (task["f_component_name"], task["f_role"], task["f_party_id"])
        if key not in latest or task["f_task_version"] > latest[key]["f_task_version"]:
            latest[key] = task
    not_success = {key: t["f_status"] for key, t in latest.items() if t["f_status"] != "success"}
    assert not not_success, f"tasks not in success: {not_success}"
    remaining, total = site.engine_cores()
    assert remaining == total, f"the engine has {remaining} of {total} cores left after the job"


def lr_exchanging(site: ChaosSite, job_id: str, version: int) -> bool:
    """True once the run of HeteroLR under task ``version`` has exchanged a value.

    Every value a party sends lands as a file in the site's mailbox under the task version, so a file
    there shows that this run is under way on the current worker, not just that a row says running.
    """
    root = site.settings.home / "transfer" / job_id / LR / f"v{version}"
    return root.is_dir() and any(path.is_file() for path in root.rglob("*"))


def wait_lr_running(site: ChaosSite, job_id: str, version: int) -> None:
    wait_until(
        lambda: lr_exchanging(site, job_id, version),
        JOB_TIMEOUT_S,
        f"{LR} of job {job_id} to exchange values under task version {version}",
        lambda: f"{task_status(site, job_id, LR)}\n{site.logs()}",
    )


@dataclass(frozen=True)
class Run:
    job_id: str
    auc: float
    scores: np.ndarray
    lr_seconds: float


def finished_run(site: ChaosSite, job_id: str) -> Run:
    assert_ended_cleanly(site, job_id)
    rows = site.call("/v1/job/task/query", {"job_id": job_id, "role": "guest", "party_id": GUEST[1]})
    seconds = max(float(r["f_elapsed"] or 0) / 1000 for r in rows["data"] if r["f_component_name"] == LR)
    return Run(job_id, auc(site, job_id), guest_scores(site, job_id), seconds)


def assert_same_model(disturbed: Run, baseline: Run) -> None:
    assert disturbed.auc == pytest.approx(baseline.auc, abs=AUC_TOLERANCE)
    assert disturbed.scores.shape == baseline.scores.shape == (569,)
    assert np.max(np.abs(disturbed.scores - baseline.scores)) <= SCORE_TOLERANCE


@pytest.fixture(scope="module")
def undisturbed(lr_site: ChaosSite) -> Run:
    """The job's run with nothing killed: the AUC and scores the disturbed runs must reproduce."""
    run = finished_run(lr_site, submit_lr(lr_site))
    print(f"undisturbed: AUC {run.auc!r}, {LR} took {run.lr_seconds:.2f} s on the guest")
    return run


def test_undisturbed_run_succeeds_with_a_good_auc(lr_site: ChaosSite, undisturbed: Run) -> None:
    # FATE's example reaches about 0.98 (sklearn on the joined data: 0.997); 10 iterations get close.
    assert undisturbed.auc > 0.95
    assert lr_versions(lr_site, undisturbed.job_id) == [0]


def test_worker_killed_three_times_during_hetero_lr(lr_site: ChaosSite, undisturbed: Run) -> None:
    chooser = random.Random(SEED)
    job_id = submit_lr(lr_site)
    moments: list[str] = []
    for kill in range(WORKER_KILLS):
        # Each kill cuts a run off, and the job runs HeteroLR again under the next version. Once that
        # run is exchanging values, kill it somewhere in the first half of an undisturbed run's time,
        # so that the kill lands while it runs.
        wait_lr_running(lr_site, job_id, version=kill)
        pause = chooser.uniform(0.0, 0.5 * undisturbed.lr_seconds)
        time.sleep(pause)
        statuses = task_status(lr_site, job_id, LR)
        killed = lr_site.kill("worker")
        moments.append(f"kill {kill + 1} {pause:.2f} s into a run (pid {killed}, {LR} {statuses})")
        lr_site.up()
    # Captured by pytest and shown when the test fails (or with -s): what to replay.
    print(f"CHAOS_SEED={SEED}: " + "; ".join(moments))

    disturbed = finished_run(lr_site, job_id)
    versions = lr_versions(lr_site, job_id)
    print(f"AUC undisturbed {undisturbed.auc!r}, after {WORKER_KILLS} worker kills {disturbed.auc!r}")
    print(f"{LR} ran under task versions {versions}")
    # Every kill cut a run of HeteroLR off, so it ran again under a new version each time.
    assert versions == list(range(WORKER_KILLS + 1)), versions
    assert_same_model(disturbed, undisturbed)


def test_temporal_killed_during_hetero_lr(lr_site: ChaosSite, undisturbed: Run) -> None:
    chooser = random.Random(SEED)
    job_id = submit_lr(lr_site)
    wait_lr_running(lr_site, job_id, version=0)
    pause = chooser.uniform(0.2, 0.4 * undisturbed.lr_seconds)
    time.sleep(pause)
    survivors = {name: lr_site.pid(name) for name in ("server", "worker")}
    lr_site.kill("temporal")
    time.sleep(OUTAGE_S)
    restarted = lr_site.up()
    actions = {process.state.name: process.action for process in restarted.processes}
    assert actions == {"temporal": "restarted", "server": "running", "worker": "running"}, lr_site.logs()
    assert {name: lr_site.pid(name) for name in survivors} == survivors

    disturbed = finished_run(lr_site, job_id)
    versions = lr_versions(lr_site, job_id)
    print(
        f"CHAOS_SEED={SEED}: Temporal killed {pause:.2f} s into {LR}; AUC undisturbed {undisturbed.auc!r}, "
        f"disturbed {disturbed.auc!r}; {LR} ran under task versions {versions}"
    )
    assert_same_model(disturbed, undisturbed)
