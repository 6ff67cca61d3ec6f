"""Certificates for mutual TLS between the sites of a federation."""

from __future__ import annotations

from accord.security.certs import (
    CA_CERT_NAME,
    CA_KEY_NAME,
    DEFAULT_HOSTS,
    PARTY_URI_PREFIX,
    CertFiles,
    create_ca,
    create_site_certificate,
    party_ids_of_certificate,
    read_pem,
)

__all__ = [
    "CA_CERT_NAME",
    "CA_KEY_NAME",
    "DEFAULT_HOSTS",
    "PARTY_URI_PREFIX",
    "CertFiles",
    "create_ca",
    "create_site_certificate",
    "party_ids_of_certificate",
    "read_pem",
]
