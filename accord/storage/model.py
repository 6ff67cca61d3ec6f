"""The values the table store hands out: a table's description, its rows, and upload progress.

An uploaded table keeps, in its SQL ``schema`` JSON, FATE's ``header`` (the value columns' names joined
by the delimiter) and ``sid`` (the id column's name), plus a ``text_layout`` section that lets a
download write the file back byte for byte: whether it had a header line, how many value fields each
row has, its line ending, whether its last line ended with one and whether it began with a UTF-8 BOM.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

import pyarrow as pa

from accord.persistence import TableMeta

ENGINE = "PARQUET"
DATA_FILE = "data.parquet"
EXTEND_SID_NAME = "extend_sid"  # FATE's name for a generated id column
LAYOUT_KEY = "text_layout"


class UploadProgress(NamedTuple):
    bytes_read: int
    total_bytes: int
    rows: int


@dataclass(frozen=True, slots=True)
class TextLayout:
    """How an uploaded file looked, beyond its rows: enough to write the same bytes back."""

    head: bool
    value_columns: int
    line_ending: str = "\n"
    final_newline: bool = True
    bom: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "head": int(self.head),
            "value_columns": self.value_columns,
            "line_ending": self.line_ending,
            "final_newline": self.final_newline,
            "bom": self.bom,
        }

    @classmethod
    def from_json(cls, value: Any) -> TextLayout | None:
        if not isinstance(value, dict):
            return None
        return cls(
            head=bool(value.get("head", 1)),
            value_columns=int(value.get("value_columns", 0)),
            line_ending=str(value.get("line_ending", "\n")),
            final_newline=bool(value.get("final_newline", True)),
            bom=bool(value.get("bom", False)),
        )


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


@dataclass(frozen=True, slots=True)
class TableInfo:
    """One table's description: where it lives, how many rows, and its schema."""

    namespace: str
    name: str
    engine: str
    address: str
    partitions: int
    count: int
    schema: dict[str, Any]
    id_delimiter: str
    extend_sid: bool
    create_time: datetime
    update_time: datetime

    @classmethod
    def of(cls, meta: TableMeta) -> TableInfo:
        return cls(
            namespace=meta.namespace,
            name=meta.name,
            engine=meta.engine,
            address=meta.address,
            partitions=meta.partitions,
            count=meta.count or 0,
            schema=dict(meta.schema),
            id_delimiter=meta.id_delimiter,
            extend_sid=meta.extend_sid,
            create_time=meta.create_time,
            update_time=meta.update_time,
        )

    @property
    def layout(self) -> TextLayout | None:
        """The uploaded file's layout; None for tables components wrote."""
        return TextLayout.from_json(self.schema.get(LAYOUT_KEY))

    @property
    def sid(self) -> str:
        return str(self.schema.get("sid", ""))

    @property
    def header(self) -> list[str]:
        """The value columns' names, in column order, exactly as the file's header had them.

        Empty for a file uploaded without a header line (``head: 0``).
        """
        header = self.schema.get("header", "")
        if isinstance(header, list):
            return [str(name) for name in header]
        layout = self.layout
        if layout is None:
            return str(header).split(self.id_delimiter) if header else []
        if not layout.head or layout.value_columns == 0:
            return []
        # A lone empty name is still a column: "id," has one value column called "".
        return str(header).split(self.id_delimiter)

    def to_fate(self) -> dict[str, Any]:
        """FATE-Flow's ``table_info`` data, with accord's engine and times added."""
        return {
            "table_name": self.name,
            "namespace": self.namespace,
            "exist": 1,
            "count": self.count,
            "partition": self.partitions,
            "schema": self.schema,
            "extend_sid": self.extend_sid,
            "id_delimiter": self.id_delimiter,
            "address": {"path": self.address},
            "engine": self.engine,
            "create_time": _ms(self.create_time),
            "update_time": _ms(self.update_time),
        }


@dataclass(frozen=True, slots=True)
class RawTable:
    """A table's rows and description.

    For an uploaded table, column 0 holds the ids and column ``i`` (from 1) the value named
    ``header[i - 1]``, every value a string exactly as the file had it. The columns carry the file's
    names when those are distinct and non-empty, else positional names ``c0``, ``c1``, ...; rely on the
    position and :attr:`header`, not on the column names.
    """

    table: pa.Table
    info: TableInfo

    @property
    def header(self) -> list[str]:
        return self.info.header

    @property
    def sid(self) -> str:
        return self.info.sid

    @property
    def delimiter(self) -> str:
        return self.info.id_delimiter

    @property
    def count(self) -> int:
        return int(self.table.num_rows)
