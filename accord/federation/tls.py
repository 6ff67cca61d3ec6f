"""Mutual TLS between sites, and who is calling: the party ids the caller's certificate names.

Every site has a certificate from the federation's CA naming the party ids it hosts. Both ends present
theirs, so a site knows for each call which parties the caller may speak for, and refuses an envelope
that claims any other source party.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc

from accord.errors import ArgumentError, PermissionDenied
from accord.security.certs import party_ids_of_certificate
from accord.settings import Settings

log = logging.getLogger(__name__)

_PEER_CERT_KEY = "x509_pem_cert"


@dataclass(frozen=True)
class TlsMaterial:
    """PEM bytes of the federation CA, this site's certificate and its private key."""

    ca: bytes
    cert: bytes
    key: bytes

    @classmethod
    def from_settings(cls, settings: Settings) -> TlsMaterial | None:
        if settings.tls_ca_file is None or settings.tls_cert_file is None or settings.tls_key_file is None:
            return None
        return cls(
            ca=_read(settings.tls_ca_file, "tls_ca_file", "the federation CA certificate"),
            cert=_read(settings.tls_cert_file, "tls_cert_file", "this site's certificate"),
            key=_read(settings.tls_key_file, "tls_key_file", "this site's private key"),
        )

    def server_credentials(self, *, require_client_auth: bool = True) -> grpc.ServerCredentials:
        # require_client_auth: a caller without a certificate from our CA never reaches a handler.
        credentials: grpc.ServerCredentials = grpc.ssl_server_credentials(  # type: ignore[no-untyped-call]
            [(self.key, self.cert)], root_certificates=self.ca, require_client_auth=require_client_auth
        )
        return credentials

    def channel_credentials(self) -> grpc.ChannelCredentials:
        credentials: grpc.ChannelCredentials = grpc.ssl_channel_credentials(  # type: ignore[no-untyped-call]
            root_certificates=self.ca, private_key=self.key, certificate_chain=self.cert
        )
        return credentials

    @property
    def party_ids(self) -> frozenset[int]:
        """The parties this site's own certificate speaks for."""
        return party_ids_of_certificate(self.cert)


def _read(path: Path, field: str, what: str) -> bytes:
    try:
        return path.read_bytes()
    except OSError as error:
        raise ArgumentError(
            f"{field}: {what} cannot be read from {path}: {error.strerror or error}",
            hint="create the federation's certificates with `accord cert`, and point the site config's "
            "federation.tls section at them",
        ) from None


def peer_party_ids(context: grpc.aio.ServicerContext[Any, Any]) -> frozenset[int] | None:
    """The party ids of the caller's certificate; None on a plaintext (standalone) endpoint."""
    auth = context.auth_context()
    certificates = list(auth.get(_PEER_CERT_KEY) or ())
    if not certificates:
        return None
    return party_ids_of_certificate(certificates[0])


def check_source(
    context: grpc.aio.ServicerContext[Any, Any], party_id: int, *, secure: bool, what: str
) -> None:
    """Refuse a call whose claimed source party the caller's certificate does not name.

    Party id 0 is a site speaking for itself (a ping), which any certified peer may do.
    """
    if not secure:
        return
    allowed = peer_party_ids(context)
    if allowed is None:
        # Cannot happen behind require_client_auth; refusing keeps a misconfiguration from opening up.
        raise PermissionDenied(f"{what} came without a client certificate")
    if party_id != 0 and party_id not in allowed:
        log.warning(
            "refused %s from %s: claims party %s, certificate names %s",
            what,
            context.peer(),
            party_id,
            sorted(allowed),
        )
        raise PermissionDenied(
            f"{what} claims to come from party {party_id}, but the caller's certificate is for "
            f"{', '.join(map(str, sorted(allowed))) or 'no party'}",
            hint="a site may speak only for the parties its certificate names; issue it one with "
            "`accord cert site --party-id ...`",
        )
