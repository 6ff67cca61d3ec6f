"""The filters each party runs on its own columns: manually, percentage_value, statistics and PSI.

Semantics as FATE 1.11's ManuallyFilter, PercentageValueFilter and IsoModelFilter: a filter looks at the
selected columns still left, keeps some, and if it would keep none keeps one (see Selection.keep_one).
"""

from __future__ import annotations

import math

from accord.components.feature.selection import blocks, names
from accord.components.feature.selection.params import ManuallyFilterParam
from accord.components.feature.selection.state import Selection, pick
from accord.components.feature.selection.steps import Step
from accord.components.sdk import DataTable


def manually(
    selection: Selection,
    param: ManuallyFilterParam,
    *,
    use_anonymous: bool,
    role: str,
    party_id: int,
    component: str,
) -> None:
    header = selection.header

    def plain(given: list[str] | None, field: str) -> list[str]:
        if not use_anonymous or given is None:
            return list(given or [])
        return names.plain_names(given, header, role, party_id, field=field, component=component)

    out_indexes: set[int] = set()
    out_names: set[str] = set()
    if (param.filter_out_indexes or param.filter_out_names) is not None:
        out_indexes = set(param.filter_out_indexes or [])
        out_names = set(plain(param.filter_out_names, "manually_param.filter_out_names"))
    elif (param.left_col_indexes or param.left_col_names) is not None:
        kept = set(param.left_col_indexes or [])
        kept |= {
            header.index(n)
            for n in plain(param.left_col_names, "manually_param.left_col_names")
            if n in header
        }
        out_indexes = set(range(len(header))) - kept
    for index in selection.select:
        if index not in out_indexes and header[index] not in out_names:
            selection.keep(header[index])
    selection.keep_one(pick_high=True)


def percentage_value(selection: Selection, data: DataTable, upper_pct: float) -> None:
    """Drop a column when one value fills more than ceil(rows * upper_pct) of its rows."""
    k = 1
    while 1 / k > upper_pct:
        k += 1
    total = data.table.count()
    limit = math.ceil(total * upper_pct)
    tops = blocks.top_value_counts(data, selection.select, k)
    for index, top in zip(selection.select, tops, strict=True):
        name = selection.header[index]
        crowded = top is not None and top > limit
        selection.values[name] = crowded
        if not crowded:
            selection.keep(name)
    selection.keep_one(pick_high=True)


def by_values(selection: Selection, step: Step, values: list[float]) -> None:
    """Keep the selected columns whose ``values`` pass the step's rule (threshold, top_k, top_percentile)."""
    kept = pick(values, step.filter_type, step.threshold, step.take_high)
    for position, index in enumerate(selection.select):
        name = selection.header[index]
        selection.values[name] = values[position]
        if position in kept:
            selection.keep(name)
    selection.keep_one(pick_high=step.take_high)
