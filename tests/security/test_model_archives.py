"""Signed model archives: an import trusts the exporting site's signature, not checksums anyone can redo.

Sites here are real site homes (SQLite, a models folder) with the signing a server builds from its
settings: cluster sites sign with certificates from a real test CA, standalone sites with the key they
make under their home. The CLI and HTTP API run against real standalone sites.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import io
import json
import logging
import stat
import zipfile
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from accord.api.app import create_app
from accord.errors import ArgumentError, UntrustedArchive
from accord.model_store import ArchiveSigning, ModelKey, ModelService, ModelStore
from accord.model_store.signing import RSA_PSS, SIGNING_CERT_FILE, SIGNING_KEY_FILE
from accord.persistence import Database, JobRepository, ModelRepository
from accord.security.certs import CA_CERT_NAME, create_ca, create_site_certificate
from accord.settings import Settings
from tests.api.helpers import accord
from tests.http_server import serve_http
from tests.model_store.support import MODEL_ID, VERSION, rewrite
from tests.scheduling.harness import RunningSite

LR = {"param": {"weight": {"x0": 0.25}, "intercept": -0.5}}
GUEST = ("guest", 9999)


@dataclass
class Site:
    root: Path
    store: ModelStore
    service: ModelService
    database: Database

    def export(self) -> bytes:
        return self.service.export_bytes(MODEL_ID, VERSION, *GUEST)

    def holds_nothing(self) -> bool:
        return self.service.list_models() == []


@pytest.fixture
def make_home(tmp_path: Path) -> Iterator[Callable[..., Site]]:
    made: list[Site] = []

    def make(name: str, **settings: Any) -> Site:
        root = tmp_path / name
        root.mkdir()
        database = Database(f"sqlite:///{root / 'accord.db'}")
        database.migrate()
        store = ModelStore(root / "models", ModelRepository(database))
        signing = ArchiveSigning.for_site(Settings(home=root, **settings))
        site = Site(root, store, ModelService(store, JobRepository(database), signing=signing), database)
        made.append(site)
        return site

    yield make
    for site in made:
        site.database.dispose()


def cluster(tmp_path: Path, site: str, ca: str = "ca", **extra: Any) -> dict[str, Any]:
    """Settings of a site in cluster mode, its certificate from the CA in ``tmp_path / ca``."""
    ca_dir = tmp_path / ca
    if not (ca_dir / CA_CERT_NAME).exists():
        create_ca(ca_dir)
    cert = create_site_certificate(ca_dir, tmp_path / f"tls-{site}", site=site, party_ids=[9999])
    return {
        "tls_ca_file": ca_dir / CA_CERT_NAME,
        "tls_cert_file": cert.cert,
        "tls_key_file": cert.key,
        **extra,
    }


def trained(site: Site) -> Site:
    site.store.save(ModelKey(MODEL_ID, VERSION, *GUEST, "hetero_lr_0"), LR)
    return site


def members(archive: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(archive)) as opened:
        return {name: opened.read(name) for name in opened.namelist()}


def recomputed(archive: bytes) -> bytes:
    """The archive with a weight changed and every sha256 (and size) recomputed to match."""

    def edit(files: dict[str, bytes]) -> None:
        model = files["models/hetero_lr_0.json"].replace(b"0.25", b"9.25")
        files["models/hetero_lr_0.json"] = model
        manifest = json.loads(files["manifest.json"])
        [component] = manifest["components"]
        component.update(sha256=hashlib.sha256(model).hexdigest(), size=len(model))
        body = json.dumps(manifest, indent=2, sort_keys=True).encode() + b"\n"
        files["manifest.json"] = body
        files["manifest.sha256"] = f"{hashlib.sha256(body).hexdigest()}  manifest.json\n".encode()

    return rewrite(archive, edit)


def unsigned(archive: bytes) -> bytes:
    def strip(files: dict[str, bytes]) -> None:
        del files["signature.json"], files["signer.pem"]

    return rewrite(archive, strip)


def test_an_edited_archive_with_recomputed_checksums_is_refused(
    make_home: Callable[..., Site], tmp_path: Path
) -> None:
    source = trained(make_home("source", **cluster(tmp_path, "source")))
    target = make_home("target", **cluster(tmp_path, "target"))
    forged = recomputed(source.export())
    # The checksums all hold: before signatures, this archive was imported.
    assert (
        hashlib.sha256(members(forged)["manifest.json"]).hexdigest().encode()
        in members(forged)["manifest.sha256"]
    )
    for trust_unsigned in (False, True):
        with pytest.raises(UntrustedArchive, match="signs manifest sha256") as refused:
            target.service.import_bytes(forged, trust_unsigned=trust_unsigned)
        assert refused.value.code == 10804 and "export it again" in (refused.value.hint or "")
    # Stripping the signature leaves an archive that no one vouches for.
    with pytest.raises(UntrustedArchive, match="not signed") as stripped:
        target.service.import_bytes(unsigned(forged))
    assert "--trust-unsigned" in (stripped.value.hint or "")
    # Re-signing it with a key of one's own makes a signer the site does not know.
    attacker = make_home("attacker")
    attacker.service.import_bytes(unsigned(forged), trust_unsigned=True)
    with pytest.raises(UntrustedArchive, match="does not trust"):
        target.service.import_bytes(attacker.export())
    assert target.holds_nothing()


def test_a_signature_that_does_not_verify_is_refused(make_home: Callable[..., Site], tmp_path: Path) -> None:
    source = trained(make_home("source", **cluster(tmp_path, "source")))
    target = make_home("target", **cluster(tmp_path, "target"))

    def flip(files: dict[str, bytes]) -> None:
        body = json.loads(files["signature.json"])
        raw = bytearray(base64.b64decode(body["signature"]))
        raw[-1] ^= 1
        body["signature"] = base64.b64encode(bytes(raw)).decode()
        files["signature.json"] = json.dumps(body).encode()

    with pytest.raises(UntrustedArchive, match="does not match its manifest"):
        target.service.import_bytes(rewrite(source.export(), flip), trust_unsigned=True)
    assert target.holds_nothing()


def test_sites_whose_certificates_chain_to_one_ca_accept_each_others_archives(
    make_home: Callable[..., Site], tmp_path: Path
) -> None:
    source = trained(make_home("source", **cluster(tmp_path, "site-a")))
    target = make_home("target", **cluster(tmp_path, "site-b"))
    archive = source.export()
    assert {"signature.json", "signer.pem"} <= set(members(archive))
    imported = target.service.import_bytes(archive)
    assert imported.signer is not None
    assert imported.signer.subject == "CN=site-a" and "federation CA" in imported.signer.trusted_by
    assert imported.to_dict()["signer"]["fingerprint"] == imported.signer.fingerprint
    assert target.store.load(ModelKey(MODEL_ID, VERSION, *GUEST, "hetero_lr_0")) == LR


def test_an_unknown_signer_is_refused_until_its_certificate_is_trusted(
    make_home: Callable[..., Site], tmp_path: Path
) -> None:
    standalone = trained(make_home("standalone"))
    other_federation = trained(make_home("other", **cluster(tmp_path, "site-x", ca="other-ca")))
    target = make_home("target", **cluster(tmp_path, "site-b"))
    for source in (standalone, other_federation):
        with pytest.raises(UntrustedArchive, match="whom this site does not trust") as refused:
            target.service.import_bytes(source.export())
        message = refused.value.retmsg
        assert "model_trust_files" in message and "--trust-unsigned" in message
    assert target.holds_nothing()

    # The standalone site's certificate (written next to its key), and the other federation's CA.
    trusted = make_home(
        "trusting",
        **cluster(
            tmp_path,
            "site-c",
            model_trust_files=(standalone.root / SIGNING_CERT_FILE, tmp_path / "other-ca" / CA_CERT_NAME),
        ),
    )
    by_file = trusted.service.import_bytes(standalone.export())
    assert by_file.signer is not None and "model_trust_files" in by_file.signer.trusted_by
    by_ca = trusted.service.import_bytes(other_federation.export(), force=True)
    assert by_ca.signer is not None and by_ca.signer.subject == "CN=site-x"


def test_trust_unsigned_accepts_unsigned_or_untrusted_archives_with_a_warning(
    make_home: Callable[..., Site], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    source = trained(make_home("source"))
    target = make_home("target", **cluster(tmp_path, "site-b"))
    with caplog.at_level(logging.WARNING, logger="accord.model_store.signing"):
        plain = target.service.import_bytes(unsigned(source.export()), trust_unsigned=True)
        assert plain.signer is None
        stranger = target.service.import_bytes(source.export(), trust_unsigned=True, force=True)
    assert stranger.signer is not None and stranger.signer.trusted_by == ""
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 2 and all("trust_unsigned" in w for w in warnings)


def test_a_standalone_site_signs_with_one_private_key_and_trusts_it(
    make_home: Callable[..., Site], tmp_path: Path
) -> None:
    site = trained(make_home("site"))
    archive = site.export()
    key_file = site.root / SIGNING_KEY_FILE
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert b"PRIVATE KEY" not in (site.root / SIGNING_CERT_FILE).read_bytes()
    # The key is made once: a restarted site signs with the same one.
    again = ArchiveSigning.for_site(Settings(home=site.root))
    certificate = (site.root / SIGNING_CERT_FILE).read_bytes()
    assert members(archive)["signer.pem"] == certificate
    assert again.key.certificate.public_bytes(serialization.Encoding.PEM) == certificate
    site.service.delete(MODEL_ID, VERSION)
    imported = site.service.import_bytes(archive)
    assert imported.signer is not None and imported.signer.trusted_by == "this site's own signing key"


def test_an_rsa_federation_key_signs_with_pss(make_home: Callable[..., Site], tmp_path: Path) -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "rsa-site")])
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=30))
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = tmp_path / "rsa.pem", tmp_path / "rsa.key"
    cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    source = trained(
        make_home("source", tls_ca_file=cert_file, tls_cert_file=cert_file, tls_key_file=key_file)
    )
    archive = source.export()
    assert json.loads(members(archive)["signature.json"])["algorithm"] == RSA_PSS
    target = make_home("target", model_trust_files=(cert_file,))
    imported = target.service.import_bytes(archive)
    assert imported.signer is not None and imported.signer.subject == "CN=rsa-site"


def test_a_bad_trust_file_is_named(tmp_path: Path) -> None:
    junk = tmp_path / "junk.pem"
    junk.write_text("not a certificate")
    with pytest.raises(ArgumentError, match="model_trust_files entry"):
        ArchiveSigning.for_site(Settings(home=tmp_path, model_trust_files=(junk,)))


# ---- the CLI and the HTTP API of real sites ----------------------------------------------------


@pytest.mark.asyncio(loop_scope="session")
async def test_cli_and_api_refuse_an_untrusted_archive_unless_told_to_trust_it(
    make_site: Callable[..., Awaitable[RunningSite]], tmp_path: Path
) -> None:
    exporter, importer = await make_site(), await make_site()
    ModelStore(exporter.settings.home / "models", ModelRepository(exporter.site.database)).save(
        ModelKey(MODEL_ID, VERSION, *GUEST, "hetero_lr_0"), LR
    )
    archive = tmp_path / "guest.zip"
    archive.write_bytes(exporter.site.models.export_bytes(MODEL_ID, VERSION, *GUEST))
    app = create_app(importer.site.jobs, models=importer.site.models)
    async with serve_http(app, importer.settings.http_host, importer.settings.http_port) as address:
        refused = await accord("model", "import", "-i", str(archive), server=address, home=tmp_path)
        assert refused.returncode != 0 and refused.envelope["retcode"] == UntrustedArchive.code
        assert "--trust-unsigned" in refused.envelope["retmsg"]
        taken = await accord(
            "model", "import", "-i", str(archive), "--trust-unsigned", server=address, home=tmp_path
        )
        assert taken.returncode == 0, taken.envelope
        assert taken.envelope["data"]["signer"]["trusted_by"] == ""

    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as api:
        body = archive.read_bytes()
        zipped = {"content-type": "application/zip"}
        no = await api.post("/v1/model/import?force=true", content=body, headers=zipped)
        assert no.status_code == 403 and no.json()["retcode"] == UntrustedArchive.code
        yes = await api.post("/v1/model/import?force=true&trust_unsigned=true", content=body, headers=zipped)
        assert yes.status_code == 200, yes.text
        plain = unsigned(body)
        assert (
            await api.post("/v1/model/import?force=true", content=plain, headers=zipped)
        ).status_code == 403
        schema = (await api.get("/openapi.json")).json()["paths"]["/v1/model/import"]["post"]
        json_body = schema["requestBody"]["content"]["application/json"]["schema"]
        assert "trust_unsigned" in json_body["properties"]
