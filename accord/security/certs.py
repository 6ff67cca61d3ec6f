"""A test federation's certificates: one CA, and per site a certificate naming the parties it hosts.

Each site's certificate both serves (its gRPC endpoint) and calls (its client to other sites), so a
receiving site learns from the TLS handshake which party ids the caller may speak for: every party id
appears as a subjectAltName URI ``urn:accord:party:<id>``. Keys are EC P-256: quick to generate, and
accepted by gRPC for servers and clients on TLS 1.2 and 1.3.

This is tooling for test and trial federations; a production federation would issue certificates from
its own PKI with the same party URIs.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import ipaddress
import os
import re
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from accord.errors import ArgumentError, ConflictError, InputFileError, OperatingError

PARTY_URI_PREFIX = "urn:accord:party:"
CA_CERT_NAME = "ca.pem"
CA_KEY_NAME = "ca.key"
DEFAULT_HOSTS = ("localhost", "127.0.0.1")

# The longest a common name may be in X.509, and a site name doubles as the certificate's CN.
_MAX_NAME = 64
_SITE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
_DNS_LABEL = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?")
# Digits only and no leading zero, so every party id has exactly one spelling; the length cap keeps
# int() clear of Python's limit on converting huge decimal strings.
_PARTY_ID = re.compile(r"[1-9][0-9]{0,18}")
# Past about a century, expiry dates run into the year 9999 limit of X.509's time encoding.
_MAX_DAYS = 36500
# Certificates start a little in the past so that a peer whose clock runs behind accepts them at once.
_BACKDATE = dt.timedelta(minutes=5)
_KEY_MODE = 0o600
_CERT_MODE = 0o644


@dataclass(frozen=True)
class CertFiles:
    """Where a certificate and its private key were written."""

    cert: Path
    key: Path


def create_ca(
    out_dir: Path, *, name: str = "Accord federation CA", days: int = 3650, overwrite: bool = False
) -> CertFiles:
    """Create the federation CA: ``ca.pem`` and ``ca.key`` (mode 0600) in ``out_dir``."""
    _check_days(days)
    if not name.strip() or len(name) > _MAX_NAME:
        raise ArgumentError(
            f"CA name {name!r} must be 1 to {_MAX_NAME} characters",
            hint="give a short name such as 'Example federation CA' with --name",
        )
    files = CertFiles(out_dir / CA_CERT_NAME, out_dir / CA_KEY_NAME)
    _check_free(
        files,
        overwrite,
        hint="replacing the CA invalidates every site certificate it signed; pass --force only if you "
        "will reissue them all, or write the CA to another directory with -o",
    )
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = _now()
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - _BACKDATE)
        .not_valid_after(now + dt.timedelta(days=days))
        # path_length 0: the CA signs site certificates only, never another CA.
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_key_usage(cert_sign=True), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    _write(out_dir, files, certificate, key)
    return files


def create_site_certificate(
    ca_dir: Path,
    out_dir: Path,
    *,
    site: str,
    party_ids: Sequence[int],
    hosts: Sequence[str] = DEFAULT_HOSTS,
    days: int = 825,
    overwrite: bool = False,
) -> CertFiles:
    """Create ``<site>.pem`` and ``<site>.key`` (mode 0600) in ``out_dir``, signed by the CA in ``ca_dir``.

    ``hosts`` are the names and addresses other sites dial this one at; ``party_ids`` the parties it
    hosts. The certificate expires with the CA at the latest, since it is worthless after that.
    """
    _check_site_name(site)
    parties = _check_party_ids(party_ids)
    names = _check_hosts(hosts)
    _check_days(days)
    ca_cert, ca_key = _load_ca(ca_dir)
    files = CertFiles(out_dir / f"{site}.pem", out_dir / f"{site}.key")
    _check_free(files, overwrite, hint="pass --force to replace them, or write to another directory with -o")

    now = _now()
    not_after = min(now + dt.timedelta(days=days), ca_cert.not_valid_after_utc)
    if not_after <= now:
        raise InputFileError(
            f"the federation CA in {ca_dir} expired on {ca_cert.not_valid_after_utc:%Y-%m-%d}",
            hint=f"create a new CA with `accord cert ca -o {ca_dir} --force` and reissue every site's "
            "certificate from it",
        )
    key = ec.generate_private_key(ec.SECP256R1())
    party_uris = [x509.UniformResourceIdentifier(f"{PARTY_URI_PREFIX}{party}") for party in parties]
    certificate = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, site)]))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - _BACKDATE)
        .not_valid_after(not_after)
        .add_extension(x509.SubjectAlternativeName([*names, *party_uris]), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_key_usage(cert_sign=False), critical=True)
        # Both: the one certificate serves this site's endpoint and authenticates its calls out.
        .add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]),
            critical=False,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    _write(out_dir, files, certificate, key)
    return files


def party_ids_of_certificate(pem: bytes) -> frozenset[int]:
    """The party ids a PEM certificate speaks for, from its ``urn:accord:party:<id>`` URIs.

    Other subjectAltNames are not party claims and are skipped. A party URI whose id is not a positive
    decimal integer raises ArgumentError rather than being skipped: such a certificate was not made by
    ``accord cert``, and silently dropping a claim would leave a site refusing calls with no clue why.
    """
    try:
        certificate = x509.load_pem_x509_certificate(pem)
        san = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return frozenset()
    except ValueError as error:
        raise ArgumentError(
            f"not a readable PEM certificate: {error}",
            hint="pass the certificate `accord cert site` wrote (<site>.pem)",
        ) from None
    parties: set[int] = set()
    for uri in san.get_values_for_type(x509.UniformResourceIdentifier):
        # URN schemes and namespace ids compare case-insensitively (RFC 8141).
        if uri[: len(PARTY_URI_PREFIX)].lower() != PARTY_URI_PREFIX:
            continue
        tail = uri[len(PARTY_URI_PREFIX) :]
        if not _PARTY_ID.fullmatch(tail):
            raise ArgumentError(
                f"certificate {certificate.subject.rfc4514_string()} names a malformed party {uri!r}",
                hint="reissue it with `accord cert site --party-id <id> ...`; a party id is a positive "
                "integer",
            )
        parties.add(int(tail))
    return frozenset(parties)


def read_pem(path: Path, what: str, *, hint: str | None = None) -> bytes:
    """The bytes of a PEM file, or InputFileError naming ``what`` was expected at ``path``."""
    fix = hint or "check the path, and that this user may read the file"
    try:
        data = path.read_bytes()
    except OSError as error:
        raise InputFileError(f"cannot read {what} at {path}: {error.strerror or error}", hint=fix) from None
    if b"-----BEGIN " not in data:
        raise InputFileError(f"{path} is not a PEM file, so it cannot be {what}", hint=fix)
    return data


# ---- validation ------------------------------------------------------------------------------


def _check_days(days: int) -> None:
    if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= _MAX_DAYS:
        raise ArgumentError(
            f"validity of {days!r} days is out of range", hint=f"give --days between 1 and {_MAX_DAYS}"
        )


def _check_site_name(site: str) -> None:
    if not isinstance(site, str) or not _SITE_NAME.fullmatch(site):
        raise ArgumentError(
            f"site name {site!r} cannot be used as a file name",
            hint="use up to 64 letters, digits, '.', '_' or '-', starting with a letter or digit, "
            "e.g. --name site-a",
        )
    # ca.pem/ca.key would collide with the CA's own files when both share a directory.
    if site.casefold() == "ca":
        raise ArgumentError("site name 'ca' is reserved for the federation CA", hint="pick another --name")


def _check_party_ids(party_ids: Sequence[int]) -> tuple[int, ...]:
    if not party_ids:
        raise ArgumentError(
            "a site certificate needs at least one party id",
            hint="name every party this site hosts, e.g. --party-id 9999 --party-id 10000",
        )
    for party in party_ids:
        if isinstance(party, bool) or not isinstance(party, int) or party <= 0:
            raise ArgumentError(
                f"party id {party!r} is not a positive integer",
                hint="give FATE party ids as in the job's runtime conf, e.g. --party-id 9999",
            )
    return tuple(sorted(set(party_ids)))


def _check_hosts(hosts: Sequence[str]) -> list[x509.GeneralName]:
    # A bare string is a Sequence[str] too, and would become one SAN per character.
    if isinstance(hosts, str):
        hosts = [hosts]
    if not hosts:
        raise ArgumentError(
            "a site certificate needs at least one host name or address",
            hint="name what other sites dial this one at, e.g. --host site-a.example.org --host 10.0.0.5",
        )
    names: list[x509.GeneralName] = []
    for host in hosts:
        try:
            names.append(x509.IPAddress(ipaddress.ip_address(host)))
            continue
        except ValueError:
            pass
        if not _is_dns_name(host):
            raise ArgumentError(
                f"host {host!r} is neither a DNS name nor an IP address",
                hint="give a name like site-a.example.org or an address like 10.0.0.5 or ::1 "
                "(no port, no brackets)",
            )
        names.append(x509.DNSName(host.lower()))
    return list(dict.fromkeys(names))


def _is_dns_name(host: str) -> bool:
    if not isinstance(host, str) or not host or len(host) > 253:
        return False
    labels = host.split(".")
    # A wildcard may stand for the leftmost label only, as TLS name matching allows.
    if labels[0] == "*" and len(labels) > 1:
        labels = labels[1:]
    return all(_DNS_LABEL.fullmatch(label) for label in labels)


# ---- the CA on disk --------------------------------------------------------------------------

_SigningKey = ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey


def _load_ca(ca_dir: Path) -> tuple[x509.Certificate, _SigningKey]:
    hint = f"create the federation CA first with `accord cert ca -o {ca_dir}`, then pass that directory"
    if not ca_dir.is_dir():
        raise InputFileError(f"no federation CA directory at {ca_dir}", hint=hint)
    cert_path, key_path = ca_dir / CA_CERT_NAME, ca_dir / CA_KEY_NAME
    cert_pem = read_pem(cert_path, "the federation CA certificate", hint=hint)
    key_pem = read_pem(key_path, "the federation CA's private key", hint=hint)
    try:
        certificate = x509.load_pem_x509_certificate(cert_pem)
    except ValueError as error:
        raise InputFileError(f"{cert_path} is not a readable certificate: {error}", hint=hint) from None
    try:
        key = serialization.load_pem_private_key(key_pem, password=None)
    except TypeError:
        raise InputFileError(
            f"{key_path} is encrypted with a passphrase",
            hint="`accord cert` signs with an unencrypted CA key; decrypt a copy with `openssl pkey` "
            "and pass its directory",
        ) from None
    except (ValueError, UnsupportedAlgorithm) as error:
        raise InputFileError(f"{key_path} is not a readable private key: {error}", hint=hint) from None
    if not isinstance(key, ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey):
        raise InputFileError(
            f"{key_path} holds a {type(key).__name__}, but the CA must have an EC or RSA key", hint=hint
        )
    if _spki(key.public_key()) != _spki(certificate.public_key()):
        raise InputFileError(f"{key_path} is not the private key of {cert_path}", hint=hint)
    try:
        is_ca = certificate.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    except x509.ExtensionNotFound:
        is_ca = False
    if not is_ca:
        raise InputFileError(f"{cert_path} is not a CA certificate (basicConstraints CA=false)", hint=hint)
    return certificate, key


def _spki(public_key: object) -> bytes:
    if not isinstance(public_key, ec.EllipticCurvePublicKey | rsa.RSAPublicKey):
        return b""
    return public_key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


# ---- writing ---------------------------------------------------------------------------------


def _check_free(files: CertFiles, overwrite: bool, *, hint: str) -> None:
    if overwrite:
        return
    existing = [str(path) for path in (files.cert, files.key) if path.exists()]
    if existing:
        raise ConflictError(f"{' and '.join(existing)} already exist", hint=hint)


def _write(out_dir: Path, files: CertFiles, certificate: x509.Certificate, key: _SigningKey) -> None:
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    cert_pem = certificate.public_bytes(serialization.Encoding.PEM)
    staged: list[tuple[str, Path]] = []
    try:
        # A new directory is its owner's alone: it holds a private key.
        out_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        # Both files are complete on disk before either replaces anything, so a failure midway never
        # leaves a certificate paired with some other key.
        staged.append((_stage(out_dir, key_pem, _KEY_MODE), files.key))
        staged.append((_stage(out_dir, cert_pem, _CERT_MODE), files.cert))
        for temporary, final in staged:
            os.replace(temporary, final)
    except OSError as error:
        for temporary, _ in staged:
            with contextlib.suppress(OSError):
                os.unlink(temporary)
        where = error.filename or out_dir
        raise OperatingError(
            f"cannot write {where}: {error.strerror or error}",
            hint="choose a directory this user may create files in with -o",
        ) from None


def _stage(out_dir: Path, data: bytes, mode: int) -> str:
    # mkstemp creates the file 0600, so a private key is never readable by others, not even briefly.
    descriptor, temporary = tempfile.mkstemp(dir=out_dir, prefix=".accord-cert-", suffix=".tmp")
    try:
        with os.fdopen(descriptor, "wb") as handle:
            os.fchmod(handle.fileno(), mode)
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
    except OSError:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
    return temporary


def _key_usage(*, cert_sign: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=not cert_sign,
        content_commitment=False,
        key_encipherment=not cert_sign,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=cert_sign,
        crl_sign=cert_sign,
        encipher_only=False,
        decipher_only=False,
    )


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(microsecond=0)
