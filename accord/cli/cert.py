"""``accord cert ca|site``: a test federation's CA and the certificates its sites use for mutual TLS."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from accord.cli.root import coded_errors, emit

if TYPE_CHECKING:
    from cryptography import x509

    from accord.security.certs import CertFiles

out_option = click.option(
    "-o",
    "--out",
    "out_dir",
    required=True,
    type=click.Path(path_type=Path, file_okay=False),
    help="directory to write into (created if missing)",
)
force_option = click.option("--force", is_flag=True, help="replace files that already exist")


def _load(files: CertFiles) -> x509.Certificate:
    from cryptography import x509

    return x509.load_pem_x509_certificate(files.cert.read_bytes())


def _described(files: CertFiles, certificate: x509.Certificate) -> dict[str, Any]:
    return {
        "cert": str(files.cert),
        "key": str(files.key),
        "subject": certificate.subject.rfc4514_string(),
        "not_valid_after": certificate.not_valid_after_utc.isoformat(),
    }


def _hosts(certificate: x509.Certificate) -> list[str]:
    from cryptography import x509

    names = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    return [
        *names.get_values_for_type(x509.DNSName),
        *(str(address) for address in names.get_values_for_type(x509.IPAddress)),
    ]


@click.group()
def cert() -> None:
    """Create a test federation's certificates: one CA, and one certificate per site."""


@cert.command("ca")
@out_option
@click.option("--name", default="Accord federation CA", show_default=True, help="the CA's common name")
@click.option("--days", type=int, default=3650, show_default=True, help="how long the CA is valid")
@force_option
@coded_errors
def ca(out_dir: Path, name: str, days: int, force: bool) -> None:
    """Write the federation CA's ca.pem and ca.key (keep ca.key to yourself: it signs site certificates)."""
    # Imported here so that other commands do not pay for loading cryptography.
    from accord.security.certs import create_ca

    files = create_ca(out_dir, name=name, days=days, overwrite=force)
    emit({"retcode": 0, "retmsg": "success", "data": _described(files, _load(files))})


@cert.command("site")
@click.option(
    "--ca",
    "ca_dir",
    required=True,
    type=click.Path(path_type=Path, file_okay=False),
    help="directory `accord cert ca` wrote",
)
@out_option
@click.option(
    "--name", "site", required=True, help="the site's name; the files are <name>.pem and <name>.key"
)
@click.option("--party-id", "party_ids", type=int, multiple=True, help="a party the site hosts; repeatable")
@click.option(
    "--host",
    "hosts",
    multiple=True,
    help="a DNS name or IP address other sites dial this one at; repeatable [default: localhost, 127.0.0.1]",
)
@click.option("--days", type=int, default=825, show_default=True, help="how long the certificate is valid")
@force_option
@coded_errors
def site(
    ca_dir: Path,
    out_dir: Path,
    site: str,
    party_ids: tuple[int, ...],
    hosts: tuple[str, ...],
    days: int,
    force: bool,
) -> None:
    """Write a site's certificate and key, signed by the federation CA, naming the parties it hosts."""
    from accord.security.certs import (
        CA_CERT_NAME,
        DEFAULT_HOSTS,
        create_site_certificate,
        party_ids_of_certificate,
    )

    files = create_site_certificate(
        ca_dir,
        out_dir,
        site=site,
        party_ids=party_ids,
        hosts=hosts or DEFAULT_HOSTS,
        days=days,
        overwrite=force,
    )
    certificate = _load(files)
    data = {
        **_described(files, certificate),
        # The CA certificate a site's TLS config needs next to its own pair.
        "ca": str(ca_dir / CA_CERT_NAME),
        "site": site,
        "party_ids": sorted(party_ids_of_certificate(files.cert.read_bytes())),
        "hosts": _hosts(certificate),
    }
    emit({"retcode": 0, "retmsg": "success", "data": data})


CERT_COMMANDS = [cert]
