"""The one settings object. Built once at an entry point and passed down explicitly."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

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

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.home / 'accord.db'}"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: object) -> Settings:
        """Settings from ``ACCORD_*`` variables (e.g. ``ACCORD_HOME``, ``ACCORD_DATABASE_URL``)."""
        env = os.environ if environ is None else environ
        values: dict[str, object] = {}
        for name in cls.model_fields:
            key = ENV_PREFIX + name.upper()
            if key in env:
                values[name] = env[key]
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls.model_validate(values)
