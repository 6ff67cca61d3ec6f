"""Three sites in cluster mode on loopback: guest 9999, host 10000, arbiter 10001.

Each site has its own Temporal dev server, its own PostgreSQL database, its own home and its own
federation endpoint with mutual TLS (a certificate naming its party, from one test CA). Sites know
each other only by the route table; nothing is shared but the federation.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from accord.security.certs import CertFiles, create_ca, create_site_certificate
from accord.settings import Settings
from accord.temporal_client import connect
from accord.wiring import federation_client
from accord.worker import WorkerDeps, build_worker
from tests.pg_server import PostgresServer
from tests.scheduling.harness import RunningSite, site_settings, start_running_site, stop_running_site
from tests.support import free_port

GUEST, HOST, ARBITER = 9999, 10000, 10001
PARTIES = (GUEST, HOST, ARBITER)


@dataclass
class Federation:
    """The three sites; ``sites[party_id]`` is None while that site is stopped."""

    settings: dict[int, Settings]
    temporal: dict[int, WorkflowEnvironment]
    sites: dict[int, RunningSite | None] = field(default_factory=dict)
    ca_dir: Path | None = None
    extra_workers: list[Worker] = field(default_factory=list)

    def site(self, party_id: int) -> RunningSite:
        running = self.sites.get(party_id)
        assert running is not None, f"the site of party {party_id} is stopped"
        return running

    async def start(self, party_id: int) -> RunningSite:
        running = await start_running_site(self.temporal[party_id].client, self.settings[party_id])
        self.sites[party_id] = running
        return running

    async def stop(self, party_id: int) -> None:
        running = self.sites.get(party_id)
        if running is not None:
            self.sites[party_id] = None
            await stop_running_site(running)

    async def add_worker(self, party_id: int) -> Worker:
        """One more worker on the site's task queue, as a second worker process of the site would be."""
        site = self.site(party_id)
        # A worker process has its own connection to Temporal (one client may not serve two workers).
        worker = build_worker(
            WorkerDeps(
                settings=site.settings,
                temporal=await connect(site.settings),
                database=site.site.database,
                registry=site.site.registry,
                federation=federation_client(site.settings),
            )
        )
        await worker.__aenter__()
        self.extra_workers.append(worker)
        return worker

    async def stop_all(self) -> None:
        for worker in self.extra_workers:
            await worker.__aexit__(None, None, None)
        self.extra_workers.clear()
        for party_id in PARTIES:
            await self.stop(party_id)


def issue_certificates(root: Path) -> tuple[Path, dict[int, CertFiles]]:
    ca_dir = root / "ca"
    create_ca(ca_dir)
    certs = {
        party_id: create_site_certificate(
            ca_dir, root / f"site-{party_id}", site=f"party-{party_id}", party_ids=[party_id]
        )
        for party_id in PARTIES
    }
    return ca_dir, certs


def federation_settings(
    root: Path,
    temporal: dict[int, WorkflowEnvironment],
    postgres: PostgresServer,
    **overrides: Any,
) -> tuple[Path, dict[int, Settings]]:
    ca_dir, certs = issue_certificates(root / "tls")
    ports = {party_id: free_port() for party_id in PARTIES}
    settings = {}
    for party_id in PARTIES:
        database = postgres.create_database(f"site_{party_id}_{uuid.uuid4().hex[:8]}")
        settings[party_id] = site_settings(
            root / f"home-{party_id}",
            temporal[party_id].client.service_client.config.target_host,
            local_party_ids=(party_id,),
            federation_port=ports[party_id],
            routes={peer: f"127.0.0.1:{port}" for peer, port in ports.items() if peer != party_id},
            database_url=database,
            tls_ca_file=ca_dir / "ca.pem",
            tls_cert_file=certs[party_id].cert,
            tls_key_file=certs[party_id].key,
            **overrides,
        )
    return ca_dir, settings
