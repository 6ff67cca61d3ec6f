"""The one settings object. Built once at an entry point and passed down explicitly."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

ENV_PREFIX = "ACCORD_"


def _default_home() -> Path:
    return Path.home() / ".accord"


class Settings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    home: Path = Field(default_factory=_default_home, description="where state, logs and data live")
    database_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL; SQLite file under the home when unset. "
        "PostgreSQL: postgresql+psycopg2://user:password@host:port/db",
    )
    # Engine sizes of this site, the counterpart of FATE-Flow's service_conf engine registration.
    computing_nodes: int = Field(default=1, ge=1)
    computing_cores_per_node: int = Field(default=16, ge=1)
    # Processes the worker spreads big Paillier batches over (None: every core; 1: in-process).
    crypto_workers: int | None = Field(default=None, ge=1)
    # Computing engine SPARK: the master jobs run on (local[N], spark://host:port, yarn, k8s://...)
    # and where its tables live (a local path for local[N]; a path every executor reaches, or
    # hdfs://..., for a cluster). Unset: a temporary directory, for local[N] only.
    spark_master: str = "local[2]"
    spark_table_root: str | None = None
    # Spark properties every Spark job of this site starts with (a job's spark_run overrides them):
    # e.g. spark.driver.host, the address executors reach the driver (the worker) on.
    spark_conf: dict[str, str] = Field(default_factory=dict)

    temporal_address: str = "127.0.0.1:7233"
    temporal_namespace: str = "default"
    temporal_ui_port: int = 8233
    task_queue: str = "accord"

    http_host: str = "127.0.0.1"
    http_port: int = 9380
    federation_host: str = "127.0.0.1"
    federation_port: int = 9360
    # Online inference (accord.serving.v1.Inference) for the guest's applications.
    serving_host: str = "127.0.0.1"
    serving_port: int = 8059
    # Party id → federation address of the site hosting it; parties not listed go to default_route,
    # and with no default_route to this site itself (standalone: every party lives here).
    routes: dict[int, str] = Field(default_factory=dict)
    default_route: str | None = None
    # Party ids this site hosts; empty means every party (standalone).
    local_party_ids: tuple[int, ...] = ()

    # Mutual TLS of the federation endpoint (cluster mode): the federation's CA, this site's
    # certificate (naming the party ids it speaks for) and its key. All three or none.
    tls_ca_file: Path | None = None
    tls_cert_file: Path | None = None
    tls_key_file: Path | None = None
    # Cluster mode: the HTTP API takes only requests signed with one of these app keys (FATE-style
    # app key / secret, a timestamp and a nonce); standalone runs open on loopback.
    http_auth: bool = False
    app_credentials: dict[str, str] = Field(default_factory=dict, description="app key → app secret")
    auth_max_skew_s: float = Field(default=60.0, gt=0)
    # Standalone: every request carries the random local credential `accord up` writes under the home
    # (``local_token_file``), and the Host header must be one of ``allowed_hosts``. ``insecure_open``
    # switches both off (with a warning at every start).
    insecure_open: bool = False
    allowed_hosts: tuple[str, ...] = ("127.0.0.1", "localhost", "::1")
    # Server-side files an upload or a table bind may name: only below these directories (symlinks
    # resolved). Empty (the default): the client always streams the file's content.
    upload_roots: tuple[Path, ...] = ()
    # Bounds at the HTTP edge: a JSON body's bytes and nesting depth; an upload's streamed bytes.
    max_request_bytes: int = Field(default=16 * 1024 * 1024, ge=1024)
    max_json_depth: int = Field(default=64, ge=8)
    max_upload_bytes: int = Field(default=64 * 1024**3, ge=1024)
    # A job's size at submit: more components than this are refused (workflow state stays bounded).
    max_job_components: int = Field(default=500, ge=1)
    # Federation data plane: bytes one job's peers may push to this site before pushes are refused.
    transfer_quota_bytes: int = Field(default=16 * 1024**3, ge=1024 * 1024)
    # How long a job's exchanged values stay under <home>/transfer after it ends there (debugging).
    transfer_retention_s: float = Field(default=0.0, ge=0)
    # How often the worker returns the queue slots and cores of jobs whose workflows are closed.
    reconcile_interval_s: float = Field(default=60.0, gt=0)
    # Model archives: PEM certificates (or the federation CA) whose signatures an import trusts.
    model_trust_files: tuple[Path, ...] = ()

    max_concurrent_jobs: int = Field(default=5, ge=1)
    # Longest time a job may wait in the site's queue before it ends with status timeout.
    queue_timeout_s: int = Field(default=24 * 3600, ge=1)
    federation_timeout_s: float = Field(default=10.0, gt=0)
    federation_attempts: int = Field(default=5, ge=1)
    # How long a component waits for a value from a peer party before its task fails.
    transfer_timeout_s: float = Field(default=600.0, gt=0)

    # Modules imported at start-up that register components (plug-ins without an entry point).
    component_modules: tuple[str, ...] = ()

    otel_exporter: Literal["none", "console", "otlp"] = "none"
    otel_endpoint: str | None = None

    @model_validator(mode="after")
    def _tls_complete(self) -> Settings:
        given = [self.tls_ca_file, self.tls_cert_file, self.tls_key_file]
        if any(given) and not all(given):
            raise ValueError(
                "tls_ca_file, tls_cert_file and tls_key_file go together: give all three for mutual TLS, "
                "or none"
            )
        if self.http_auth and not self.app_credentials:
            raise ValueError("http_auth needs at least one app key in app_credentials")
        return self

    @property
    def local_token_file(self) -> Path:
        """The standalone site's local credential (0600), written by `accord up`."""
        return self.home / "local_token"

    @property
    def federation_tls(self) -> bool:
        return self.tls_ca_file is not None

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.home / 'accord.db'}"

    @property
    def federation_address(self) -> str:
        return f"{self.federation_host}:{self.federation_port}"

    @property
    def http_address(self) -> str:
        return f"http://{self.http_host}:{self.http_port}"

    @property
    def temporal_ui_address(self) -> str:
        host = self.temporal_address.rsplit(":", 1)[0]
        return f"http://{host}:{self.temporal_ui_port}"

    def route(self, party_id: int) -> str:
        return self.routes.get(party_id) or self.default_route or self.federation_address

    def hosts_party(self, party_id: int) -> bool:
        return not self.local_party_ids or party_id in self.local_party_ids

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: object) -> Settings:
        """Settings from ``ACCORD_*`` variables (e.g. ``ACCORD_HOME``, ``ACCORD_DATABASE_URL``).

        Structured values (routes, lists) are written as JSON; lists may also be comma separated.
        """
        env = os.environ if environ is None else environ
        values: dict[str, object] = {}
        for name in cls.model_fields:
            key = ENV_PREFIX + name.upper()
            if key in env:
                values[name] = _parse_env_value(name, env[key])
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls.model_validate(values)

    def to_env(self) -> dict[str, str]:
        """The ``ACCORD_*`` variables that rebuild these settings in a child process."""
        env: dict[str, str] = {}
        for name, value in self.model_dump(mode="json").items():
            if value is None:
                continue
            env[ENV_PREFIX + name.upper()] = value if isinstance(value, str) else json.dumps(value)
        return env


_STRUCTURED = frozenset(
    {
        "routes",
        "local_party_ids",
        "component_modules",
        "app_credentials",
        "allowed_hosts",
        "upload_roots",
        "model_trust_files",
        "spark_conf",
    }
)


def _parse_env_value(name: str, raw: str) -> Any:
    text = raw.strip()
    if name not in _STRUCTURED:
        return raw
    if text.startswith(("{", "[")):
        return json.loads(text)
    return [item.strip() for item in text.split(",") if item.strip()]
