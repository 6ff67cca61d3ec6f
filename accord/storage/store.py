"""A site's tables: Parquet files under ``<root>/<namespace>/<name>/``, described in SQL.

Every upload or write makes a new version directory and only then points the table's SQL row at it
(``address``), so a reader sees the old rows or the new ones, never a mix, and a failed upload leaves
the old table as it was. The previous version is removed after the switch; a reader that had already
opened it keeps reading it (its file handle outlives the unlink).

Writes to one table are serialized within this process; one process (the site's server) uploads,
and components write tables of their own.
"""

from __future__ import annotations

import builtins
import json
import os
import shutil
import threading
import time
import uuid
from collections.abc import Callable, Generator, Iterable, Iterator, Mapping, Sequence
from contextlib import closing, contextmanager
from pathlib import Path
from typing import IO, Any

import pyarrow as pa
import pyarrow.parquet as pq

from accord.errors import ArgumentError, DataError, RecordNotFound
from accord.persistence import Database, TableMetaRepository
from accord.settings import Settings
from accord.storage.conf import UploadConf
from accord.storage.intake import Spool
from accord.storage.model import DATA_FILE, ENGINE, RawTable, TableInfo, UploadProgress
from accord.storage.names import check_table_key
from accord.storage.rowgroups import RowGroupWriter, row_batches
from accord.storage.textout import text_chunks, text_form
from accord.storage.upload import BATCH_ROWS, check_mergeable, merge_by_id, stage_upload

_OPEN_ATTEMPTS = 3
# Each batch of text is copied a few times on its way out; smaller batches keep that small.
TEXT_BATCH_ROWS = 10_000
DEFAULT_MAX_UPLOAD_BYTES: int = Settings.model_fields["max_upload_bytes"].default


class TableStore:
    """Tables addressed by (namespace, name) within one site; see the module's docstring."""

    def __init__(
        self,
        root: Path,
        meta: TableMetaRepository,
        *,
        upload_roots: Sequence[Path] = (),
        spool_dir: Path | None = None,
        max_upload_bytes: int = DEFAULT_MAX_UPLOAD_BYTES,
    ) -> None:
        self._root = root
        self._meta = meta
        self.upload_roots = tuple(upload_roots)
        self._spool_dir = spool_dir if spool_dir is not None else root.parent / "spool"
        self.max_upload_bytes = max_upload_bytes
        self._locks: dict[tuple[str, str], threading.Lock] = {}
        self._locks_guard = threading.Lock()

    @classmethod
    def for_site(cls, settings: Settings, database: Database) -> TableStore:
        return cls(
            settings.home / "tables",
            TableMetaRepository(database),
            upload_roots=settings.upload_roots,
            spool_dir=settings.home / "spool",
            max_upload_bytes=settings.max_upload_bytes,
        )

    @property
    def root(self) -> Path:
        return self._root

    # ---- writing --------------------------------------------------------------------------------

    def upload(
        self,
        conf: UploadConf,
        *,
        progress: Callable[[UploadProgress], None] | None = None,
        search_dirs: Sequence[Path] | None = None,
    ) -> TableInfo:
        """Upload ``conf.file`` into the table ``conf.namespace``.``conf.table_name``.

        With ``drop: 1`` the table is replaced; otherwise the file's rows are merged into an existing
        table by id (its rows win). A relative ``file`` is looked for in ``search_dirs`` (default: the
        current directory). ``progress`` is called after every block of lines.

        For this process's own callers only: ``file`` may be any path. The HTTP API uses
        :meth:`upload_file` with a spooled stream or a file checked by
        :func:`accord.storage.intake.server_file` instead.
        """
        source = conf.resolve_file(search_dirs if search_dirs is not None else (Path.cwd(),))
        return self.upload_file(conf, source, progress=progress)

    def spool(self) -> Spool:
        """A private file under the site's home for a streamed upload, bounded by max_upload_bytes."""
        return Spool(self._spool_dir, max_bytes=self.max_upload_bytes)

    def clear_spool(self) -> int:
        """Remove what uploads cut short by a crash left in the spool; the files removed.

        For the server's start only: it alone spools, and none of its uploads run yet.
        """
        return Spool.clear(self._spool_dir)

    def upload_file(
        self,
        conf: UploadConf,
        source: Path,
        *,
        progress: Callable[[UploadProgress], None] | None = None,
        label: str | None = None,
    ) -> TableInfo:
        """Upload the file ``source`` as ``conf`` describes (``conf.file`` is ignored); messages name
        the file ``label`` (default: its path)."""
        label = label if label is not None else str(source)
        namespace, name = conf.namespace, conf.table_name
        with self._table_lock(namespace, name):
            existing = self.find(namespace, name)
            version = self._new_version(namespace, name)
            try:
                staged = stage_upload(conf, source, version / DATA_FILE, progress=progress, name=label)
                count = staged.rows
                if existing is not None and not conf.drop:
                    check_mergeable(existing, staged, conf, label)
                    merged = version / f"merged-{DATA_FILE}"
                    count = merge_by_id(Path(existing.address) / DATA_FILE, version / DATA_FILE, merged)
                    os.replace(merged, version / DATA_FILE)
                meta = self._meta.save(
                    namespace,
                    name,
                    engine=ENGINE,
                    address=str(version),
                    partitions=conf.partition,
                    count=count,
                    schema=staged.schema,
                    id_delimiter=conf.id_delimiter,
                    extend_sid=conf.extend_sid,
                )
            except BaseException:
                shutil.rmtree(version, ignore_errors=True)
                raise
            if existing is not None:
                self._discard(existing.address)
        return TableInfo.of(meta)

    def write(
        self,
        namespace: str,
        name: str,
        table: pa.Table,
        *,
        schema_meta: Mapping[str, Any],
        partitions: int = 1,
        id_delimiter: str = ",",
    ) -> TableInfo:
        """Create or replace a table with ``table``'s rows (a component's output, say).

        Column 0 should hold the ids. ``schema_meta`` becomes the table's schema JSON; its ``sid`` and
        ``header`` default to the column names, as FATE describes a table.
        """
        return self.write_batches(
            namespace,
            name,
            table.schema,
            table.to_batches(max_chunksize=BATCH_ROWS),
            schema_meta=schema_meta,
            partitions=partitions,
            id_delimiter=id_delimiter,
        )

    def write_batches(
        self,
        namespace: str,
        name: str,
        schema: pa.Schema,
        batches: Iterable[pa.RecordBatch],
        *,
        schema_meta: Mapping[str, Any],
        partitions: int = 1,
        id_delimiter: str = ",",
    ) -> TableInfo:
        """:meth:`write` for rows that come a batch at a time and need not fit in memory together."""
        check_table_key(namespace, name)
        if len(schema) == 0:
            raise ArgumentError(f"table {namespace}.{name} needs at least an id column")
        described = _described(schema, schema_meta, id_delimiter)
        with self._table_lock(namespace, name):
            existing = self.find(namespace, name)
            version = self._new_version(namespace, name)
            try:
                with RowGroupWriter(version / DATA_FILE, schema) as writer:
                    for batch in batches:
                        writer.write(batch)
                count = writer.rows
                meta = self._meta.save(
                    namespace,
                    name,
                    engine=ENGINE,
                    address=str(version),
                    partitions=partitions,
                    count=count,
                    schema=described,
                    id_delimiter=id_delimiter,
                )
            except BaseException:
                shutil.rmtree(version, ignore_errors=True)
                raise
            if existing is not None:
                self._discard(existing.address)
        return TableInfo.of(meta)

    def delete(self, namespace: str, name: str) -> bool:
        """Remove a table's description and its files; False if there was no such table."""
        check_table_key(namespace, name)
        with self._table_lock(namespace, name):
            existed = self._meta.delete(namespace, name)
            shutil.rmtree(self._root / namespace / name, ignore_errors=True)
        return existed

    # ---- reading --------------------------------------------------------------------------------

    def info(self, namespace: str, name: str) -> TableInfo:
        """The table's description; :class:`RecordNotFound` when there is none."""
        check_table_key(namespace, name)
        return TableInfo.of(self._meta.get(namespace, name))

    def find(self, namespace: str, name: str) -> TableInfo | None:
        try:
            return self.info(namespace, name)
        except RecordNotFound:
            return None

    def read(self, namespace: str, name: str) -> RawTable:
        """All of a table's rows at once; use :meth:`iter_batches` for tables larger than memory."""
        with self._opened(namespace, name) as (info, parquet):
            return RawTable(parquet.read(), info)

    def iter_batches(
        self, namespace: str, name: str, batch_rows: int = BATCH_ROWS
    ) -> Generator[pa.RecordBatch, None, None]:
        """The table's rows, ``batch_rows`` at a time, in bounded memory."""
        # Opened now, so a missing table fails here rather than at the first next().
        _, handle = self._open(namespace, name)

        def batches() -> Generator[pa.RecordBatch, None, None]:
            with handle:
                yield from row_batches(pq.ParquetFile(handle), batch_rows)

        return batches()

    def text(
        self, namespace: str, name: str, *, delimiter: str | None = None
    ) -> tuple[TableInfo, Generator[bytes, None, None]]:
        """The table as delimited text (see :mod:`accord.storage.textout`), opened before it returns."""
        info, handle = self._open(namespace, name)
        try:
            parquet = pq.ParquetFile(handle)
            form = text_form(info, parquet.schema_arrow.names, delimiter)
        except BaseException:
            handle.close()
            raise

        def chunks() -> Generator[bytes, None, None]:
            with handle:
                yield from text_chunks(row_batches(parquet, TEXT_BATCH_ROWS), form)

        return info, chunks()

    def download(self, namespace: str, name: str, path: Path, *, delimiter: str | None = None) -> int:
        """Write the table to ``path`` as delimited text (all or nothing); the rows written."""
        info, chunks = self.text(namespace, name, delimiter=delimiter)
        partial = path.with_name(f".{path.name}.{uuid.uuid4().hex}.part")
        try:
            with closing(chunks):
                path.parent.mkdir(parents=True, exist_ok=True)
                with partial.open("wb") as out:
                    for chunk in chunks:
                        out.write(chunk)
                os.replace(partial, path)
        except OSError as error:
            partial.unlink(missing_ok=True)
            raise ArgumentError(
                f"cannot write the download to {str(path)!r}: {error.strerror or error}",
                hint="choose an output path in a writable directory",
            ) from None
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
        return info.count

    def list(self, *, namespace: str | None = None, limit: int | None = None) -> builtins.list[TableInfo]:
        """Tables ordered by namespace and name, optionally of one namespace."""
        return [TableInfo.of(meta) for meta in self._meta.list_tables(namespace=namespace, limit=limit)]

    # ---- internals ------------------------------------------------------------------------------

    @contextmanager
    def _opened(self, namespace: str, name: str) -> Iterator[tuple[TableInfo, pq.ParquetFile]]:
        info, handle = self._open(namespace, name)
        with handle:
            yield info, pq.ParquetFile(handle)

    def _open(self, namespace: str, name: str) -> tuple[TableInfo, IO[bytes]]:
        for _ in range(_OPEN_ATTEMPTS):
            info = self.info(namespace, name)
            if info.engine != ENGINE:
                raise DataError(
                    f"table {namespace}.{name} is stored by engine {info.engine}, which this site cannot "
                    "read",
                    hint="upload the table to this site again",
                )
            try:
                return info, (Path(info.address) / DATA_FILE).open("rb")
            except FileNotFoundError:
                # Replaced or deleted between reading its row and opening its file: look again.
                continue
        raise DataError(
            f"the data of table {namespace}.{name} is missing from {info.address}",
            hint="upload the table again (with drop: 1)",
        )

    @contextmanager
    def _table_lock(self, namespace: str, name: str) -> Iterator[None]:
        with self._locks_guard:
            lock = self._locks.setdefault((namespace, name), threading.Lock())
        with lock:
            yield

    def _new_version(self, namespace: str, name: str) -> Path:
        version = self._root / namespace / name / f"v{time.time_ns()}-{uuid.uuid4().hex[:8]}"
        version.mkdir(parents=True)
        return version

    def _discard(self, address: str) -> None:
        """Remove a replaced version, unless it lies outside this store (a table bound elsewhere)."""
        old = Path(address).resolve()
        if old.is_relative_to(self._root.resolve()) and old != self._root.resolve():
            shutil.rmtree(old, ignore_errors=True)


def _described(schema: pa.Schema, schema_meta: Mapping[str, Any], delimiter: str) -> dict[str, Any]:
    described = dict(schema_meta)
    described.setdefault("sid", schema.names[0])
    described.setdefault("header", delimiter.join(schema.names[1:]))
    try:
        json.dumps(described)
    except (TypeError, ValueError) as error:
        raise ArgumentError(f"schema_meta must be JSON: {error}") from None
    return described
