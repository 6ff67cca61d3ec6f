"""Federation certificates: what they contain, where they verify, and mutual TLS over real gRPC."""

from __future__ import annotations

import asyncio
import datetime as dt
import ipaddress
import json
import socket
import ssl
import stat
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
import pytest
from click.testing import CliRunner
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from cryptography.x509.verification import PolicyBuilder, Store, VerificationError

from accord.cli import main
from accord.errors import ArgumentError, ConflictError, InputFileError
from accord.security import (
    PARTY_URI_PREFIX,
    CertFiles,
    create_ca,
    create_site_certificate,
    party_ids_of_certificate,
    read_pem,
)


@dataclass(frozen=True)
class Federation:
    ca_dir: Path
    ca: CertFiles
    guest: CertFiles
    host: CertFiles
    # A site certified by some other federation's CA, which ours must not trust.
    stranger: CertFiles


@pytest.fixture(scope="module")
def federation(tmp_path_factory: pytest.TempPathFactory) -> Federation:
    root = tmp_path_factory.mktemp("federation")
    ca = create_ca(root / "ca")
    guest = create_site_certificate(root / "ca", root / "guest", site="guest", party_ids=[9999])
    host = create_site_certificate(root / "ca", root / "host", site="host", party_ids=[10000, 10001])
    create_ca(root / "other-ca", name="Some other CA")
    stranger = create_site_certificate(
        root / "other-ca", root / "stranger", site="stranger", party_ids=[9999]
    )
    return Federation(root / "ca", ca, guest, host, stranger)


def load(files: CertFiles) -> x509.Certificate:
    return x509.load_pem_x509_certificate(files.cert.read_bytes())


def store_of(federation: Federation) -> Store:
    return Store([load(federation.ca)])


# ---- contents and verification --------------------------------------------------------------


def test_party_ids_round_trip(federation: Federation) -> None:
    assert party_ids_of_certificate(federation.guest.cert.read_bytes()) == {9999}
    assert party_ids_of_certificate(federation.host.cert.read_bytes()) == {10000, 10001}
    assert party_ids_of_certificate(federation.ca.cert.read_bytes()) == frozenset()


def test_site_certificate_names_site_hosts_and_parties(federation: Federation) -> None:
    certificate = load(federation.host)
    assert certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "host"
    san = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.DNSName) == ["localhost"]
    assert san.get_values_for_type(x509.IPAddress) == [ipaddress.ip_address("127.0.0.1")]
    assert san.get_values_for_type(x509.UniformResourceIdentifier) == [
        f"{PARTY_URI_PREFIX}10000",
        f"{PARTY_URI_PREFIX}10001",
    ]
    usage = certificate.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert set(usage) == {ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH}
    assert not certificate.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    key_usage = certificate.extensions.get_extension_for_class(x509.KeyUsage).value
    assert key_usage.digital_signature and key_usage.key_encipherment and not key_usage.key_cert_sign
    assert isinstance(certificate.public_key(), ec.EllipticCurvePublicKey)


def test_site_certificate_verifies_against_the_ca_as_server_and_client(federation: Federation) -> None:
    leaf = load(federation.host)
    policy = PolicyBuilder().store(store_of(federation))
    for name in (x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))):
        chain = policy.build_server_verifier(name).verify(leaf, [])
        assert chain[-1] == load(federation.ca)
    assert policy.build_client_verifier().verify(leaf, []).chain[-1] == load(federation.ca)


def test_certificate_of_another_ca_does_not_verify(federation: Federation) -> None:
    verifier = PolicyBuilder().store(store_of(federation)).build_client_verifier()
    with pytest.raises(VerificationError):
        verifier.verify(load(federation.stranger), [])


def test_site_certificate_expires_with_its_ca_at_the_latest(tmp_path: Path) -> None:
    ca = create_ca(tmp_path / "ca", days=30)
    files = create_site_certificate(tmp_path / "ca", tmp_path, site="s", party_ids=[1], days=825)
    assert load(files).not_valid_after_utc == load(ca).not_valid_after_utc


def test_key_files_are_readable_by_their_owner_only(federation: Federation) -> None:
    for files in (federation.ca, federation.guest, federation.host):
        assert stat.S_IMODE(files.key.stat().st_mode) == 0o600
        assert stat.S_IMODE(files.cert.stat().st_mode) == 0o644
    assert not [path for path in federation.ca_dir.parent.rglob(".*") if path.is_file()]


# ---- refusals ---------------------------------------------------------------------------------


def test_existing_files_are_kept_unless_overwrite(tmp_path: Path) -> None:
    first = create_ca(tmp_path)
    before = first.cert.read_bytes()
    with pytest.raises(ConflictError, match="already exist") as refused:
        create_ca(tmp_path)
    assert refused.value.hint and "--force" in refused.value.hint
    assert first.cert.read_bytes() == before
    create_site_certificate(tmp_path, tmp_path / "s", site="s", party_ids=[1])
    with pytest.raises(ConflictError):
        create_site_certificate(tmp_path, tmp_path / "s", site="s", party_ids=[2])
    replaced = create_site_certificate(tmp_path, tmp_path / "s", site="s", party_ids=[2], overwrite=True)
    assert party_ids_of_certificate(replaced.cert.read_bytes()) == {2}
    assert create_ca(tmp_path, overwrite=True).cert.read_bytes() != before


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"party_ids": []}, "at least one party id"),
        ({"party_ids": [0]}, "not a positive integer"),
        ({"party_ids": [-5]}, "not a positive integer"),
        ({"party_ids": [True]}, "not a positive integer"),
        ({"site": "../escape"}, "file name"),
        ({"site": ""}, "file name"),
        ({"site": "CA"}, "reserved"),
        ({"hosts": []}, "at least one host"),
        ({"hosts": ["bad host"]}, "neither a DNS name"),
        ({"hosts": ["[::1]"]}, "neither a DNS name"),
        ({"days": 0}, "out of range"),
    ],
)
def test_bad_input_is_an_argument_error(
    federation: Federation, tmp_path: Path, changes: dict[str, Any], message: str
) -> None:
    arguments: dict[str, Any] = {"site": "s", "party_ids": [9999], **changes}
    with pytest.raises(ArgumentError, match=message) as refused:
        create_site_certificate(federation.ca_dir, tmp_path, **arguments)
    assert refused.value.hint
    assert not list(tmp_path.iterdir())


def test_missing_ca_says_to_create_it_first(tmp_path: Path) -> None:
    with pytest.raises(InputFileError) as refused:
        create_site_certificate(tmp_path / "nowhere", tmp_path, site="s", party_ids=[1])
    assert str(tmp_path / "nowhere") in refused.value.message
    assert refused.value.hint and "accord cert ca" in refused.value.hint
    (tmp_path / "half").mkdir()
    create_ca(tmp_path / "full")
    (tmp_path / "half" / "ca.pem").write_bytes((tmp_path / "full" / "ca.pem").read_bytes())
    with pytest.raises(InputFileError, match=r"ca\.key"):
        create_site_certificate(tmp_path / "half", tmp_path, site="s", party_ids=[1])


def test_a_ca_key_that_does_not_match_its_certificate_is_refused(tmp_path: Path) -> None:
    create_ca(tmp_path / "a")
    create_ca(tmp_path / "b")
    (tmp_path / "a" / "ca.key").write_bytes((tmp_path / "b" / "ca.key").read_bytes())
    with pytest.raises(InputFileError, match="not the private key"):
        create_site_certificate(tmp_path / "a", tmp_path / "out", site="s", party_ids=[1])


def test_read_pem_names_the_path_and_what_was_expected(tmp_path: Path) -> None:
    with pytest.raises(InputFileError, match="the site certificate") as refused:
        read_pem(tmp_path / "gone.pem", "the site certificate")
    assert str(tmp_path / "gone.pem") in refused.value.message
    (tmp_path / "plain.pem").write_text("hello")
    with pytest.raises(InputFileError, match="not a PEM file"):
        read_pem(tmp_path / "plain.pem", "the site certificate")


def _certificate_with_uris(*uris: str) -> bytes:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "odd")])
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(now)
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.UniformResourceIdentifier(uri) for uri in uris]), critical=False
        )
        .sign(key, hashes.SHA256())
    )
    return certificate.public_bytes(Encoding.PEM)


def test_party_uris_other_than_accord_ones_are_ignored() -> None:
    pem = _certificate_with_uris("spiffe://example.org/site", "URN:Accord:Party:42", "urn:other:party:7")
    assert party_ids_of_certificate(pem) == {42}


@pytest.mark.parametrize("tail", ["", "abc", "0", "-1", "007", " 1", "1.5", "9" * 30])
def test_a_malformed_party_uri_is_an_argument_error(tail: str) -> None:
    with pytest.raises(ArgumentError, match="malformed party"):
        party_ids_of_certificate(_certificate_with_uris(f"{PARTY_URI_PREFIX}{tail}"))


def test_not_a_certificate_is_an_argument_error() -> None:
    with pytest.raises(ArgumentError, match="not a readable PEM certificate"):
        party_ids_of_certificate(b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")


# ---- the command line -------------------------------------------------------------------------


def invoke(*args: str) -> tuple[int, dict[str, Any]]:
    result = CliRunner().invoke(main, ["cert", *args])
    return result.exit_code, json.loads(result.output)


def test_cli_creates_a_ca_and_site_certificates(tmp_path: Path) -> None:
    code, body = invoke("ca", "-o", str(tmp_path / "ca"), "--name", "Test CA", "--days", "10")
    assert code == 0 and body["retcode"] == 0 and body["retmsg"] == "success"
    assert body["data"]["cert"] == str(tmp_path / "ca" / "ca.pem")
    assert body["data"]["subject"] == "CN=Test CA"

    code, body = invoke(
        "site", "--ca", str(tmp_path / "ca"), "-o", str(tmp_path / "sites"), "--name", "site-a",
        "--party-id", "10000", "--party-id", "9999", "--host", "Site-A.example.org", "--host", "10.0.0.5",
    )  # fmt: skip
    assert code == 0, body
    data = body["data"]
    assert data["party_ids"] == [9999, 10000]
    assert data["hosts"] == ["site-a.example.org", "10.0.0.5"]
    assert data["ca"] == str(tmp_path / "ca" / "ca.pem")
    assert data["key"] == str(tmp_path / "sites" / "site-a.key")
    assert party_ids_of_certificate(Path(data["cert"]).read_bytes()) == {9999, 10000}

    code, body = invoke(
        "site", "--ca", str(tmp_path / "ca"), "-o", str(tmp_path / "x"), "--name", "b", "--party-id", "1"
    )
    assert code == 0 and body["data"]["hosts"] == ["localhost", "127.0.0.1"]


def test_cli_errors_are_coded_envelopes(tmp_path: Path) -> None:
    code, body = invoke(
        "site", "--ca", str(tmp_path / "none"), "-o", str(tmp_path), "--name", "s", "--party-id", "1"
    )
    assert (code, body["retcode"]) == (2, InputFileError.code)
    assert "accord cert ca" in body["retmsg"]

    assert invoke("ca", "-o", str(tmp_path / "ca"))[0] == 0
    code, body = invoke("site", "--ca", str(tmp_path / "ca"), "-o", str(tmp_path), "--name", "s")
    assert (code, body["retcode"]) == (2, ArgumentError.code)
    assert "--party-id" in body["retmsg"]

    code, body = invoke("ca", "-o", str(tmp_path / "ca"))
    assert (code, body["retcode"]) == (1, ConflictError.code)
    assert invoke("ca", "-o", str(tmp_path / "ca"), "--force")[0] == 0


# ---- mutual TLS over real gRPC ---------------------------------------------------------------

ECHO = "/accord.test.Echo/Echo"


@dataclass
class EchoServer:
    port: int
    # What the server saw of each call's peer: its auth context.
    peers: list[dict[str, list[bytes]]]


@pytest.fixture
async def echo_server(federation: Federation) -> AsyncIterator[EchoServer]:
    peers: list[dict[str, list[bytes]]] = []

    def echo(request: bytes, context: grpc.aio.ServicerContext[bytes, bytes]) -> bytes:
        peers.append({key: list(values) for key, values in context.auth_context().items()})
        return request

    method = grpc.unary_unary_rpc_method_handler(echo)  # type: ignore[no-untyped-call]
    handler = grpc.method_handlers_generic_handler("accord.test.Echo", {"Echo": method})  # type: ignore[no-untyped-call]
    server = grpc.aio.server()
    server.add_generic_rpc_handlers((handler,))
    credentials = grpc.ssl_server_credentials(  # type: ignore[no-untyped-call]
        [(federation.guest.key.read_bytes(), federation.guest.cert.read_bytes())],
        root_certificates=federation.ca.cert.read_bytes(),
        require_client_auth=True,
    )
    port = server.add_secure_port("127.0.0.1:0", credentials)
    await server.start()
    yield EchoServer(port, peers)
    await server.stop(None)


async def call(server: EchoServer, credentials: grpc.ChannelCredentials) -> bytes:
    async with grpc.aio.secure_channel(f"127.0.0.1:{server.port}", credentials) as channel:
        echo: grpc.aio.UnaryUnaryMultiCallable[bytes, bytes] = channel.unary_unary(ECHO)
        return await echo(b"ping", timeout=5)


def client_credentials(federation: Federation, files: CertFiles | None) -> grpc.ChannelCredentials:
    ca = federation.ca.cert.read_bytes()
    if files is None:
        credentials: grpc.ChannelCredentials = grpc.ssl_channel_credentials(root_certificates=ca)  # type: ignore[no-untyped-call]
    else:
        credentials = grpc.ssl_channel_credentials(  # type: ignore[no-untyped-call]
            root_certificates=ca,
            private_key=files.key.read_bytes(),
            certificate_chain=files.cert.read_bytes(),
        )
    return credentials


async def test_mutual_tls_call_carries_the_callers_parties(
    federation: Federation, echo_server: EchoServer
) -> None:
    assert await call(echo_server, client_credentials(federation, federation.host)) == b"ping"
    [peer] = echo_server.peers
    [pem] = peer["x509_pem_cert"]
    assert pem == federation.host.cert.read_bytes()
    assert party_ids_of_certificate(pem) == {10000, 10001}
    assert peer["x509_common_name"] == [b"host"]


@pytest.mark.parametrize("who", ["nobody", "stranger"])
async def test_a_caller_without_a_federation_certificate_is_refused(
    federation: Federation, echo_server: EchoServer, who: str
) -> None:
    files = federation.stranger if who == "stranger" else None
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await call(echo_server, client_credentials(federation, files))
    assert refused.value.code() == grpc.StatusCode.UNAVAILABLE
    assert echo_server.peers == []


@pytest.mark.parametrize(
    ("version", "expected"),
    [(ssl.TLSVersion.TLSv1_2, "TLSv1.2"), (ssl.TLSVersion.TLSv1_3, "TLSv1.3")],
    ids=["tls1.2", "tls1.3"],
)
async def test_grpc_accepts_the_ec_certificates_on_tls_1_2_and_1_3(
    federation: Federation, echo_server: EchoServer, version: ssl.TLSVersion, expected: str
) -> None:
    # gRPC's Python API cannot pin a TLS version, so a plain TLS client pins it instead.
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.minimum_version = context.maximum_version = version
    context.load_verify_locations(federation.ca.cert)
    context.load_cert_chain(federation.host.cert, federation.host.key)
    context.set_alpn_protocols(["h2"])

    def handshake() -> tuple[str | None, str | None]:
        with (
            socket.create_connection(("127.0.0.1", echo_server.port), timeout=5) as raw,
            context.wrap_socket(raw, server_hostname="localhost") as tls,
        ):
            # TLS 1.3 servers check the client certificate after the client's handshake ends; a
            # read shows whether the server kept the connection (it sends its HTTP/2 settings).
            tls.settimeout(5)
            assert tls.recv(1)
            return tls.version(), tls.selected_alpn_protocol()

    assert await asyncio.to_thread(handshake) == (expected, "h2")
