"""Scrape /metrics over HTTP after FATE's hetero-LR example ran on a whole standalone site.

Real Temporal, real gRPC (control and data plane), real SQLite, real Paillier; the server and the
worker each keep their own ProcessMetrics, the worker's reaching the server through the home as in
two processes.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import pytest_asyncio
from prometheus_client.parser import text_string_to_metric_families
from temporalio.testing import WorkflowEnvironment

from accord.api.app import create_app
from accord.api.auth import RequestAuthenticator
from accord.api.edge import EdgePolicy
from accord.components import ComponentRegistry
from accord.dsl_compiler import read_json_file
from accord.metrics import ProcessMetrics, metrics_directory, site_registry
from accord.metrics.relay import SigningScraper, relay_server
from accord.server import Site, edge_policy, start_site
from accord.settings import Settings
from accord.status import JobStatus
from accord.wiring import federation_client
from accord.worker import WorkerDeps, build_worker
from tests.http_server import serve_http
from tests.pipeline.test_hetero_lr_examples import LR_EXAMPLES, upload_breast
from tests.scheduling.harness import RunningSite, site_settings
from tests.support import local_credential

pytestmark = pytest.mark.asyncio(loop_scope="session")

# The block of ports this test folder may use.
FEDERATION_PORT, HTTP_PORT, SIGNED_HTTP_PORT, RELAY_PORT = 23101, 23102, 23104, 23105
MODULES = ("Reader", "DataTransform", "Intersection", "HeteroLR", "Evaluation")

Samples = dict[str, dict[tuple[tuple[str, str], ...], float]]


@dataclass
class MeteredSite:
    running: RunningSite
    url: str
    worker: ProcessMetrics

    @property
    def settings(self) -> Settings:
        return self.running.settings

    async def scrape(self, headers: dict[str, str] | None = None) -> httpx.Response:
        async with httpx.AsyncClient(base_url=self.url, timeout=30) as http:
            return await http.get(
                "/metrics", headers=local_credential(self.settings) if headers is None else headers
            )

    async def samples(self) -> Samples:
        reply = await self.scrape()
        assert reply.status_code == 200, reply.text
        assert reply.headers["content-type"].startswith("text/plain")
        found: Samples = {}
        for family in text_string_to_metric_families(reply.text):
            for sample in family.samples:
                found.setdefault(sample.name, {})[tuple(sorted(sample.labels.items()))] = sample.value
        return found


@pytest_asyncio.fixture(loop_scope="session")
async def metered(temporal_env: WorkflowEnvironment, tmp_path: Path) -> AsyncIterator[MeteredSite]:
    address = temporal_env.client.service_client.config.target_host
    settings = site_settings(tmp_path / "home", address, federation_port=FEDERATION_PORT, http_port=HTTP_PORT)
    registry = ComponentRegistry.discover(settings.component_modules)
    server_metrics = ProcessMetrics.for_site(settings.home, "server")
    site: Site = await start_site(
        settings, temporal=temporal_env.client, registry=registry, process_metrics=server_metrics
    )
    # A short beat, so the test need not wait the default 5 s for the worker's counters.
    worker_metrics = ProcessMetrics.for_site(settings.home, "worker", interval_s=0.2)
    worker = build_worker(
        WorkerDeps(
            settings=settings,
            temporal=temporal_env.client,
            database=site.database,
            registry=registry,
            federation=federation_client(settings, meter=worker_metrics),
        )
    )
    stop = asyncio.Event()
    beating = asyncio.create_task(worker_metrics.run(stop))
    directory = metrics_directory(settings.home)
    app = create_app(
        site.jobs,
        edge=edge_policy(settings),
        metrics=site_registry(site.database, directory=directory, own=server_metrics),
    )
    await worker.__aenter__()
    try:
        with worker_metrics.counting_paillier():
            async with serve_http(app, "127.0.0.1", settings.http_port) as url:
                yield MeteredSite(RunningSite(site, worker), url, worker_metrics)
    finally:
        stop.set()
        await beating
        await worker.__aexit__(None, None, None)
        await site.stop()


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get(name, {}).get(tuple(sorted(labels.items())), 0.0)


def total(samples: Samples, name: str, **labels: str) -> float:
    """The sum over every series of ``name`` that has ``labels``."""
    wanted = set(labels.items())
    return sum(v for key, v in samples.get(name, {}).items() if wanted <= set(key))


async def test_counters_move_with_a_hetero_lr_job(metered: MeteredSite) -> None:
    before = await metered.samples()
    assert total(before, "accord_jobs", status="success") == 0
    assert value(before, "accord_queue_jobs") == 0

    upload_breast(metered.running)
    dsl = read_json_file(LR_EXAMPLES / "hetero_lr_normal_dsl.json", "dsl")
    conf = read_json_file(LR_EXAMPLES / "hetero_lr_normal_conf.json", "conf")
    conf["component_parameters"]["common"]["hetero_lr_0"]["max_iter"] = 3  # fast: counting, not learning
    job_id = await metered.running.submit(dsl, conf)
    result = await asyncio.wait_for(metered.running.site.jobs.wait(job_id), 120)
    assert result.status == JobStatus.SUCCESS, result

    # The worker's counters arrive with its next snapshot.
    after = await metered.samples()
    for _ in range(50):
        if total(after, "accord_paillier_operations_total") > 0:
            break
        await asyncio.sleep(0.1)
        after = await metered.samples()

    # guest, host and arbiter rows of the one job: each party's row succeeded.
    assert total(after, "accord_jobs", status="success") == 3
    assert value(after, "accord_jobs", status="success", role="guest") == 1
    assert value(after, "accord_queue_jobs") == 0
    assert value(after, "accord_queue_wait_seconds_count") == 1
    for module in MODULES:
        assert total(after, "accord_task_duration_seconds_count", module=module) >= 1, module
        assert total(after, "accord_task_duration_seconds_sum", module=module) > 0, module
    assert value(after, "accord_task_duration_seconds_count", module="HeteroLR", role="arbiter") == 1

    # Commands to the parties and values between them, all answered.
    assert total(after, "accord_federation_calls_total", outcome="ok") > 0
    assert total(after, "accord_federation_calls_total", method="Push", outcome="ok") > 0
    assert total(after, "accord_federation_calls_total", method="StartTask", peer="10000", outcome="ok") > 0
    assert total(after, "accord_federation_bytes_total", direction="sent", outcome="ok") > 0
    failed = {k: v for k, v in after["accord_federation_calls_total"].items() if ("outcome", "ok") not in k}
    assert not failed, failed

    # Hetero LR: the guest encrypts, the host multiplies and adds, the arbiter decrypts.
    for operation in ("encrypt", "decrypt", "add", "exponentiation"):
        assert value(after, "accord_paillier_operations_total", operation=operation) > 0, operation

    # The worker beats; the server reports itself too.
    up = after["accord_process_up"]
    assert up[(("instance", metered.worker.instance), ("kind", "worker"))] == 1
    assert any(("kind", "server") in key for key in up)


async def test_a_scrape_without_the_local_credential_is_refused(
    metered: MeteredSite, caplog: pytest.LogCaptureFixture
) -> None:
    reply = await metered.scrape(headers={})
    assert reply.status_code == 401
    assert reply.json()["retcode"] == 109
    assert any("/metrics" in record.getMessage() for record in caplog.records)


async def test_the_relay_signs_scrapes_of_a_cluster_site(metered: MeteredSite) -> None:
    """Cluster mode: /metrics wants a signature; the relay Prometheus scrapes adds one."""
    site = metered.running.site
    authenticator = RequestAuthenticator({"prometheus": "s3cret"})
    registry = site_registry(site.database, directory=metrics_directory(metered.settings.home), own=None)
    app = create_app(site.jobs, edge=EdgePolicy(authenticator=authenticator), metrics=registry)
    async with serve_http(app, "127.0.0.1", SIGNED_HTTP_PORT) as url:
        unsigned = await asyncio.to_thread(httpx.get, f"{url}/metrics")
        assert unsigned.status_code == 401 and unsigned.json()["retcode"] == 109

        for secret, status in (("s3cret", 200), ("wrong", 401)):
            scraper = SigningScraper(url, "prometheus", secret)
            relay = relay_server("127.0.0.1", RELAY_PORT, scraper)
            serving = threading.Thread(target=relay.serve_forever, daemon=True)
            serving.start()
            try:
                reply = await asyncio.to_thread(
                    httpx.get, f"http://127.0.0.1:{RELAY_PORT}/metrics", timeout=30
                )
                other = await asyncio.to_thread(httpx.get, f"http://127.0.0.1:{RELAY_PORT}/v1/job/list/job")
            finally:
                relay.shutdown()
                relay.server_close()
                scraper.close()
            assert reply.status_code == status, reply.text
            assert other.status_code == 404
        families = {
            f.name
            for f in text_string_to_metric_families(
                (await asyncio.to_thread(SigningScraper(url, "prometheus", "s3cret").fetch)).text
            )
        }
        assert {"accord_jobs", "accord_federation_calls", "accord_process_up"} <= families
