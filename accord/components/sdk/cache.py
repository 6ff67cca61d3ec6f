"""A component's ``cache`` output: values and tables a later component of the job reuses (FATE's cache).

Intersection with ``run_cache`` keeps its key and the encrypted ids it computed so that a later
Intersection with that cache input skips the work. A cache may hold secrets (a private key), so its
values file is written 0600 in the party's 0700 job directory and never leaves the party.

Layout, under the component's output directory: ``cache_<output>/values.json`` and one
``<name>.parquet`` per table. Tables come back on the reading task's engine, partition i = row group i;
a reader that needs its own partitioning repartitions.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from accord.components.sdk.tables import DataTable, load_table, save_table
from accord.computing import BlockTable, Engine
from accord.errors import DataFormatError

VALUES_FILE = "values.json"
_TABLE_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,100}$")


def _table_path(folder: Path, name: str) -> Path:
    if not _TABLE_NAME.match(name):
        raise ValueError(f"cache table name {name!r} is not a plain name")
    return folder / f"{name}.parquet"


def save_cache(folder: Path, values: Mapping[str, Any], tables: Mapping[str, BlockTable]) -> None:
    """Write the cache into ``folder`` (replaced whole: a rerun leaves no stale table behind)."""
    staging = folder.with_name(f".{folder.name}.{uuid.uuid4().hex}")
    staging.mkdir(mode=0o700, parents=True)
    try:
        for name, table in tables.items():
            save_table(DataTable(table, "cache"), _table_path(staging, name))
        body = json.dumps({"values": dict(values), "tables": sorted(tables)}).encode("utf-8")
        descriptor = os.open(staging / VALUES_FILE, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(body)
        if folder.exists():
            shutil.rmtree(folder)
        os.replace(staging, folder)
    finally:
        if staging.exists():
            shutil.rmtree(staging)


@dataclass(frozen=True)
class Cache:
    source: str  # the DSL reference it came from, for messages
    folder: Path
    values: Mapping[str, Any]
    names: tuple[str, ...]

    def table(self, name: str, engine: Engine) -> BlockTable:
        if name not in self.names:
            raise DataFormatError(
                f"the cache {self.source} holds no table {name!r}",
                hint="rerun the component that made the cache with the same settings",
            )
        return load_table(engine, _table_path(self.folder, name)).table


def load_cache(folder: Path, source: str) -> Cache:
    try:
        document = json.loads((folder / VALUES_FILE).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DataFormatError(
            f"{source} left no cache on this party",
            hint="give the component that makes the cache run_cache true, or remove the cache input",
        ) from None
    return Cache(source, folder, document["values"], tuple(document["tables"]))
