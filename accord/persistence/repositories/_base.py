"""What every repository shares: the injected database and clock, and portable statement helpers."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import ColumnElement, CursorResult, Executable
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import QueryableAttribute, Session
from sqlalchemy.sql.base import ReadOnlyColumnCollection

from accord.persistence.database import Database
from accord.persistence.orm import Base, JobRow, TaskRow

Clock = Callable[[], datetime]
Excluded = ReadOnlyColumnCollection[str, Any]


def utc_now() -> datetime:
    return datetime.now(UTC)


class Repository:
    def __init__(self, db: Database, *, clock: Clock = utc_now) -> None:
        self._db = db
        self._clock = clock


def rowcount(session: Session, statement: Executable) -> int:
    # Session.execute is typed as returning a plain Result even for DML, which does carry a rowcount.
    return cast(CursorResult[Any], session.execute(statement)).rowcount


def insert_ignore(session: Session, entity: type[Base], values: Mapping[str, Any]) -> bool:
    """INSERT unless a row with the same key exists; True if inserted.

    ON CONFLICT rather than look-then-insert, so that two retries racing each other cannot both insert
    or fail on the unique constraint.
    """
    statement: Executable
    if session.get_bind().dialect.name == "postgresql":
        statement = postgresql.insert(entity).values(values).on_conflict_do_nothing()
    else:
        statement = sqlite.insert(entity).values(values).on_conflict_do_nothing()
    return rowcount(session, statement) == 1


def upsert(
    session: Session,
    entity: type[Base],
    values: Mapping[str, Any],
    *,
    keys: Sequence[str],
    set_: Callable[[Excluded], Mapping[str, Any]],
) -> None:
    """INSERT, or UPDATE with ``set_(excluded)`` when a row with the same ``keys`` exists."""
    statement: Executable
    if session.get_bind().dialect.name == "postgresql":
        pg = postgresql.insert(entity).values(values)
        statement = pg.on_conflict_do_update(index_elements=keys, set_=set_(pg.excluded))
    else:
        lite = sqlite.insert(entity).values(values)
        statement = lite.on_conflict_do_update(index_elements=keys, set_=set_(lite.excluded))
    session.execute(statement)


def given(*filters: tuple[QueryableAttribute[Any], object | None]) -> list[ColumnElement[bool]]:
    """Equality conditions for the optional filters that were given; None means "any"."""
    return [column == value for column, value in filters if value is not None]


def stamp_transition(row: JobRow | TaskRow, *, running: bool, end: bool, now: datetime) -> None:
    """Keep start/end/elapsed consistent with a status change that has just been applied."""
    row.update_time = now
    if running and row.start_time is None:
        row.start_time = now
    if end:
        if row.end_time is None:
            row.end_time = now
            if row.start_time is not None:
                row.elapsed_ms = int((now - row.start_time).total_seconds() * 1000)
    elif row.end_time is not None:
        # Only a rerun leaves an end status; its times describe the new attempt, not the old one.
        row.start_time = row.end_time = row.elapsed_ms = None
