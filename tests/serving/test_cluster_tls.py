"""Cluster mode: FederationServing under mutual TLS and the source-party check, Inference over TLS."""

from __future__ import annotations

from pathlib import Path

import pytest

from accord.errors import ConnectionFailure, PermissionDenied
from accord.federation.routes import RouteTable
from accord.federation.server import FederationServer
from accord.federation.tls import TlsMaterial
from accord.identity import Party
from accord.security.certs import CertFiles, create_ca, create_site_certificate
from accord.serving import InferenceClient, ServingPeers, ServingServer
from accord.serving.federation import FederationServingServicer
from accord.serving.messages import PartialScore
from tests.serving.conftest import GUEST, HOST, SERVICE_ID, Trained

pytestmark = pytest.mark.asyncio(loop_scope="session")

ARBITER = 10001


async def test_serving_calls_are_checked_like_control_commands(trained: Trained, tmp_path: Path) -> None:
    ca = create_ca(tmp_path / "ca")

    def material(site: str, party_id: int) -> TlsMaterial:
        files: CertFiles = create_site_certificate(
            tmp_path / "ca", tmp_path / site, site=site, party_ids=[party_id]
        )
        return TlsMaterial(ca=ca.cert.read_bytes(), cert=files.cert.read_bytes(), key=files.key.read_bytes())

    guest, host, arbiter = material("guest", GUEST), material("host", HOST), material("arbiter", ARBITER)
    site = trained.site.site
    # The trained site's serving state behind a second, TLS-only federation endpoint.
    federation = FederationServer(
        site.control,
        port=0,
        serving=FederationServingServicer(site.serving, hosts_party=site.settings.hosts_party, secure=True),
        tls=host,
    )
    routes = RouteTable({}, default=f"127.0.0.1:{await federation.start()}")
    command = PartialScore(
        model_id=trained.model_id,
        model_version=trained.job_id,
        party=Party(role="host", party_id=HOST),
        sample_ids=["133", "273"],
    )
    as_guest = Party(role="guest", party_id=GUEST)
    certified, impostor, plaintext = (
        ServingPeers(routes, tls=guest),
        ServingPeers(routes, tls=arbiter),
        ServingPeers(routes),
    )
    try:
        reply = await certified.partial_score(command, source=as_guest)
        assert len(reply.partials) == 2
        # The arbiter's site holds a valid certificate, but not for the guest it claims to be.
        with pytest.raises(PermissionDenied, match="certificate is for 10001"):
            await impostor.partial_score(command, source=as_guest)
        with pytest.raises(ConnectionFailure):
            await plaintext.partial_score(command, source=as_guest)
    finally:
        for peers in (certified, impostor, plaintext):
            await peers.close()
        await federation.stop()

    # Inference presents the site's certificate; a client needs the CA but no certificate of its own.
    server = ServingServer(site.serving, port=0, tls=guest)
    port = await server.start()
    client = InferenceClient(f"127.0.0.1:{port}", ca=ca.cert.read_bytes())
    try:
        answer = await client.predict("133", trained.rows["133"], service_id=SERVICE_ID)
        assert abs(answer.prediction.score - trained.scores["133"]) <= 1e-9
    finally:
        await client.close()
        await server.stop()
