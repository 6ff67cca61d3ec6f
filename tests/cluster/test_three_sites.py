"""FATE's hetero-LR example across three sites, each with its own Temporal, database and TLS identity.

Also what a federation must refuse (callers without a certificate, with one from another CA, speaking
for a party their certificate does not name, or for a job they are not a party of), and what it must
survive: a site stopped in the middle of a job and started again; and what it must end cleanly: a
site that never comes back.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from sklearn.metrics import roc_auc_score
from temporalio.testing import WorkflowEnvironment

from accord.dsl_compiler import read_json_file
from accord.errors import AccordError, PermissionDenied
from accord.federation.client import FederationClient
from accord.federation.commands import CreateJob, StartTask, UpdateJobStatus
from accord.federation.routes import RouteTable
from accord.federation.tls import TlsMaterial
from accord.identity import Party
from accord.persistence import TableGrantRepository
from accord.security.certs import create_ca, create_site_certificate
from accord.serving import InferenceClient, ServingServer
from accord.site.check import check_site
from accord.status import JobStatus
from accord.workflows.party import party_workflow_id
from tests.cluster.federation import ARBITER, GUEST, HOST, PARTIES, Federation, federation_settings
from tests.pg_server import PostgresServer
from tests.pipeline.test_hetero_lr_examples import AUC_TOLERANCE, LR_EXAMPLES, guest_output, sklearn_auc
from tests.scheduling.harness import RunningSite
from tests.serving.conftest import guest_rows
from tests.temporal_env import temporal_environment

pytestmark = pytest.mark.asyncio(loop_scope="session")

DATA_SIDES = {GUEST: "guest", HOST: "host"}


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def temporal_servers() -> AsyncIterator[dict[int, WorkflowEnvironment]]:
    """One Temporal dev server per site, shared by this module's tests (each test has new queues)."""
    async with (
        temporal_environment() as guest,
        temporal_environment() as host,
        temporal_environment() as arbiter,
    ):
        yield {GUEST: guest, HOST: host, ARBITER: arbiter}


async def start_federation(
    tmp_path: Path,
    temporal: dict[int, WorkflowEnvironment],
    postgres: PostgresServer,
    **overrides: Any,
) -> Federation:
    ca_dir, settings = federation_settings(tmp_path, temporal, postgres, **overrides)
    federation = Federation(settings=settings, temporal=temporal, ca_dir=ca_dir)
    for party_id in PARTIES:
        await federation.start(party_id)
    for party_id, side in DATA_SIDES.items():
        upload(federation.site(party_id), side)
    return federation


@pytest_asyncio.fixture(loop_scope="session")
async def federation(
    tmp_path: Path, temporal_servers: dict[int, WorkflowEnvironment], postgres_server: PostgresServer
) -> AsyncIterator[Federation]:
    running = await start_federation(tmp_path, temporal_servers, postgres_server)
    yield running
    await running.stop_all()


def upload(site: RunningSite, side: str) -> None:
    from accord.storage import UploadConf
    from tests.pipeline.test_hetero_lr_examples import DATA

    site.site.tables.upload(
        UploadConf(
            file=str(DATA / f"breast_hetero_{side}.csv"),
            table_name=f"breast_hetero_{side}",
            namespace="experiment",
            head=1,
            partition=4,
        )
    )
    # The guest initiates these jobs: each site lets it read its table (accord table grant).
    TableGrantRepository(site.site.database).grant("experiment", f"breast_hetero_{side}", GUEST)


def three_party_example(**job_parameters: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """FATE's hetero_lr_normal, with the arbiter on a third site of its own."""
    dsl = read_json_file(LR_EXAMPLES / "hetero_lr_normal_dsl.json", "dsl")
    conf = read_json_file(LR_EXAMPLES / "hetero_lr_normal_conf.json", "conf")
    conf["role"]["arbiter"] = [ARBITER]
    conf.setdefault("job_parameters", {}).setdefault("common", {}).update(job_parameters)
    return dsl, conf


def assert_no_cores_held(site: RunningSite) -> None:
    engine = site.resources.get_engine("STANDALONE")
    assert engine.remaining_cores == engine.total_cores, site.settings.local_party_ids


async def test_hetero_lr_runs_across_three_sites(federation: Federation) -> None:
    guest = federation.site(GUEST)
    # Workers scale out: a second one on the host's task queue shares its work.
    await federation.add_worker(HOST)
    job_id = await guest.submit(*three_party_example())
    result = await guest.site.jobs.wait(job_id)
    assert result.status == JobStatus.SUCCESS, result

    output = guest_output(guest, job_id, "hetero_lr_0")
    auc = roc_auc_score(output.column("label"), output.column("predict_score"))
    assert auc >= sklearn_auc() - AUC_TOLERANCE

    for party_id in PARTIES:
        site = federation.site(party_id)
        # Each site knows only its own party of the job, and holds no cores once it has ended.
        rows = site.jobs.parties(job_id)
        assert {(row.party_id, row.status) for row in rows} == {(party_id, JobStatus.SUCCESS)}
        assert_no_cores_held(site)
        tables = {meta.name for meta in site.site.tables.list()}
        side = DATA_SIDES.get(party_id)
        assert tables == ({f"breast_hetero_{side}"} if side else set())

    # Deploy across the sites, then FATE's predict example with the new version: the same scores.
    model_id = guest.jobs.get(job_id, "guest", GUEST).model_id
    assert model_id is not None
    deployed = await guest.site.deployment.deploy(
        model_id, job_id, "reader_0,data_transform_0,intersection_0,hetero_lr_0"
    )
    predict_dsl = read_json_file(LR_EXAMPLES / "hetero_lr_normal_predict_dsl.json", "dsl")
    predict_conf = guest.site.deployment.predict_conf(model_id, deployed.model_version)
    predict_id = await guest.submit(predict_dsl, predict_conf)
    assert (await guest.site.jobs.wait(predict_id)).status == JobStatus.SUCCESS
    predicted = guest_output(guest, predict_id, "hetero_lr_0")
    by_id = dict(zip(output.ids().astype(str), output.column("predict_score"), strict=True))
    for sample, score in zip(predicted.ids().astype(str), predicted.column("predict_score"), strict=True):
        assert abs(score - by_id[sample]) <= 1e-9

    # Online: the guest publishes the deployed version on every site and answers as the job did.
    await online_inference_matches(federation, model_id, deployed.model_version, by_id)

    checks = await check_site(federation.settings[GUEST], timeout_s=5)
    assert all(check.ok for check in checks), checks
    assert {check.name for check in checks} >= {
        "database",
        "temporal",
        "tls",
        f"route {HOST}",
        f"route {ARBITER}",
    }


async def online_inference_matches(
    federation: Federation, model_id: str, model_version: str, scores: dict[str, float]
) -> None:
    guest = federation.site(GUEST).site
    loaded = await guest.serving.load(model_id, model_version, None)
    assert {part.party.party_id for part in loaded.parts} == {GUEST, HOST}
    await guest.serving.bind("breast", model_id, model_version)
    settings = federation.settings[GUEST]
    server = ServingServer(guest.serving, port=0, tls=TlsMaterial.from_settings(settings))
    port = await server.start()
    client = InferenceClient.from_settings(settings, address=f"127.0.0.1:{port}")
    rows = guest_rows()
    samples = sorted(scores)[:40]
    try:
        for sample in samples[:8]:
            answer = await client.predict(sample, rows[sample], service_id="breast")
            assert abs(answer.prediction.score - scores[sample]) <= 1e-9
        instances = [(sample, rows[sample]) for sample in samples]
        batch = await client.batch_predict(instances, service_id="breast")
        got = {item.sample_id: item.score for item in batch.predictions}
        assert got.keys() == set(samples)
        assert all(abs(got[sample] - scores[sample]) <= 1e-9 for sample in samples)
    finally:
        await client.close()
        await server.stop()


def client_with(
    federation: Federation, tls: TlsMaterial | None, *, attempts: int = 1, timeout_s: float = 3
) -> FederationClient:
    settings = federation.settings[GUEST]
    return FederationClient(
        RouteTable(settings.routes, default=settings.federation_address),
        timeout_s=timeout_s,
        attempts=attempts,
        tls=tls,
    )


async def test_federation_refuses_who_it_must(
    federation: Federation, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    guest_tls = TlsMaterial.from_settings(federation.settings[GUEST])
    arbiter_tls = TlsMaterial.from_settings(federation.settings[ARBITER])
    assert guest_tls is not None and arbiter_tls is not None

    # No certificate: the TLS handshake fails, no handler runs.
    async with client_with(federation, None) as plain:
        with pytest.raises(AccordError):
            await plain.ping(HOST)
    # A certificate from another CA.
    create_ca(tmp_path / "rogue-ca")
    rogue = create_site_certificate(
        tmp_path / "rogue-ca", tmp_path / "rogue", site="rogue", party_ids=[GUEST]
    )
    rogue_tls = TlsMaterial(ca=guest_tls.ca, cert=rogue.cert.read_bytes(), key=rogue.key.read_bytes())
    async with client_with(federation, rogue_tls) as stranger:
        with pytest.raises(AccordError):
            await stranger.ping(HOST)

    # The guest creates a two-party job (guest, host) on the host's site.
    dsl = read_json_file(LR_EXAMPLES / "hetero_lr_normal_dsl.json", "dsl")
    conf = read_json_file(LR_EXAMPLES / "hetero_lr_normal_conf.json", "conf")
    job_id = f"cluster{uuid.uuid4().hex[:12]}"
    plan = federation.site(GUEST).site.jobs.compile(dsl, conf, job_id)
    guest_party, host_party = Party(role="guest", party_id=GUEST), Party(role="host", party_id=HOST)
    async with client_with(federation, guest_tls, attempts=3) as guest_client:
        await guest_client.create_job(
            CreateJob(
                job_id=job_id, party=host_party, initiator=guest_party, dsl=dsl, runtime_conf=conf, plan=plan
            ),
            source=guest_party,
        )
        assert [row.party_id for row in federation.site(HOST).jobs.parties(job_id)] == [HOST]

        caplog.set_level(logging.WARNING)
        start = StartTask(job_id=job_id, party=host_party, component="reader_0", task_id="t", task_version=0)
        async with client_with(federation, arbiter_tls) as arbiter_client:
            # Speaking for a party its certificate does not name.
            with pytest.raises(PermissionDenied, match="certificate"):
                await arbiter_client.start_task(start, source=guest_party)
            # Speaking for itself, about a job it is not a party of.
            with pytest.raises(PermissionDenied, match="not a party of job"):
                await arbiter_client.start_task(start, source=Party(role="arbiter", party_id=ARBITER))
            # Nor can it create jobs in another initiator's name.
            with pytest.raises(PermissionDenied):
                await arbiter_client.create_job(
                    CreateJob(
                        job_id=job_id,
                        party=host_party,
                        initiator=guest_party,
                        dsl=dsl,
                        runtime_conf=conf,
                        plan=plan,
                    ),
                    source=Party(role="arbiter", party_id=ARBITER),
                )
        refusals = [r.getMessage() for r in caplog.records if r.getMessage().startswith("refused")]
        assert len(refusals) >= 3, refusals
        # The job's own initiator may end it.
        await guest_client.update_job_status(
            UpdateJobStatus(job_id=job_id, party=host_party, status=JobStatus.CANCELED, reason="test"),
            source=guest_party,
        )
    assert federation.site(HOST).jobs.get(job_id, "host", HOST).status == JobStatus.CANCELED


async def wait_for_training(federation: Federation, job_id: str) -> None:
    """Until the guest's hetero-LR task has been running a moment: the protocol is mid-iteration."""
    guest = federation.site(GUEST)
    deadline = asyncio.get_running_loop().time() + 120
    while not guest.tasks.list_tasks(job_id, component_name="hetero_lr_0"):
        assert asyncio.get_running_loop().time() < deadline, "the hetero-LR task did not start"
        await asyncio.sleep(0.1)
    await asyncio.sleep(1.5)


async def host_lr_attempts(federation: Federation, job_id: str) -> int:
    """How many times the host's site ran its hetero-LR task (its party workflow's history says)."""
    client = federation.temporal[HOST].client
    handle = client.get_workflow_handle(party_workflow_id(job_id, Party(role="host", party_id=HOST)))
    history = await handle.fetch_history()
    attempts = [
        event.activity_task_started_event_attributes.attempt
        for event in history.events
        if event.HasField("activity_task_started_event_attributes")
    ]
    return max(attempts, default=0)


async def test_a_site_stopped_mid_job_and_restarted_lets_the_job_finish(federation: Federation) -> None:
    guest = federation.site(GUEST)
    job_id = await guest.submit(*three_party_example())
    await wait_for_training(federation, job_id)
    await federation.stop(HOST)
    await asyncio.sleep(3)
    await federation.start(HOST)
    result = await guest.site.jobs.wait(job_id)
    assert result.status == JobStatus.SUCCESS, result
    assert await host_lr_attempts(federation, job_id) >= 2, "the host's LR task should have been cut off"
    output = guest_output(guest, job_id, "hetero_lr_0")
    auc = roc_auc_score(output.column("label"), output.column("predict_score"))
    assert auc >= sklearn_auc() - AUC_TOLERANCE
    for party_id in PARTIES:
        assert_no_cores_held(federation.site(party_id))


async def test_a_site_gone_for_good_fails_the_job_naming_it(
    tmp_path: Path, temporal_servers: dict[int, WorkflowEnvironment], postgres_server: PostgresServer
) -> None:
    federation = await start_federation(
        tmp_path,
        temporal_servers,
        postgres_server,
        transfer_timeout_s=8.0,
        federation_timeout_s=2.0,
        federation_attempts=2,
    )
    try:
        guest = federation.site(GUEST)
        job_id = await guest.submit(*three_party_example())
        await wait_for_training(federation, job_id)
        await federation.stop(HOST)
        result = await asyncio.wait_for(guest.site.jobs.wait(job_id), timeout=240)
        assert result.status == JobStatus.FAILED, result
        assert f"host {HOST}" in result.reason or f"party {HOST}" in result.reason, result.reason
        for party_id in (GUEST, ARBITER):
            site = federation.site(party_id)
            assert_no_cores_held(site)
            assert all(row.status.is_end for row in site.jobs.parties(job_id))
    finally:
        await federation.stop_all()


async def test_a_job_paused_on_three_sites_gives_back_every_core_and_resumes(federation: Federation) -> None:
    guest = federation.site(GUEST)
    job_id = await guest.submit(*three_party_example())
    deadline = asyncio.get_running_loop().time() + 120
    while not guest.tasks.list_tasks(job_id, component_name="reader_0"):
        assert asyncio.get_running_loop().time() < deadline, "the job did not start"
        await asyncio.sleep(0.05)
    await guest.site.jobs.pause(job_id)

    def paused_everywhere() -> bool:
        return all(
            {r.status for r in federation.site(party_id).jobs.parties(job_id)} == {JobStatus.PAUSED}
            for party_id in PARTIES
        )

    while not paused_everywhere():
        assert asyncio.get_running_loop().time() < deadline, "not paused on every site"
        await asyncio.sleep(0.1)
    # Each site returned its party's cores and started nothing after the pause.
    for party_id in PARTIES:
        assert_no_cores_held(federation.site(party_id))
    assert not guest.tasks.list_tasks(job_id, component_name="hetero_lr_0")

    await guest.site.jobs.resume(job_id)
    result = await guest.site.jobs.wait(job_id)
    assert result.status == JobStatus.SUCCESS, result
    for party_id in PARTIES:
        site = federation.site(party_id)
        assert {r.status for r in site.jobs.parties(job_id)} == {JobStatus.SUCCESS}
        assert_no_cores_held(site)
