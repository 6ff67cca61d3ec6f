"""Rows for HeteroNN: each party's dataset in id order (so guest and hosts pair rows by position),
the digest of the ids that proves the pairing, and the batches."""

from __future__ import annotations

import hashlib
from typing import Any

import numpy as np

from accord.components.sdk import ComponentContext, Dataset
from accord.errors import DataFormatError


def ordered(data: Dataset) -> Dataset:
    ids = np.asarray(data.ids()).astype(str)
    return data.take(np.argsort(ids, kind="stable"))


def rows(ctx: ComponentContext[Any], *slots: str) -> Dataset | None:
    data = ctx.first_dataset(*slots)
    if data is None:
        return None
    if data.kind != "instances":
        raise DataFormatError(
            f"{ctx.component} trains on parsed feature rows, but its input holds {data.kind} rows",
            hint="put a DataTransform (and an Intersection) before HeteroNN",
        )
    return ordered(data)


def digest(data: Dataset | None) -> str | None:
    if data is None:
        return None
    hasher = hashlib.sha256()
    for sid in np.asarray(data.ids()).astype(str):
        hasher.update(sid.encode())
        hasher.update(b"\0")
    return hasher.hexdigest()


def batches(count: int, batch_size: int) -> list[tuple[int, int]]:
    """Consecutive row ranges in id order; -1 is one batch of every row (FATE's full batch)."""
    if batch_size == -1 or batch_size >= count:
        return [(0, count)]
    return [(start, min(start + batch_size, count)) for start in range(0, count, batch_size)]
