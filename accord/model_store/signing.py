"""Who exported a model archive, and whether this site trusts them.

The checksums of an archive catch damage, not forgery: whoever edits a model can recompute them. So an
export is also signed by the exporting site. The signature covers the manifest's sha256 (which vouches
for every model file) and travels in the archive with the signer's certificate:

* ``signature.json``: the algorithm (``ecdsa-sha256`` or ``rsa-pss-sha256``, after the key's type), the
  manifest's sha256 it signs, and the signature in base64;
* ``signer.pem``: the signer's certificate.

A site in cluster mode signs with its federation key (``tls_key_file`` / ``tls_cert_file``); a site
without TLS with a signing key made once under its home (``site_signing_key.pem``, 0600), whose
self-signed certificate is also written to ``site_signing_cert.pem`` for other sites to trust.

An import trusts a signer whose certificate was issued by the federation's CA (``tls_ca_file``), is
one of ``model_trust_files`` or was issued by a CA among them, or is this site's own. A signature that
does not verify is refused always; an unsigned archive or one from a signer the site does not trust
only when the caller says so (``trust_unsigned``), with a warning in the log.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import datetime as dt
import hashlib
import json
import logging
import os
import tempfile
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.x509.oid import NameOID

from accord.errors import ArgumentError, InputFileError, UntrustedArchive
from accord.settings import Settings

log = logging.getLogger(__name__)

SIGNATURE = "signature.json"
SIGNER = "signer.pem"
SIGNING_KEY_FILE = "site_signing_key.pem"
SIGNING_CERT_FILE = "site_signing_cert.pem"
SIGNATURE_FORMAT = "accord-model-signature"
ECDSA, RSA_PSS = "ecdsa-sha256", "rsa-pss-sha256"
# What is signed names what it is, so a signature made for an archive means nothing anywhere else.
_CONTEXT = b"accord model archive, manifest sha256 "
_PSS = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=padding.PSS.DIGEST_LENGTH)
_SELF_SIGNED_DAYS = 36500
_CERT_BEGIN = b"-----BEGIN CERTIFICATE-----"

PrivateKey = ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey


def _message(manifest_sha: str) -> bytes:
    return _CONTEXT + manifest_sha.encode("ascii")


def fingerprint(certificate: x509.Certificate) -> str:
    """The certificate's sha256 fingerprint, as ``openssl x509 -fingerprint -sha256`` prints it."""
    digest = hashlib.sha256(certificate.public_bytes(serialization.Encoding.DER)).hexdigest().upper()
    return ":".join(digest[i : i + 2] for i in range(0, len(digest), 2))


def _subject(certificate: x509.Certificate) -> str:
    return certificate.subject.rfc4514_string() or "(no subject)"


@dataclass(frozen=True)
class SigningKey:
    """A site's private key and the certificate other sites know it by."""

    key: PrivateKey
    certificate: x509.Certificate

    def sign(self, manifest_sha: str) -> dict[str, bytes]:
        """The archive members that sign a manifest whose sha256 is ``manifest_sha``."""
        message = _message(manifest_sha)
        if isinstance(self.key, ec.EllipticCurvePrivateKey):
            algorithm, signature = ECDSA, self.key.sign(message, ec.ECDSA(hashes.SHA256()))
        else:
            algorithm, signature = RSA_PSS, self.key.sign(message, _PSS, hashes.SHA256())
        body = {
            "format": SIGNATURE_FORMAT,
            "algorithm": algorithm,
            "manifest_sha256": manifest_sha,
            "signature": base64.b64encode(signature).decode("ascii"),
        }
        return {
            SIGNATURE: json.dumps(body, indent=2, sort_keys=True).encode() + b"\n",
            SIGNER: self.certificate.public_bytes(serialization.Encoding.PEM),
        }

    @classmethod
    def from_files(cls, key_file: Path, cert_file: Path) -> SigningKey:
        """The federation key and certificate of a site in cluster mode."""
        key = _load_key(_read(key_file, "tls_key_file"), f"tls_key_file {key_file}")
        certificate = _load_certificates(_read(cert_file, "tls_cert_file"), f"tls_cert_file {cert_file}")[0]
        if _spki(key.public_key()) != _spki(certificate.public_key()):
            raise InputFileError(
                f"tls_key_file {key_file} is not the private key of tls_cert_file {cert_file}",
                hint="point the site config's federation.tls key and cert at one pair",
            )
        return cls(key, certificate)

    @classmethod
    def of_home(cls, home: Path) -> SigningKey:
        """The signing key of a site without TLS, made on first use under ``home``."""
        path = home / SIGNING_KEY_FILE
        if not path.exists():
            _create_self_signed(path)
        data = _read(path, "the site signing key")
        start = data.find(_CERT_BEGIN)
        where = f"the site signing key {path}"
        if start < 0:
            raise InputFileError(
                f"{where} holds no certificate", hint=f"delete {path} and export again to make a new key"
            )
        key = _load_key(data[:start], where)
        certificate = _load_certificates(data[start:], where)[0]
        public = home / SIGNING_CERT_FILE
        if not public.exists():
            # For other sites' model_trust_files; the private half never leaves the key file.
            with contextlib.suppress(OSError):
                public.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
        return cls(key, certificate)


@dataclass(frozen=True)
class TrustAnchor:
    """A certificate an import trusts, and where it came from (for messages)."""

    certificate: x509.Certificate
    source: str

    @property
    def is_ca(self) -> bool:
        try:
            return self.certificate.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
        except x509.ExtensionNotFound:
            return False


@dataclass(frozen=True)
class Signer:
    """Who signed an imported archive, and why this site accepted it."""

    subject: str
    fingerprint: str
    trusted_by: str

    def to_dict(self) -> dict[str, str]:
        return {"subject": self.subject, "fingerprint": self.fingerprint, "trusted_by": self.trusted_by}


class ArchiveSigning:
    """The key a site signs its exports with, and the certificates its imports trust."""

    def __init__(self, key: Callable[[], SigningKey], anchors: Sequence[TrustAnchor] = ()) -> None:
        self._load_key = key
        self._key: SigningKey | None = None
        self._lock = threading.Lock()
        self._anchors = tuple(anchors)

    @classmethod
    def for_site(cls, settings: Settings) -> ArchiveSigning:
        """Cluster mode: the federation key, trusting the federation's CA; else the home's own key."""
        anchors = [anchor for path in settings.model_trust_files for anchor in trust_file(path)]
        if settings.tls_key_file is not None and settings.tls_cert_file is not None:
            key_file, cert_file = settings.tls_key_file, settings.tls_cert_file
            if settings.tls_ca_file is not None:
                ca = _load_certificates(_read(settings.tls_ca_file, "tls_ca_file"), "tls_ca_file")
                where = f"the federation CA ({settings.tls_ca_file})"
                anchors += [TrustAnchor(certificate, where) for certificate in ca]
            return cls(lambda: SigningKey.from_files(key_file, cert_file), anchors)
        home = settings.home
        return cls(lambda: SigningKey.of_home(home), anchors)

    @property
    def key(self) -> SigningKey:
        # Made or read once, on first use: a site that never exports or imports writes no key.
        with self._lock:
            if self._key is None:
                self._key = self._load_key()
            return self._key

    def sign(self, manifest_sha: str) -> dict[str, bytes]:
        return self.key.sign(manifest_sha)

    def verify(
        self, members: Mapping[str, bytes], manifest_sha: str, source: str, *, trust_unsigned: bool
    ) -> Signer | None:
        """The signer of an archive whose checksums hold; UntrustedArchive unless this site trusts it.

        None for an unsigned archive accepted with ``trust_unsigned``.
        """
        fix = (
            "add the signer's certificate to the site's model_trust_files (its site_signing_cert.pem, "
            "or a certificate from its federation's CA), or pass --trust-unsigned (API: "
            '"trust_unsigned": true) if you know where the archive comes from'
        )
        if SIGNATURE not in members and SIGNER not in members:
            if not trust_unsigned:
                raise UntrustedArchive(
                    f"{source} is not signed, so nothing says which site made it", hint=fix
                )
            log.warning("imported %s unsigned, as the caller asked (trust_unsigned)", source)
            return None
        certificate = self._check_signature(members, manifest_sha, source)
        signer = Signer(_subject(certificate), fingerprint(certificate), "")
        trusted_by = self._trusted_by(certificate)
        if trusted_by is not None:
            return Signer(signer.subject, signer.fingerprint, trusted_by)
        if not trust_unsigned:
            raise UntrustedArchive(
                f"{source} is signed by {signer.subject} (sha256 fingerprint {signer.fingerprint}), "
                "whom this site does not trust",
                hint=fix,
                signer=signer.to_dict(),
            )
        log.warning(
            "imported %s signed by %s (%s), whom this site does not trust, as the caller asked "
            "(trust_unsigned)",
            source,
            signer.subject,
            signer.fingerprint,
        )
        return signer

    def _check_signature(
        self, members: Mapping[str, bytes], manifest_sha: str, source: str
    ) -> x509.Certificate:
        hint = "the archive was changed after it was signed; export it again from the site that holds it"
        if SIGNATURE not in members or SIGNER not in members:
            missing = SIGNATURE if SIGNATURE not in members else SIGNER
            raise UntrustedArchive(f"{source} has a signature but no {missing}", hint=hint)
        certificate = _load_certificates(members[SIGNER], f"{SIGNER} in {source}", error=UntrustedArchive)[0]
        try:
            body = json.loads(members[SIGNATURE])
            algorithm, signed = body["algorithm"], body["manifest_sha256"]
            signature = base64.b64decode(body["signature"], validate=True)
            if body.get("format") != SIGNATURE_FORMAT:
                raise ValueError(f"format {body.get('format')!r}")
        except (ValueError, KeyError, TypeError, binascii.Error) as error:
            raise UntrustedArchive(f"{SIGNATURE} in {source} is unreadable: {error}", hint=hint) from None
        if signed != manifest_sha:
            raise UntrustedArchive(
                f"{SIGNATURE} in {source} signs manifest sha256 {signed}, but the manifest's is "
                f"{manifest_sha}",
                hint=hint,
            )
        public = certificate.public_key()
        try:
            if algorithm == ECDSA and isinstance(public, ec.EllipticCurvePublicKey):
                public.verify(signature, _message(manifest_sha), ec.ECDSA(hashes.SHA256()))
            elif algorithm == RSA_PSS and isinstance(public, rsa.RSAPublicKey):
                public.verify(signature, _message(manifest_sha), _PSS, hashes.SHA256())
            else:
                raise UntrustedArchive(
                    f"{SIGNATURE} in {source} uses {algorithm!r}, which the signer's "
                    f"{type(public).__name__} cannot make",
                    hint=f"sign with an EC key ({ECDSA}) or an RSA key ({RSA_PSS})",
                )
        except InvalidSignature:
            raise UntrustedArchive(
                f"the signature in {source} does not match its manifest (signer {_subject(certificate)})",
                hint=hint,
            ) from None
        return certificate

    def _trusted_by(self, certificate: x509.Certificate) -> str | None:
        """Why ``certificate`` is trusted, or None."""
        now = dt.datetime.now(dt.UTC)
        if not certificate.not_valid_before_utc <= now <= certificate.not_valid_after_utc:
            return None
        der = certificate.public_bytes(serialization.Encoding.DER)
        if der == self.key.certificate.public_bytes(serialization.Encoding.DER):
            return "this site's own signing key"
        for anchor in self._anchors:
            if der == anchor.certificate.public_bytes(serialization.Encoding.DER):
                return anchor.source
            if anchor.is_ca and _issued_by(certificate, anchor.certificate):
                return anchor.source
        return None


def trust_file(path: Path) -> list[TrustAnchor]:
    """The certificates of one of ``model_trust_files``; ArgumentError naming it if it has none."""
    where = f"model_trust_files entry {path}"
    try:
        data = path.read_bytes()
    except OSError as error:
        raise ArgumentError(
            f"{where} cannot be read: {error.strerror or error}",
            hint="list PEM certificates this user may read in model_trust_files",
        ) from None
    return [TrustAnchor(c, f"model_trust_files ({path})") for c in _load_certificates(data, where)]


def _issued_by(certificate: x509.Certificate, issuer: x509.Certificate) -> bool:
    try:
        certificate.verify_directly_issued_by(issuer)
    except (ValueError, TypeError, InvalidSignature, UnsupportedAlgorithm):
        return False
    now = dt.datetime.now(dt.UTC)
    return issuer.not_valid_before_utc <= now <= issuer.not_valid_after_utc


def _read(path: Path, what: str) -> bytes:
    try:
        return path.read_bytes()
    except OSError as error:
        raise InputFileError(
            f"cannot read {what} at {path}: {error.strerror or error}",
            hint="check the path in the site config, and that this user may read the file",
        ) from None


def _load_certificates(
    data: bytes, where: str, *, error: type[ArgumentError] | type[UntrustedArchive] = ArgumentError
) -> list[x509.Certificate]:
    try:
        certificates = x509.load_pem_x509_certificates(data)
    except ValueError as problem:
        raise error(
            f"{where} holds no readable PEM certificate: {problem}", hint="pass a PEM certificate"
        ) from None
    return certificates


def _load_key(data: bytes, where: str) -> PrivateKey:
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (TypeError, ValueError, UnsupportedAlgorithm) as problem:
        raise InputFileError(
            f"{where} is not an unencrypted PEM private key: {problem}",
            hint="give the site's key as `accord cert` writes it (PEM, no passphrase)",
        ) from None
    if not isinstance(key, PrivateKey):
        raise InputFileError(
            f"{where} holds a {type(key).__name__}; model archives are signed with EC or RSA keys",
            hint="issue the site an EC or RSA key (`accord cert site` makes EC P-256)",
        )
    return key


def _spki(public_key: Any) -> bytes:
    der: bytes = public_key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return der


def _create_self_signed(path: Path) -> None:
    """Write a new key and its self-signed certificate to ``path`` (0600), unless another process did."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name(
        [x509.NameAttribute(NameOID.COMMON_NAME, f"Accord site signing key {os.urandom(4).hex()}")]
    )
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=_SELF_SIGNED_DAYS))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    data = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ) + certificate.public_bytes(serialization.Encoding.PEM)
    path.parent.mkdir(parents=True, exist_ok=True)
    # mkstemp makes the file 0600; link() publishes it whole and fails if another process won the race.
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=".signing-", suffix=".tmp")
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        with contextlib.suppress(FileExistsError):
            os.link(temporary, path)
    finally:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
