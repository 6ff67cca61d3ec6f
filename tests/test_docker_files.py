"""The docker deployment (docker/): what can be checked without a docker engine.

The compose file's services, images, commands and mounts; the two site configs, loaded as the
containers load them; the Dockerfile against the Makefile's install; and the CLI commands that the
compose file and docker/README.md run.
"""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path
from typing import Any

import click
import pytest
import yaml

from accord.cli import main
from tests.corpus import FATE_ROOT

ROOT = Path(__file__).resolve().parents[1]
DOCKER = ROOT / "docker"
PARTIES = {9999: 10000, 10000: 9999}  # party -> its peer
SITE_CONFIG = "/etc/accord/site.yaml"
TLS_DIR = "/etc/accord/tls"
HOME = "/var/lib/accord"
FEDERATION_PORT = 9360
HTTP_PORT = 9380


def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((DOCKER / "compose.yaml").read_text(encoding="utf-8"))
    return loaded


def services() -> dict[str, dict[str, Any]]:
    """The sites' services; the optional ones of a profile (metrics) are checked on their own."""
    found: dict[str, dict[str, Any]] = compose()["services"]
    return {name: service for name, service in found.items() if not service.get("profiles")}


def profile_services(profile: str) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = compose()["services"]
    return {name: service for name, service in found.items() if profile in service.get("profiles", [])}


def mounts(service: dict[str, Any]) -> list[tuple[str, str, bool]]:
    """(source, target, read-only) of each volume entry, short or long syntax."""
    result = []
    for entry in service.get("volumes", []):
        if isinstance(entry, dict):
            result.append((entry["source"], entry["target"], bool(entry.get("read_only", False))))
        else:
            read_only = entry.endswith(":ro")
            source, target = entry.removesuffix(":ro").removesuffix(":rw").rsplit(":", 1)
            result.append((source, target, read_only))
    return result


def mount_at(service: dict[str, Any], target: str) -> tuple[str, bool]:
    found = [(source, read_only) for source, mounted, read_only in mounts(service) if mounted == target]
    assert len(found) == 1, f"one mount at {target}, got {found}"
    return found[0]


def load_site(party_id: int) -> Any:
    config = pytest.importorskip(
        "accord.site.config", reason="accord.site.config (the site config loader) is not written yet"
    )
    return config.load_site_config(DOCKER / f"party-{party_id}" / "site.yaml")


# ---- compose.yaml ------------------------------------------------------------------------------


def test_compose_has_six_services_per_party() -> None:
    # temporal-attributes: a one-off that registers the job search attributes on the site's Temporal.
    expected = {
        f"{kind}-{party}"
        for party in PARTIES
        for kind in (
            "postgres",
            "temporal",
            "temporal-attributes",
            "temporal-ui",
            "accord-server",
            "accord-worker",
        )
    }
    assert set(services()) == expected


@pytest.mark.parametrize("party", PARTIES)
def test_postgres_and_temporal_of_a_party(party: int) -> None:
    found = services()
    postgres = found[f"postgres-{party}"]
    assert postgres["image"].startswith("postgres:15")
    source, read_only = mount_at(postgres, "/docker-entrypoint-initdb.d/accord.sql")
    assert (DOCKER / source).resolve() == DOCKER / "postgres-init.sql" and read_only

    temporal = found[f"temporal-{party}"]
    assert temporal["image"].startswith("temporalio/auto-setup:")
    env = temporal["environment"]
    assert env["DB"] == "postgres12"
    assert env["POSTGRES_SEEDS"] == f"postgres-{party}"
    assert env["POSTGRES_USER"] == postgres["environment"]["POSTGRES_USER"]
    assert env["POSTGRES_PWD"] == postgres["environment"]["POSTGRES_PASSWORD"]
    assert temporal["depends_on"][f"postgres-{party}"]["condition"] == "service_healthy"

    ui = found[f"temporal-ui-{party}"]
    assert ui["image"].startswith("temporalio/ui:")
    assert ui["environment"]["TEMPORAL_ADDRESS"] == f"temporal-{party}:7233"


def test_each_temporal_ui_has_its_own_host_port() -> None:
    found = services()
    host_ports = [found[f"temporal-ui-{party}"]["ports"][0].rsplit(":", 2)[-2] for party in PARTIES]
    assert len(set(host_ports)) == len(PARTIES)


@pytest.mark.parametrize("party", PARTIES)
@pytest.mark.parametrize("process", ["server", "worker"])
def test_accord_service(party: int, process: str) -> None:
    service = services()[f"accord-{process}-{party}"]
    build = service["build"]
    assert (DOCKER / build["context"]).resolve() == ROOT
    assert build["dockerfile"] == "docker/Dockerfile"
    assert service["command"] == [process, "-c", SITE_CONFIG]

    source, read_only = mount_at(service, SITE_CONFIG)
    assert (DOCKER / source).resolve() == DOCKER / f"party-{party}" / "site.yaml" and read_only
    source, read_only = mount_at(service, TLS_DIR)
    assert (DOCKER / source).resolve() == DOCKER / "tls" / f"party-{party}" and read_only
    source, read_only = mount_at(service, HOME)
    assert source == f"home-{party}" and not read_only
    assert source in compose()["volumes"]

    for dependency in (f"postgres-{party}", f"temporal-{party}"):
        assert service["depends_on"][dependency]["condition"] == "service_healthy"


@pytest.mark.parametrize("party", PARTIES)
def test_server_and_worker_of_a_party_share_its_home(party: int) -> None:
    found = services()
    homes = {mount_at(found[f"accord-{process}-{party}"], HOME)[0] for process in ("server", "worker")}
    peer_home = mount_at(found[f"accord-server-{PARTIES[party]}"], HOME)[0]
    assert len(homes) == 1 and peer_home not in homes


def test_only_accord_processes_are_on_the_federation_network() -> None:
    for name, service in services().items():
        party = name.rsplit("-", 1)[1]
        networks = set(service["networks"])
        if name.startswith("accord-"):
            assert networks == {f"site-{party}", "federation"}, name
        else:
            assert networks == {f"site-{party}"}, name


def test_every_mounted_file_of_the_repository_exists() -> None:
    for name, service in services().items():
        for source, _, _ in mounts(service):
            if not source.startswith((".", "/")):
                continue  # a named volume, or a path from the environment
            path = (DOCKER / source).resolve()
            if path.is_relative_to(DOCKER / "tls"):
                continue  # generated by `accord cert`, git-ignored
            assert path.exists(), f"{name} mounts {source}, which does not exist"
    assert "tls/" in (DOCKER / ".gitignore").read_text(encoding="utf-8").split()


def test_fate_examples_default_to_where_the_project_finds_them() -> None:
    server = services()["accord-server-9999"]
    source, read_only = mount_at(server, "/data/projects/fate/examples")
    default = re.fullmatch(r"\$\{FATE_EXAMPLES:-(.+)\}", source)
    assert default and read_only, source
    assert (DOCKER / default.group(1)).resolve() == FATE_ROOT.resolve() / "examples"


def test_postgres_init_creates_the_database_the_sites_use() -> None:
    script = (DOCKER / "postgres-init.sql").read_text(encoding="utf-8")
    for party in PARTIES:
        site = load_site(party)
        url = site.database_url
        match = re.fullmatch(r"postgresql\+psycopg2://(\w+):(\w+)@([\w-]+):5432/(\w+)", url)
        assert match, url
        user, password, host, database = match.groups()
        assert host == f"postgres-{party}"
        assert f"CREATE ROLE {user} LOGIN PASSWORD '{password}'" in script
        assert f"CREATE DATABASE {database} OWNER {user}" in script


# ---- the site configs ----------------------------------------------------------------------------


@pytest.mark.parametrize("party", PARTIES)
def test_site_config_matches_the_compose_services(party: int) -> None:
    site = load_site(party)
    peer = PARTIES[party]
    assert site.local_party_ids == (party,)
    # Peers by the federation service's name; the site's own party too, for its worker containers.
    assert site.routes == {
        party: f"accord-server-{party}:{FEDERATION_PORT}",
        peer: f"accord-server-{peer}:{FEDERATION_PORT}",
    }
    assert site.federation_port == FEDERATION_PORT and site.http_port == HTTP_PORT
    assert site.federation_host == site.http_host == "0.0.0.0"
    assert site.home == Path(HOME)
    assert site.temporal_address == f"temporal-{party}:7233"
    assert services()[f"temporal-{party}"]["environment"]["TEMPORAL_ADDRESS"] == site.temporal_address
    tls = Path(TLS_DIR)
    assert (site.tls_ca_file, site.tls_cert_file, site.tls_key_file) == (
        tls / "ca.pem",
        tls / f"party-{party}.pem",
        tls / f"party-{party}.key",
    )
    assert site.http_auth and site.app_credentials
    published = services()[f"accord-server-{party}"]["ports"][0]
    assert published.endswith(f":{site.http_port}")


def test_the_two_sites_host_different_parties() -> None:
    sites = [load_site(party) for party in PARTIES]
    assert set(sites[0].local_party_ids).isdisjoint(sites[1].local_party_ids)


# ---- Dockerfile ----------------------------------------------------------------------------------


def dockerfile() -> list[tuple[str, str]]:
    """(instruction, arguments) of docker/Dockerfile, continuation lines joined."""
    text = (DOCKER / "Dockerfile").read_text(encoding="utf-8")
    text = re.sub(r"\\\n", " ", text)
    lines = [line.strip() for line in text.splitlines()]
    return [
        (line.split(None, 1)[0].upper(), line.split(None, 1)[1])
        for line in lines
        if line and not line.startswith("#")
    ]


def test_dockerfile_installs_the_project_as_the_makefile_does() -> None:
    instructions = dockerfile()
    assert instructions[0] == ("FROM", "python:3.11-slim")
    # The Makefile: pip install of the project root (editable, with the dev, Spark and NN extras; the
    # image takes the runtime alone: its sites refuse NN jobs at submit, naming the extra).
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert re.search(r"-m pip install .*'\.\[dev,spark,nn\]'", makefile)

    copied: dict[str, str] = {}  # repository path -> path in the image
    for instruction, arguments in instructions:
        if instruction == "COPY":
            *sources, destination = arguments.split()
            for source in sources:
                assert (ROOT / source).exists(), f"COPY {source}: not in the repository"
                target = destination + Path(source).name if destination.endswith("/") else destination
                copied[source] = target
    # Everything the build reads: pyproject.toml, the readme it names, the package.
    assert {"pyproject.toml", "README.md", "accord"} <= set(copied)
    project_root = str(Path(copied["pyproject.toml"]).parent)
    assert Path(copied["accord"]).parent == Path(project_root)
    installs = [
        shlex.split(arguments)
        for instruction, arguments in instructions
        if instruction == "RUN" and "pip install" in arguments
    ]
    assert any(["-m", "pip", "install", project_root] == words[1:5] for words in installs), installs


def test_dockerfile_runs_accord_as_a_user_with_a_home_volume() -> None:
    instructions = dockerfile()
    assert ("ENTRYPOINT", '["accord"]') in instructions
    exposed = [arguments.split() for instruction, arguments in instructions if instruction == "EXPOSE"]
    assert {str(HTTP_PORT), str(FEDERATION_PORT)} <= {port for ports in exposed for port in ports}
    users = [arguments for instruction, arguments in instructions if instruction == "USER"]
    assert users and users[-1] not in ("root", "0")
    assert ("VOLUME", f'["{HOME}"]') in instructions


# ---- the CLI the deployment runs ------------------------------------------------------------------

# Every command line the compose file and docker/README.md rely on: command path, then options.
CLI_USES = [
    (("server",), ("-c",)),
    (("worker",), ("-c",)),
    (("site", "up"), ("-c", "--workers")),
    (("site", "check"), ("-c",)),
    (("cert", "ca"), ("-o",)),
    (("cert", "site"), ("--ca", "-o", "--name", "--party-id", "--host")),
    (("init",), ("--server", "--app-key", "--app-secret")),
    (("data", "upload"), ("-c", "--drop")),
    (("job", "submit"), ("-d", "-c", "--wait")),
    (("metrics", "relay"), ("--listen", "--server")),
]


@pytest.mark.parametrize(("path", "options"), CLI_USES, ids=[" ".join(path) for path, _ in CLI_USES])
def test_the_deployment_runs_real_commands(path: tuple[str, ...], options: tuple[str, ...]) -> None:
    command: click.Command = main
    shown = f"`accord {' '.join(path)}`"
    for name in path:
        assert isinstance(command, click.Group), f"{shown}: {command.name} has no subcommands"
        assert name in command.commands, f"{shown}: no command {name!r}"
        command = command.commands[name]
    known = {opt for param in command.params for opt in param.opts}
    assert set(options) <= known, f"{shown} lacks {sorted(set(options) - known)}"
    assert f"{' '.join(path)} " in (DOCKER / "README.md").read_text(encoding="utf-8")


def test_compose_commands_are_cli_commands() -> None:
    for name, service in services().items():
        if name.startswith("accord-"):
            assert service["command"][0] in main.commands, name


# ---- the optional metrics profile ---------------------------------------------------------------


def test_metrics_profile_scrapes_each_site_through_its_relay() -> None:
    found = profile_services("metrics")
    assert set(found) == {"prometheus", "grafana", *(f"metrics-relay-{party}" for party in PARTIES)}
    prometheus_yml = yaml.safe_load((DOCKER / "prometheus" / "prometheus.yml").read_text(encoding="utf-8"))
    targets = {
        t for job in prometheus_yml["scrape_configs"] for c in job["static_configs"] for t in c["targets"]
    }
    assert all(job["metrics_path"] == "/metrics" for job in prometheus_yml["scrape_configs"])
    for party in PARTIES:
        relay = found[f"metrics-relay-{party}"]
        assert relay["command"][:2] == ["metrics", "relay"]
        listen = relay["command"][relay["command"].index("--listen") + 1]
        assert f"metrics-relay-{party}:{listen.rsplit(':', 1)[1]}" in targets
        # On its own site's network, to reach the server; never on the federation network.
        assert set(relay["networks"]) == {f"site-{party}", "metrics"}
        server = relay["environment"]["ACCORD_SERVER"]
        assert server == f"http://accord-server-{party}:{HTTP_PORT}"
        site = load_site(party)
        key = relay["environment"]["ACCORD_APP_KEY"]
        assert site.app_credentials[key] == relay["environment"]["ACCORD_APP_SECRET"]
    # Prometheus and Grafana see the relays only, never a site's database or Temporal.
    assert set(found["prometheus"]["networks"]) == {"metrics"}
    assert set(found["grafana"]["networks"]) == {"metrics"}
    source, read_only = mount_at(found["prometheus"], "/etc/prometheus/prometheus.yml")
    assert (DOCKER / source).resolve() == DOCKER / "prometheus" / "prometheus.yml" and read_only


def test_grafana_dashboard_queries_exported_metrics() -> None:
    dashboard = json.loads((DOCKER / "grafana" / "accord-dashboard.json").read_text(encoding="utf-8"))
    exprs = " ".join(t["expr"] for panel in dashboard["panels"] for t in panel["targets"])
    for name in (
        "accord_jobs",
        "accord_queue_jobs",
        "accord_queue_wait_seconds_bucket",
        "accord_task_duration_seconds_bucket",
        "accord_federation_calls_total",
        "accord_federation_bytes_total",
        "accord_paillier_operations_total",
        "accord_process_up",
    ):
        assert name in exprs, name
    grafana = profile_services("metrics")["grafana"]
    source, _ = mount_at(grafana, "/var/lib/grafana/dashboards/accord-dashboard.json")
    assert (DOCKER / source).resolve() == DOCKER / "grafana" / "accord-dashboard.json"
