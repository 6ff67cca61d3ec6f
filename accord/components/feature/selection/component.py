"""The HeteroFeatureSelection component (FATE 1.11): filters run in order, each on the columns left.

fit reads this party's rows and the isometric models (binning, DataStatistics, PSI, HeteroPearson,
SecureBoost), runs filter_methods in order (see steps.py) and writes the rows with only the kept
feature columns; the IV filters, the hetero SBT filters (by the guest's feature importance, the hosts'
columns by anonymous name) and correlation_filter run federated (guest.py / host.py / correlation.py),
every other filter on each party's own columns (homo_sbt_filter by the model every party holds).
predict keeps the columns a trained model kept.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

from accord.components.feature.selection import blocks, correlation, filters, guest, host, metrics, names
from accord.components.feature.selection import model as selection_model
from accord.components.feature.selection.params import FeatureSelectionParam
from accord.components.feature.selection.state import Selection
from accord.components.feature.selection.steps import Step, steps
from accord.components.sdk import ComponentBase, ComponentContext, DataTable

Context = ComponentContext[FeatureSelectionParam]


class HeteroFeatureSelection(ComponentBase[FeatureSelectionParam]):
    params = FeatureSelectionParam

    def fit(self, ctx: Context) -> None:
        data = _input(ctx)
        params = ctx.params
        header = list(data.header)
        anonymous = names.anonymous_header(ctx.role, ctx.party_id, len(header))
        if not params.need_run:
            ctx.save_table(data)
            ctx.save_model(
                selection_model.build(
                    header=header,
                    anonymous_header=anonymous,
                    select_cols=[],
                    left_cols=header,
                    filter_methods=params.filter_methods,
                    results=[],
                    host_col_names=[],
                    need_run=False,
                )
            )
            return
        selection = Selection.start(header, _selected(ctx, header))
        select_cols = selection.select_names
        if not select_cols:
            ctx.log.warning("%s: no column is selected; every column is kept", ctx.component)
        isometric = metrics.Models(_isometric(ctx), ctx.component)
        results: list[dict[str, Any]] = []
        summary: dict[str, Any] = {}
        host_names: dict[int, list[str]] = {}
        planned = steps(params)
        for position, step in enumerate(planned):
            ctx.check_cancelled()
            hosts = _run(ctx, data, selection, step, position, isometric)
            entry = selection.result(step.name)
            entry["host_feature_values"] = [view.result("")["feature_values"] for view in hosts]
            entry["host_left_cols"] = [view.result("")["left_cols"] for view in hosts]
            results.append(entry)
            for host_index, view in enumerate(hosts):
                host_names.setdefault(host_index, view.header)
            summary[step.name] = {
                "last_col_nums": len(selection.last_left),
                "left_col_nums": len(selection.left),
                "left_col_names": selection.left_names,
            }
            selection = selection.next()
            ctx.progress(position + 1, len(planned), step.name)
        keep = selection.last_left
        summary["all"] = {
            "last_col_nums": len(header),
            "left_col_nums": len(keep),
            "left_col_names": [header[i] for i in keep],
        }
        ctx.save_table(blocks.selected(data, keep))
        ctx.save_model(
            selection_model.build(
                header=header,
                anonymous_header=anonymous,
                select_cols=select_cols,
                left_cols=[header[i] for i in keep],
                filter_methods=params.filter_methods,
                results=results,
                host_col_names=_host_col_names(ctx, host_names, anonymous),
            )
        )
        ctx.tracker.set_summary(summary)
        ctx.log.info("%s: kept %d of %d columns", ctx.component, len(keep), len(header))

    def predict(self, ctx: Context) -> None:
        data = _input(ctx)
        model = selection_model.find(ctx.input_models(), ctx.component)
        ctx.save_applied_model(dict(model))
        keep = selection_model.kept_indexes(model, data.header, ctx.component)
        ctx.save_table(blocks.selected(data, keep))


def _run(
    ctx: Context, data: DataTable, selection: Selection, step: Step, position: int, isometric: metrics.Models
) -> list[Selection]:
    params = ctx.params
    if step.kind == "manually":
        filters.manually(
            selection,
            params.manually_param,
            use_anonymous=params.use_anonymous,
            role=ctx.role,
            party_id=ctx.party_id,
            component=ctx.component,
        )
    elif step.kind == "percentage_value":
        filters.percentage_value(selection, data, params.percentage_value_param.upper_pct)
    elif step.kind == "statistic":
        values = metrics.statistic(isometric, data, selection.select, step.metric, ctx.log)
        filters.by_values(selection, step, values)
    elif step.kind == "psi":
        filters.by_values(selection, step, metrics.psi(isometric, selection.select_names, ctx.component))
    elif step.kind == "vif":
        values = correlation.vif_values(isometric.pearson, selection.select_names, ctx.component)
        filters.by_values(selection, step, values)
    elif step.kind == "homo_sbt":
        # Every party holds the same HomoSecureBoost model and ranks its own columns by it.
        found = metrics.importance(isometric.secureboost, step.metric, ctx.component)
        filters.by_values(selection, step, [found.get(name, 0.0) for name in selection.select_names])
    elif step.kind == "sbt" and ctx.role == "guest":
        found = metrics.importance(isometric.secureboost, step.metric, ctx.component)
        own = [found.get(name, 0.0) for name in selection.select_names]
        return guest.ranked_step(
            selection,
            step,
            position,
            own,
            functools.partial(_host_importance, found),
            transfer=ctx.transfer,
            host_ids=ctx.party_ids("host"),
        )
    elif step.kind == "correlation" and ctx.role == "guest":
        return correlation.guest_step(
            selection,
            step,
            position,
            binning=isometric.binning,
            pearson=isometric.pearson,
            transfer=ctx.transfer,
            host_ids=ctx.party_ids("host"),
            component=ctx.component,
        )
    elif ctx.role == "guest":
        return guest.iv_step(
            selection,
            step,
            position,
            binning=isometric.binning,
            transfer=ctx.transfer,
            host_ids=ctx.party_ids("host"),
            component=ctx.component,
        )
    else:
        host.iv_step(selection, step, position, transfer=ctx.transfer, party_id=ctx.party_id)
    return []


def _host_importance(found: Mapping[str, float], party_id: int) -> Mapping[str, float]:
    # The guest's SecureBoost model names the hosts' columns anonymously, as the hosts send them.
    return found


def _selected(ctx: Context, header: list[str]) -> list[int]:
    """select_col_indexes then select_names, as FATE adds them (out-of-range indexes are skipped)."""
    params = ctx.params
    if params.select_col_indexes == -1:
        chosen = list(range(len(header)))
    else:
        indexes = params.select_col_indexes if isinstance(params.select_col_indexes, list) else []
        chosen = [i for i in indexes if 0 <= i < len(header)]
        if len(chosen) < len(indexes):
            ctx.log.warning(
                "%s: select_col_indexes beyond the %d columns are skipped", ctx.component, len(header)
            )
    given = params.select_names or []
    if params.use_anonymous:
        given = names.plain_names(
            given, header, ctx.role, ctx.party_id, field="select_names", component=ctx.component
        )
    unknown = [name for name in given if name not in header]
    if unknown:
        ctx.log.warning("%s: select_names %s are not columns here; skipped", ctx.component, unknown[:10])
    chosen.extend(header.index(name) for name in given if name in header)
    return list(dict.fromkeys(chosen))


def _isometric(ctx: Context) -> list[dict[str, Any]]:
    refs = ctx.inputs("isometric_model")
    return [ctx.services.models.load(ctx.model_key(ref.component, external=ref.external)) for ref in refs]


def _host_col_names(ctx: Context, seen: dict[int, list[str]], anonymous: list[str]) -> list[dict[str, Any]]:
    if ctx.role == "host":
        return [{"party_id": str(ctx.party_id), "col_names": anonymous}]
    return [
        {"party_id": str(party_id), "col_names": seen.get(index, [])}
        for index, party_id in enumerate(ctx.party_ids("host"))
    ]


def _input(ctx: Context) -> DataTable:
    return ctx.instances_input("selects parsed feature columns")
