"""Building upload confs and files, and a plain-Python reading of a delimited file to compare with."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from accord.storage import RawTable, UploadConf


def conf(file: Path | str, name: str = "t", namespace: str = "ns", **fields: Any) -> UploadConf:
    return UploadConf.parse({"file": str(file), "table_name": name, "namespace": namespace, **fields})


def write(path: Path, text: str | bytes) -> Path:
    path.write_bytes(text.encode() if isinstance(text, str) else text)
    return path


@dataclass(frozen=True)
class Reference:
    """A file read line by line with str.split: the header's fields (None without one) and each row's."""

    header: list[str] | None
    rows: list[list[str]]


def reference(path: Path, *, head: bool, delimiter: str = ",") -> Reference:
    text = path.read_bytes().decode("utf-8")
    text = text.removeprefix("\ufeff")
    lines = text.split("\n")
    if lines[-1] == "":
        lines.pop()
    fields = [(line[:-1] if line.endswith("\r") else line).split(delimiter) for line in lines]
    return Reference(fields[0], fields[1:]) if head else Reference(None, fields)


def rows_of(raw: RawTable) -> list[list[str]]:
    """The table's rows as lists of strings, id first."""
    columns = [column.to_pylist() for column in raw.table.columns]
    return [list(row) for row in zip(*columns, strict=True)]
