"""A site's config file (YAML or TOML): what one organisation's site hosts and where it reaches the rest.

The file groups the settings the way an operator thinks of them (Temporal, HTTP, federation and its
TLS, routes to peers) and becomes the one :class:`~accord.settings.Settings` object; anything the file
leaves out keeps its default. Relative paths (home, TLS files) are relative to the file's directory,
so a site's folder can be moved as a whole.
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from accord.errors import ArgumentError
from accord.settings import Settings


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TemporalSection(_Section):
    address: str | None = None
    namespace: str | None = None
    task_queue: str | None = None
    ui_port: int | None = None


class HttpSection(_Section):
    host: str | None = None
    port: int | None = None
    auth: bool | None = None
    app_credentials: dict[str, str] | None = None
    allowed_hosts: list[str] | None = None
    max_request_bytes: int | None = None
    max_upload_bytes: int | None = None


class TlsSection(_Section):
    ca: Path
    cert: Path
    key: Path


class FederationSection(_Section):
    host: str | None = None
    port: int | None = None
    tls: TlsSection | None = None
    timeout_s: float | None = None
    attempts: int | None = None


class ServingSection(_Section):
    host: str | None = None
    port: int | None = None


class ComputingSection(_Section):
    nodes: int | None = None
    cores_per_node: int | None = None


class SparkSection(_Section):
    master: str | None = None
    table_root: str | None = None
    # Spark properties every job starts with (spark.driver.host, spark.archives ...).
    conf: dict[str, str | int | float | bool] | None = None


class SiteFile(_Section):
    """The file's schema; every section is optional."""

    party_ids: list[int] = Field(default_factory=list)
    home: Path | None = None
    database_url: str | None = None
    temporal: TemporalSection = Field(default_factory=TemporalSection)
    http: HttpSection = Field(default_factory=HttpSection)
    federation: FederationSection = Field(default_factory=FederationSection)
    serving: ServingSection = Field(default_factory=ServingSection)
    # Party id → federation address of the site hosting it; the key "default" catches the rest.
    routes: dict[int | str, str] = Field(default_factory=dict)
    computing: ComputingSection = Field(default_factory=ComputingSection)
    spark: SparkSection = Field(default_factory=SparkSection)
    max_concurrent_jobs: int | None = None
    transfer_timeout_s: float | None = None
    component_modules: list[str] | None = None
    # Server-side directories an upload or table bind may read from (empty: clients stream files).
    upload_roots: list[Path] | None = None
    max_job_components: int | None = None
    transfer_quota_bytes: int | None = None
    transfer_retention_s: float | None = None
    model_trust_files: list[Path] | None = None

    def settings_values(self, base: Path) -> dict[str, Any]:
        def resolved(path: Path) -> Path:
            path = path.expanduser()
            return path if path.is_absolute() else base / path

        values: dict[str, Any] = {
            "local_party_ids": tuple(self.party_ids),
            "home": resolved(self.home) if self.home else None,
            "database_url": self.database_url,
            "temporal_address": self.temporal.address,
            "temporal_namespace": self.temporal.namespace,
            "task_queue": self.temporal.task_queue,
            "temporal_ui_port": self.temporal.ui_port,
            "http_host": self.http.host,
            "http_port": self.http.port,
            "http_auth": self.http.auth,
            "app_credentials": self.http.app_credentials,
            "federation_host": self.federation.host,
            "federation_port": self.federation.port,
            "federation_timeout_s": self.federation.timeout_s,
            "federation_attempts": self.federation.attempts,
            "serving_host": self.serving.host,
            "serving_port": self.serving.port,
            "computing_nodes": self.computing.nodes,
            "computing_cores_per_node": self.computing.cores_per_node,
            "spark_master": self.spark.master,
            "spark_table_root": _location(self.spark.table_root, resolved),
            "spark_conf": (
                {name: _spark_text(value) for name, value in self.spark.conf.items()}
                if self.spark.conf is not None
                else None
            ),
            "max_concurrent_jobs": self.max_concurrent_jobs,
            "transfer_timeout_s": self.transfer_timeout_s,
            "component_modules": tuple(self.component_modules) if self.component_modules else None,
            "allowed_hosts": tuple(self.http.allowed_hosts) if self.http.allowed_hosts is not None else None,
            "max_request_bytes": self.http.max_request_bytes,
            "max_upload_bytes": self.http.max_upload_bytes,
            "upload_roots": (
                tuple(resolved(root) for root in self.upload_roots) if self.upload_roots is not None else None
            ),
            "max_job_components": self.max_job_components,
            "transfer_quota_bytes": self.transfer_quota_bytes,
            "transfer_retention_s": self.transfer_retention_s,
            "model_trust_files": (
                tuple(resolved(f) for f in self.model_trust_files)
                if self.model_trust_files is not None
                else None
            ),
        }
        tls = self.federation.tls
        if tls is not None:
            values.update(
                tls_ca_file=resolved(tls.ca), tls_cert_file=resolved(tls.cert), tls_key_file=resolved(tls.key)
            )
        routes = dict(self.routes)
        default = routes.pop("default", None)
        values["default_route"] = default
        values["routes"] = {_party_id(key): address for key, address in routes.items()}
        return {name: value for name, value in values.items() if value is not None}


def _location(location: str | None, resolved: Callable[[Path], Path]) -> str | None:
    """A URI as given; a path relative to the file, like the file's other paths."""
    if location is None or "://" in location:
        return location
    return str(resolved(Path(location)))


def _spark_text(value: str | int | float | bool) -> str:
    # YAML reads `true` and `2` as a bool and a number; Spark takes every property as text.
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _party_id(key: int | str) -> int:
    text = str(key).strip()
    if not text.isdigit():
        raise ArgumentError(
            f"routes: {key!r} is not a party id",
            hint='give each route as `<party id>: "host:port"`, or `default: "host:port"` for the rest',
        )
    return int(text)


def _parse(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ArgumentError(
            f"site config {path} does not exist", hint="pass the path of the site's YAML or TOML file with -c"
        ) from None
    except (OSError, UnicodeDecodeError) as error:
        raise ArgumentError(f"site config {path} cannot be read: {error}") from None
    try:
        if path.suffix.lower() == ".toml":
            return tomllib.loads(text)
        return yaml.safe_load(text)
    except (tomllib.TOMLDecodeError, yaml.YAMLError) as error:
        syntax = "TOML" if path.suffix.lower() == ".toml" else "YAML"
        raise ArgumentError(
            f"site config {path} is not valid {syntax}: {error}",
            hint="fix the syntax at the position shown",
        ) from None


def _field_path(location: tuple[int | str, ...]) -> str:
    return ".".join(str(part) for part in location) or "(top level)"


def load_site_config(path: Path, **overrides: object) -> Settings:
    """The settings a site config file describes; ``overrides`` (not None) win over the file."""
    raw = _parse(path)
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise ArgumentError(
            f"site config {path} must be a mapping of sections, not {type(raw).__name__}",
            hint="start from docker/party-9999/site.yaml",
        )
    try:
        site = SiteFile.model_validate(raw)
        values = site.settings_values(path.resolve().parent)
        values.update({name: value for name, value in overrides.items() if value is not None})
        return Settings.model_validate(values)
    except ValidationError as error:
        first = error.errors()[0]
        problems = "; ".join(f"{_field_path(e['loc'])}: {e['msg']}" for e in error.errors())
        raise ArgumentError(
            f"site config {path}: {problems}",
            hint=f"fix `{_field_path(first['loc'])}`; see docker/party-9999/site.yaml for every section",
        ) from None
