"""Metadata of stored tables, keyed by (namespace, name)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import ColumnElement, delete, select, update

from accord.errors import ArgumentError, RecordNotFound
from accord.persistence.orm import TableMetaRow
from accord.persistence.records import TableMeta
from accord.persistence.repositories._base import Excluded, Repository, given, rowcount, upsert


def _key(namespace: str, name: str) -> list[ColumnElement[bool]]:
    return [TableMetaRow.namespace == namespace, TableMetaRow.name == name]


def _not_found(namespace: str, name: str) -> RecordNotFound:
    return RecordNotFound(
        f"table {namespace}.{name} does not exist",
        hint="check the namespace and name, or upload the table first",
        namespace=namespace,
        name=name,
    )


class TableMetaRepository(Repository):
    def save(
        self,
        namespace: str,
        name: str,
        *,
        engine: str,
        address: str,
        partitions: int = 1,
        count: int | None = None,
        schema: Mapping[str, Any] | None = None,
        id_delimiter: str = ",",
        extend_sid: bool = False,
    ) -> TableMeta:
        """Create the table's metadata or replace it, keeping the original create_time."""
        if partitions < 1:
            raise ArgumentError(f"table {namespace}.{name} needs at least one partition, got {partitions}")
        now = self._clock()
        values: dict[str, Any] = {
            "namespace": namespace,
            "name": name,
            "engine": engine,
            "address": address,
            "partitions": partitions,
            "count": count,
            "schema": dict(schema or {}),
            "id_delimiter": id_delimiter,
            "extend_sid": extend_sid,
            "create_time": now,
            "update_time": now,
        }
        replaced = [column for column in values if column not in ("namespace", "name", "create_time")]

        def replace(new: Excluded) -> dict[str, Any]:
            return {column: new[column] for column in replaced}

        with self._db.session_scope() as session:
            upsert(session, TableMetaRow, values, keys=["namespace", "name"], set_=replace)
        return self.get(namespace, name)

    def get(self, namespace: str, name: str) -> TableMeta:
        with self._db.session_scope() as session:
            row = session.scalars(select(TableMetaRow).where(*_key(namespace, name))).one_or_none()
            if row is None:
                raise _not_found(namespace, name)
            return _to_record(row)

    def list_tables(self, *, namespace: str | None = None, limit: int | None = None) -> list[TableMeta]:
        statement = (
            select(TableMetaRow)
            .where(*given((TableMetaRow.namespace, namespace)))
            .order_by(TableMetaRow.namespace, TableMetaRow.name)
            .limit(limit)
        )
        with self._db.session_scope() as session:
            return [_to_record(row) for row in session.scalars(statement)]

    def update_count(self, namespace: str, name: str, count: int) -> None:
        statement = (
            update(TableMetaRow)
            .where(*_key(namespace, name))
            .values(count=count, update_time=self._clock())
            .execution_options(synchronize_session=False)
        )
        with self._db.session_scope() as session:
            if rowcount(session, statement) == 0:
                raise _not_found(namespace, name)

    def delete(self, namespace: str, name: str) -> bool:
        """Forget a table's metadata; False if there was none. The stored data is not touched."""
        statement = (
            delete(TableMetaRow).where(*_key(namespace, name)).execution_options(synchronize_session=False)
        )
        with self._db.session_scope() as session:
            return rowcount(session, statement) == 1


def _to_record(row: TableMetaRow) -> TableMeta:
    return TableMeta(
        namespace=row.namespace,
        name=row.name,
        engine=row.engine,
        address=row.address,
        partitions=row.partitions,
        count=row.count,
        schema=row.schema,
        id_delimiter=row.id_delimiter,
        extend_sid=row.extend_sid,
        create_time=row.create_time,
        update_time=row.update_time,
    )
