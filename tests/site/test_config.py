"""Site config files (YAML and TOML) become the one Settings object, or a clear error naming the field."""

from __future__ import annotations

from pathlib import Path

import pytest

from accord.errors import ArgumentError
from accord.site.config import load_site_config

FULL_YAML = """
party_ids: [9999]
home: data
database_url: postgresql+psycopg2://accord@db:5432/accord
temporal:
  address: temporal:7233
  namespace: fl
  task_queue: accord-9999
  ui_port: 8080
http:
  host: 0.0.0.0
  port: 9380
  auth: true
  app_credentials:
    admin: s3cret
federation:
  host: 0.0.0.0
  port: 9360
  timeout_s: 4
  attempts: 3
  tls:
    ca: tls/ca.pem
    cert: tls/party-9999.pem
    key: /etc/accord/tls/party-9999.key
serving:
  host: 0.0.0.0
  port: 8069
routes:
  10000: host-site:9360
  default: hub:9360
computing:
  nodes: 2
  cores_per_node: 8
"""


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_every_section_of_a_yaml_config(tmp_path: Path) -> None:
    settings = load_site_config(write(tmp_path, "site.yaml", FULL_YAML))
    assert settings.local_party_ids == (9999,)
    assert settings.home == tmp_path / "data", "relative paths are relative to the file"
    assert settings.database_url == "postgresql+psycopg2://accord@db:5432/accord"
    assert (settings.temporal_address, settings.temporal_namespace, settings.task_queue) == (
        "temporal:7233",
        "fl",
        "accord-9999",
    )
    assert settings.http_auth and settings.app_credentials == {"admin": "s3cret"}
    assert (settings.federation_host, settings.federation_port) == ("0.0.0.0", 9360)
    assert (settings.serving_host, settings.serving_port) == ("0.0.0.0", 8069)
    assert (settings.federation_timeout_s, settings.federation_attempts) == (4, 3)
    assert settings.tls_ca_file == tmp_path / "tls" / "ca.pem"
    assert settings.tls_key_file == Path("/etc/accord/tls/party-9999.key")
    assert settings.routes == {10000: "host-site:9360"} and settings.default_route == "hub:9360"
    assert settings.route(10000) == "host-site:9360" and settings.route(10001) == "hub:9360"
    assert (settings.computing_nodes, settings.computing_cores_per_node) == (2, 8)
    assert settings.hosts_party(9999) and not settings.hosts_party(10000)


def test_toml_and_overrides(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "site.toml",
        'party_ids = [10000, 10001]\n[federation]\nport = 9361\n[routes]\n9999 = "guest:9360"\n',
    )
    settings = load_site_config(path, home=tmp_path / "elsewhere")
    assert settings.local_party_ids == (10000, 10001)
    assert settings.federation_port == 9361 and settings.routes == {9999: "guest:9360"}
    assert settings.home == tmp_path / "elsewhere"


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("federation:\n  prot: 9360\n", "federation.prot"),
        ("routes:\n  guest: a:1\n", "routes"),
        ("federation:\n  tls:\n    ca: ca.pem\n", "federation.tls.cert"),
        ("party_ids: [nine]\n", "party_ids.0"),
        ("http:\n  auth: true\n", "app_credentials"),
        ("- a\n- b\n", "mapping"),
        ("federation: [\n", "not valid YAML"),
    ],
)
def test_bad_configs_name_the_field(tmp_path: Path, text: str, names: str) -> None:
    with pytest.raises(ArgumentError) as caught:
        load_site_config(write(tmp_path, "site.yaml", text))
    assert names in caught.value.message, caught.value.message


def test_a_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ArgumentError, match="does not exist"):
        load_site_config(tmp_path / "nope.yaml")
