"""``table bind``: a Parquet or delimited-text file already on the site becomes a table.

FATE's bind records an address in another engine; here the file is read once into the site's Parquet
store, so a bound table behaves like an uploaded one and later edits of the file cannot change a
table a job has read. The file must lie below the site's ``upload_roots``, exactly as an upload's
``use_local_data: 0`` file must (:func:`accord.storage.intake.server_file`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from accord.errors import ArgumentError, DataFormatError
from accord.storage import TableInfo, TableStore, UploadConf
from accord.storage.intake import server_file

PARQUET_SUFFIXES = (".parquet", ".pq")
# FATE's bind conf fields that name engines Accord does not run; accepted, since the file is read here.
_ENGINE_FIELDS = ("engine", "store_type", "address", "path", "file")


def bound_path(conf: Mapping[str, Any]) -> str:
    """The file a bind conf names: FATE's ``address.path``, or ``path`` / ``file``."""
    address = conf.get("address")
    candidates = [
        address.get("path") if isinstance(address, Mapping) else None,
        conf.get("path"),
        conf.get("file"),
    ]
    path = next((c for c in candidates if isinstance(c, str) and c), None)
    if path is None:
        raise ArgumentError(
            "table bind conf names no file",
            hint='give "address": {"path": "/path/below/upload_roots/data.parquet"} (or "path")',
        )
    return path


def bind_table(
    conf: Mapping[str, Any], tables: TableStore, roots: Sequence[Path], *, drop: bool = False
) -> TableInfo:
    """Read the file ``conf`` names (below ``roots``) into the table it names."""
    source = server_file(bound_path(conf), roots)
    rest = {k: v for k, v in conf.items() if k not in _ENGINE_FIELDS}
    if "table_name" not in rest and "name" not in rest:
        raise ArgumentError("table bind conf names no table", hint='give "namespace" and "name"')
    if source.suffix.lower() in PARQUET_SUFFIXES:
        return _bind_parquet(rest, source, tables)
    upload = UploadConf.parse(
        {**rest, "file": str(source), "drop": 1 if drop else rest.get("drop", 0)}, source="table bind conf"
    )
    return tables.upload_file(upload, source, label=source.name)


def _bind_parquet(conf: Mapping[str, Any], source: Path, tables: TableStore) -> TableInfo:
    namespace, name = conf.get("namespace"), conf.get("name", conf.get("table_name"))
    if not isinstance(namespace, str) or not isinstance(name, str):
        raise ArgumentError("table bind conf needs text 'namespace' and 'name'")
    try:
        parquet = pq.ParquetFile(source)
    except Exception as error:  # pyarrow raises several types for a file that is not Parquet
        raise DataFormatError(
            f"{source.name} is not a readable Parquet file: {error}",
            hint="bind a Parquet file (.parquet) or delimited text",
        ) from None
    schema = parquet.schema_arrow
    return tables.write_batches(
        namespace,
        name,
        schema,
        parquet.iter_batches(),
        schema_meta={},  # column 0 is the id, the rest the header, as in an upload
        partitions=int(conf.get("partitions", conf.get("partition", 1)) or 1),
        id_delimiter=str(conf.get("id_delimiter", ",")),
    )
