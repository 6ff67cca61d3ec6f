"""Which parties a table is granted to: in cluster mode, who may read it in jobs they initiate."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, delete, select

from accord.errors import ArgumentError
from accord.persistence.orm import TableGrantRow
from accord.persistence.repositories._base import Repository, given, insert_ignore, rowcount

ANY_PARTY = "*"
# Digits only, no leading zero, as party ids are spelt in certificates; the cap keeps within BIGINT.
_MAX_PARTY_DIGITS = 18


@dataclass(frozen=True)
class TableGrant:
    namespace: str
    name: str
    party: str
    create_time: datetime

    def to_dict(self) -> dict[str, str | int]:
        return {
            "namespace": self.namespace,
            "table_name": self.name,
            "party": self.party,
            "create_time": int(self.create_time.timestamp() * 1000),
        }


def grantee(party: str | int) -> str:
    """``party`` as stored: a party id's digits, or ``*`` for every party; ArgumentError otherwise."""
    text = str(party).strip()
    if text == ANY_PARTY or (text.isdigit() and text[0] != "0" and len(text) <= _MAX_PARTY_DIGITS):
        return text
    raise ArgumentError(
        f"party {party!r} is neither a party id nor '*'",
        hint="give the party id of the site whose jobs may read the table (e.g. --party 10000), or "
        "'*' for every party",
    )


def _key(namespace: str, name: str) -> list[ColumnElement[bool]]:
    return [TableGrantRow.namespace == namespace, TableGrantRow.name == name]


class TableGrantRepository(Repository):
    def grant(self, namespace: str, name: str, party: str | int) -> tuple[TableGrant, bool]:
        """Grant ``party`` the table; the grant and whether it is new (granting twice changes nothing)."""
        who = grantee(party)
        values = {"namespace": namespace, "name": name, "party": who, "create_time": self._clock()}
        with self._db.session_scope() as session:
            created = insert_ignore(session, TableGrantRow, values)
            row = session.get_one(TableGrantRow, (namespace, name, who))
            return _to_record(row), created

    def revoke(self, namespace: str, name: str, party: str | int) -> bool:
        """Withdraw a grant; False if there was none."""
        statement = (
            delete(TableGrantRow)
            .where(*_key(namespace, name), TableGrantRow.party == grantee(party))
            .execution_options(synchronize_session=False)
        )
        with self._db.session_scope() as session:
            return rowcount(session, statement) == 1

    def list_grants(self, namespace: str | None = None, name: str | None = None) -> list[TableGrant]:
        statement = (
            select(TableGrantRow)
            .where(*given((TableGrantRow.namespace, namespace), (TableGrantRow.name, name)))
            .order_by(TableGrantRow.namespace, TableGrantRow.name, TableGrantRow.party)
        )
        with self._db.session_scope() as session:
            return [_to_record(row) for row in session.scalars(statement)]

    def allows(self, namespace: str, name: str, party_id: int) -> bool:
        """Whether the table is granted to ``party_id``, by its id or to every party."""
        statement = select(TableGrantRow.party).where(
            *_key(namespace, name), TableGrantRow.party.in_([str(party_id), ANY_PARTY])
        )
        with self._db.session_scope() as session:
            return session.scalars(statement.limit(1)).first() is not None


def _to_record(row: TableGrantRow) -> TableGrant:
    return TableGrant(row.namespace, row.name, row.party, row.create_time)
