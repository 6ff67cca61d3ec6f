"""What SIR reads from a party's rows, computed on the engine partition by partition."""

from __future__ import annotations

import functools
from typing import Any

import numpy as np

from accord.components.data.retrieval import crypto
from accord.components.sdk import DataTable
from accord.components.sdk.dataset import FEATURES, LABEL, SID
from accord.computing import Block
from accord.errors import DataFormatError

Chunk = tuple[list[str], Any]


def _batch(block: Block) -> Any:
    if isinstance(block, bytes):
        raise DataFormatError("a table of rows holds a blob partition")
    return block


def _concat(left: list[Chunk], right: list[Chunk]) -> list[Chunk]:
    return left + right


def _encrypted(method: str, salt: str, p: int, key: int, block: Block) -> list[Chunk]:
    batch = _batch(block)
    ids = [str(sid) for sid in batch.column(SID).to_pylist()]
    return [(ids, crypto.encrypt(crypto.id_elements(ids, method, salt, p), key, p))]


def encrypted_ids(data: DataTable, method: str, salt: str, p: int, key: int) -> tuple[list[str], list[int]]:
    """Every id and its Pohlig-Hellman encryption under ``key``, in table order."""
    nothing: list[Chunk] = []
    parts = data.table.aggregate(nothing, functools.partial(_encrypted, method, salt, p, key), _concat)
    return [sid for ids, _ in parts for sid in ids], [e for _, enc in parts for e in enc]


def _ids(block: Block) -> list[Chunk]:
    return [([str(sid) for sid in _batch(block).column(SID).to_pylist()], None)]


def ids_of(data: DataTable) -> list[str]:
    nothing: list[Chunk] = []
    return [sid for ids, _ in data.table.aggregate(nothing, _ids, _concat) for sid in ids]


def _values(columns: list[int] | None, block: Block) -> list[Chunk]:
    batch = _batch(block)
    ids = [str(sid) for sid in batch.column(SID).to_pylist()]
    if columns is None:
        values = np.asarray(batch.column(LABEL).to_numpy(zero_copy_only=False), dtype=np.float64)
        return [(ids, values.reshape(-1, 1))]
    if not ids:
        return [(ids, np.zeros((0, len(columns))))]
    column: Any = batch.column(FEATURES)
    width = batch.schema.field(FEATURES).type.list_size
    flat = np.asarray(column.flatten().to_numpy(zero_copy_only=False), dtype=np.float64)
    return [(ids, flat.reshape(len(ids), width)[:, columns])]


def values_of(data: DataTable, target_cols: list[str], component: str) -> tuple[list[str], np.ndarray]:
    """The host's ids and the values it serves for them: ``target_cols``, or the label when none."""
    if target_cols:
        missing = [name for name in target_cols if name not in data.header]
        if missing:
            raise DataFormatError(
                f"{component}: target_cols {missing} are not columns of the host's data",
                hint=f"name columns of its header: {', '.join(data.header[:8])}...",
            )
        columns: list[int] | None = [data.header.index(name) for name in target_cols]
    else:
        if data.label_name is None:
            raise DataFormatError(
                f"{component}: no target_cols, so the label is retrieved, and the host has none",
                hint="read the host's label (DataTransform with_label true) or name target_cols",
            )
        columns = None
    nothing: list[Chunk] = []
    parts = data.table.aggregate(nothing, functools.partial(_values, columns), _concat)
    ids = [sid for chunk, _ in parts for sid in chunk]
    width = 1 if columns is None else len(columns)
    matrix = np.concatenate([v for _, v in parts]) if parts else np.zeros((0, width))
    return ids, matrix.reshape(len(ids), width)
