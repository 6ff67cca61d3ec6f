"""Tags and the model versions they label: FATE-Flow's ``flow tag`` and ``flow model tag-model``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, select, update

from accord.errors import ArgumentError, RecordNotFound
from accord.persistence.orm import ModelTagRow, TagRow
from accord.persistence.repositories._base import Repository, insert_ignore, rowcount


@dataclass(frozen=True)
class Tag:
    name: str
    description: str
    create_time: datetime
    model_versions: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, object]:
        return {
            "name": self.name,
            "description": self.description,
            "model_count": len(self.model_versions),
            "create_time": int(self.create_time.timestamp() * 1000),
        }


def _missing(name: str) -> RecordNotFound:
    return RecordNotFound(f"there is no tag {name!r}", hint="list the tags with `accord tag list`", tag=name)


class TagRepository(Repository):
    def create(self, name: str, description: str = "") -> Tag:
        values = {"name": name, "description": description, "create_time": self._clock()}
        with self._db.session_scope() as session:
            if not insert_ignore(session, TagRow, values):
                raise ArgumentError(
                    f"tag {name!r} exists already",
                    hint="choose another name, or `accord tag update`",
                    tag=name,
                )
            return _to_record(session.get_one(TagRow, name), ())

    def get(self, name: str) -> Tag:
        with self._db.session_scope() as session:
            row = session.get(TagRow, name)
            if row is None:
                raise _missing(name)
            versions = session.scalars(
                select(ModelTagRow.model_version)
                .where(ModelTagRow.tag_name == name)
                .order_by(ModelTagRow.model_version)
            )
            return _to_record(row, tuple(versions))

    def list_tags(self, *, limit: int | None = None) -> list[Tag]:
        counts = (
            select(ModelTagRow.tag_name, func.count().label("n")).group_by(ModelTagRow.tag_name).subquery()
        )
        statement = select(TagRow, counts.c.n).outerjoin(counts, counts.c.tag_name == TagRow.name)
        statement = statement.order_by(TagRow.create_time.desc(), TagRow.name).limit(limit)
        with self._db.session_scope() as session:
            # Only the count matters to a listing: placeholders stand for the versions.
            return [_to_record(row, ("",) * (n or 0)) for row, n in session.execute(statement)]

    def update(self, name: str, *, new_name: str | None = None, new_description: str | None = None) -> Tag:
        with self._db.session_scope() as session:
            row = session.get(TagRow, name)
            if row is None:
                raise _missing(name)
            if new_description is not None:
                row.description = new_description
            if new_name is not None and new_name != name:
                if session.get(TagRow, new_name) is not None:
                    raise ArgumentError(
                        f"tag {new_name!r} exists already", hint="choose another --new-tag-name", tag=new_name
                    )
                session.add(TagRow(name=new_name, description=row.description, create_time=row.create_time))
                session.flush()
                session.execute(
                    update(ModelTagRow)
                    .where(ModelTagRow.tag_name == name)
                    .values(tag_name=new_name)
                    .execution_options(synchronize_session=False)
                )
                session.delete(row)
        return self.get(new_name or name)

    def delete(self, name: str) -> None:
        with self._db.session_scope() as session:
            session.execute(delete(ModelTagRow).where(ModelTagRow.tag_name == name))
            if rowcount(session, delete(TagRow).where(TagRow.name == name)) != 1:
                raise _missing(name)

    def tag_model(self, model_version: str, name: str, *, create: bool = True) -> bool:
        """Tag a version (creating the tag if ``create``); whether the version was untagged."""
        now = self._clock()
        with self._db.session_scope() as session:
            if session.get(TagRow, name) is None:
                if not create:
                    raise _missing(name)
                insert_ignore(session, TagRow, {"name": name, "description": "", "create_time": now})
            values = {"tag_name": name, "model_version": model_version, "create_time": now}
            return insert_ignore(session, ModelTagRow, values)

    def untag_model(self, model_version: str, name: str) -> bool:
        statement = delete(ModelTagRow).where(
            ModelTagRow.tag_name == name, ModelTagRow.model_version == model_version
        )
        with self._db.session_scope() as session:
            return rowcount(session, statement.execution_options(synchronize_session=False)) == 1

    def model_tags(self, model_version: str) -> list[Tag]:
        statement = (
            select(TagRow)
            .join(ModelTagRow, ModelTagRow.tag_name == TagRow.name)
            .where(ModelTagRow.model_version == model_version)
            .order_by(TagRow.name)
        )
        with self._db.session_scope() as session:
            return [_to_record(row, (model_version,)) for row in session.scalars(statement)]


def _to_record(row: TagRow, versions: tuple[str, ...]) -> Tag:
    return Tag(row.name, row.description, row.create_time, versions)
