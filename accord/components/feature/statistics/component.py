"""The DataStatistics component: each party describes its own feature columns; nothing crosses parties.

fit computes, for the chosen columns (every one for column_indexes -1, else the indexes and then the
names, in that order, skipping those beyond this party's header as FATE does), the statistics asked
for plus FATE's summary set, records them as the summary (per column) and saves them as the model
that HeteroFeatureSelection's statistic filters read. The rows pass on unchanged.
"""

from __future__ import annotations

from typing import Any

from accord.components.feature.statistics.compute import compute
from accord.components.feature.statistics.params import LEGAL_STATISTICS, StatisticsParam
from accord.components.sdk import ComponentBase, ComponentContext, DataTable

Context = ComponentContext[StatisticsParam]
MODULE = "DataStatistics"


def chosen_columns(params: StatisticsParam, header: tuple[str, ...]) -> list[int]:
    """The columns to describe, in FATE's order: the indexes given, then the names given."""
    if params.column_indexes == -1:
        return list(range(len(header)))
    chosen: list[int] = []
    position = {name: index for index, name in enumerate(header)}
    indexes = params.column_indexes if isinstance(params.column_indexes, list) else []
    for index in [*indexes, *(position.get(name, -1) for name in params.column_names or [])]:
        # As FATE: an index beyond the header or a name not in it is skipped (a common conf may name
        # another party's columns).
        if 0 <= index < len(header) and index not in chosen:
            chosen.append(index)
    return chosen


def _abnormal(params: StatisticsParam) -> list[float]:
    # Features are numbers: only numeric abnormal values can match a cell (NaN always counts as absent).
    return [
        float(value)
        for value in params.abnormal_list or []
        if isinstance(value, int | float) and not isinstance(value, bool)
    ]


def ordered_statistics(params: StatisticsParam) -> list[str]:
    """The statistics in FATE's order: the numeric ones as listed, then the percentiles (median first)."""
    names = params.computed
    numeric = [name for name in names if name in LEGAL_STATISTICS and name != "median"]
    return numeric + [name for name in names if name not in numeric]


class DataStatistics(ComponentBase[StatisticsParam]):
    params = StatisticsParam

    def fit(self, ctx: Context) -> None:
        data = _input(ctx)
        params = ctx.params
        model: dict[str, Any] = {
            "module": MODULE,
            "header": list(data.header),
            "statistics": {},
            "static_columns": [],
            "need_run": params.need_run,
        }
        if params.need_run:
            chosen = chosen_columns(params, data.header)
            names = ordered_statistics(params)
            found = compute(
                data, chosen, names, abnormal=_abnormal(params), error=params.quantile_error, bias=params.bias
            )
            columns = [data.header[index] for index in chosen]
            model.update(
                statistics=found,
                static_columns=columns,
                quantile_error=params.quantile_error,
                bias=params.bias,
                abnormal_list=params.abnormal_list or [],
            )
            ctx.tracker.set_summary({col: {name: found[name][col] for name in names} for col in columns})
            ctx.log.info("%s: %d statistics of %d columns", ctx.component, len(names), len(columns))
        ctx.save_table(data)
        ctx.save_model(model)

    def predict(self, ctx: Context) -> None:
        # FATE's DataStatistics loads no model: in a predict job the rows pass through.
        ctx.save_table(_input(ctx))


def _input(ctx: Context) -> DataTable:
    return ctx.instances_input("describes parsed feature rows")
