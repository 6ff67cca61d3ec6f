"""Tracking metrics: per task version, named series of [x, y] points with a free-form meta."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, delete, select
from sqlalchemy.orm import Session

from accord.errors import ArgumentError, RecordNotFound
from accord.persistence.orm import MetricRow
from accord.persistence.records import MetricKey, MetricRecord
from accord.persistence.repositories._base import Repository, given, insert_ignore, rowcount


def _key(key: MetricKey) -> list[ColumnElement[bool]]:
    return [
        MetricRow.job_id == key.job_id,
        MetricRow.component_name == key.component_name,
        MetricRow.role == key.role,
        MetricRow.party_id == key.party_id,
        MetricRow.task_version == key.task_version,
        MetricRow.metric_namespace == key.metric_namespace,
        MetricRow.metric_name == key.metric_name,
    ]


def _points(points: Iterable[Sequence[Any]]) -> list[list[Any]]:
    checked = []
    for point in points:
        if isinstance(point, str | bytes) or len(point) != 2:
            raise ArgumentError(f"a metric data point is an [x, y] pair, not {point!r}")
        checked.append([point[0], point[1]])
    return checked


class MetricRepository(Repository):
    def log(
        self,
        key: MetricKey,
        points: Iterable[Sequence[Any]],
        *,
        metric_type: str,
        task_id: str | None = None,
    ) -> MetricRecord:
        """Append [x, y] points to a metric, creating it on first use; the latest metric_type wins."""
        new_points = _points(points)
        with self._db.session_scope() as session:
            row = self._locked(session, key, metric_type, task_id)
            # Reassigned, not appended in place: the ORM does not see mutations inside a JSON value.
            row.data = [*row.data, *new_points]
            row.metric_type = metric_type
            row.update_time = self._clock()
            session.flush()
            return _to_record(row)

    def set_meta(
        self,
        key: MetricKey,
        meta: Mapping[str, Any],
        *,
        metric_type: str,
        task_id: str | None = None,
    ) -> MetricRecord:
        """Replace a metric's meta (its name, unit, curve kind...), creating the metric on first use."""
        with self._db.session_scope() as session:
            row = self._locked(session, key, metric_type, task_id)
            row.meta = dict(meta)
            row.metric_type = metric_type
            row.update_time = self._clock()
            session.flush()
            return _to_record(row)

    def get(self, key: MetricKey) -> MetricRecord:
        with self._db.session_scope() as session:
            row = session.scalars(select(MetricRow).where(*_key(key))).one_or_none()
            if row is None:
                raise RecordNotFound(
                    f"no metric {key.metric_namespace}/{key.metric_name} for task "
                    f"{key.component_name} version {key.task_version} of job {key.job_id} "
                    f"on {key.role} {key.party_id}",
                )
            return _to_record(row)

    def query(
        self,
        job_id: str,
        component_name: str,
        role: str,
        party_id: int,
        *,
        task_version: int | None = None,
        metric_namespace: str | None = None,
        metric_name: str | None = None,
    ) -> list[MetricRecord]:
        """A task's metrics (every version unless one is given), ordered by version, namespace, name."""
        statement = (
            select(MetricRow)
            .where(
                MetricRow.job_id == job_id,
                MetricRow.component_name == component_name,
                MetricRow.role == role,
                MetricRow.party_id == party_id,
                *given(
                    (MetricRow.task_version, task_version),
                    (MetricRow.metric_namespace, metric_namespace),
                    (MetricRow.metric_name, metric_name),
                ),
            )
            .order_by(MetricRow.task_version, MetricRow.metric_namespace, MetricRow.metric_name)
        )
        with self._db.session_scope() as session:
            return [_to_record(row) for row in session.scalars(statement)]

    def delete(
        self, *, job_id: str | None = None, since: datetime | None = None, until: datetime | None = None
    ) -> int:
        """Delete a job's metrics, or those created in [since, until); how many series went."""
        conditions: list[ColumnElement[bool]] = []
        if job_id is not None:
            conditions.append(MetricRow.job_id == job_id)
        if since is not None:
            conditions.append(MetricRow.create_time >= since)
        if until is not None:
            conditions.append(MetricRow.create_time < until)
        if not conditions:
            raise ArgumentError(
                "deleting metrics needs a job id or a date", hint="give -j JOB_ID or -d YYYYMMDD"
            )
        statement = delete(MetricRow).where(*conditions).execution_options(synchronize_session=False)
        with self._db.session_scope() as session:
            return rowcount(session, statement)

    def _locked(self, session: Session, key: MetricKey, metric_type: str, task_id: str | None) -> MetricRow:
        """The metric's row, created empty if missing, locked so concurrent appends do not lose points."""
        now = self._clock()
        insert_ignore(
            session,
            MetricRow,
            {
                "job_id": key.job_id,
                "component_name": key.component_name,
                "role": key.role,
                "party_id": key.party_id,
                "task_id": task_id or f"{key.job_id}_{key.component_name}",
                "task_version": key.task_version,
                "metric_namespace": key.metric_namespace,
                "metric_name": key.metric_name,
                "metric_type": metric_type,
                "data": [],
                "meta": {},
                "create_time": now,
                "update_time": now,
            },
        )
        return session.scalars(select(MetricRow).where(*_key(key)).with_for_update()).one()


def _to_record(row: MetricRow) -> MetricRecord:
    return MetricRecord(
        key=MetricKey(
            job_id=row.job_id,
            component_name=row.component_name,
            role=row.role,
            party_id=row.party_id,
            task_version=row.task_version,
            metric_namespace=row.metric_namespace,
            metric_name=row.metric_name,
        ),
        task_id=row.task_id,
        metric_type=row.metric_type,
        data=tuple((x, y) for x, y in row.data),
        meta=row.meta,
        create_time=row.create_time,
        update_time=row.update_time,
    )
