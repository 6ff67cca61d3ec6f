"""The HomoOneHotEncoder component: every guest and host encodes the same columns the same way.

fit: each client finds the distinct values of its chosen columns (OneHotEncoder's pass). With
need_alignment, each sends those values and its header to the arbiter, which checks that the
clients agree on header and columns and sends back the union of each column's values; every client
then encodes with the union, so all of them get the same result header (a value a client never saw
gives it an all-zero column, as FATE's alignment does); text values (DataTransform's data_type "str")
are aligned the same way, sorted. Without it each client encodes with its own
values, as OneHotEncoder would. The arbiter sees the column names and their sets of values, nothing
per row. predict encodes other rows with the saved model; nothing is exchanged.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from accord.components.feature.homo_onehot.params import HomoOneHotParam
from accord.components.feature.onehot import model as onehot
from accord.components.feature.onehot.component import record_summary
from accord.components.feature.onehot.text import TEXT
from accord.components.sdk import ComponentBase, ComponentContext, DataTable
from accord.errors import DataMismatchError

Context = ComponentContext[HomoOneHotParam]
MODULE = "HomoOneHotEncoder"
_CLIENTS = ("guest", "host")
_UP, _DOWN = "align.values", "align.union"


class HomoOneHotEncoder(ComponentBase[HomoOneHotParam]):
    params = HomoOneHotParam

    def fit(self, ctx: Context) -> None:
        if ctx.role == "arbiter":
            if ctx.params.need_run and ctx.params.need_alignment:
                union = _align(ctx)
                ctx.save_model({"module": MODULE, "role": "arbiter", "col_values": union})
            return
        data = _input(ctx)
        if not ctx.params.need_run:
            ctx.save_table(data)
            ctx.save_model(onehot.assemble(data.header, {}, need_run=False, module=MODULE))
            return
        local = onehot.learn(ctx.params, data)
        value_type: str = local["value_type"]
        values: dict[str, list[Any]] = {name: col["values"] for name, col in local["col_map"].items()}
        if value_type != TEXT:
            values = {name: [float(v) for v in texts] for name, texts in values.items()}
        text_columns: list[str] = local["text_columns"]
        if ctx.params.need_alignment:
            sent = {
                "header": list(data.header),
                "value_type": value_type,
                "values": values,
                "text_columns": text_columns,
            }
            ctx.transfer.remote(sent, role="arbiter", tag=_UP, index=0)
            reply: dict[str, Any] = ctx.transfer.get(role="arbiter", tag=_DOWN, index=0)
            if reply.get("problem"):
                raise DataMismatchError(str(reply["problem"]), hint=reply.get("hint"))
            values, text_columns = reply["values"], reply.get("text_columns", [])
        model = onehot.assemble(
            data.header,
            {
                name: np.asarray(v, dtype=object if value_type == TEXT else np.float64)
                for name, v in values.items()
            },
            module=MODULE,
            value_type=value_type,
            text_columns=text_columns,
        )
        ctx.save_model(model)
        ctx.save_table(onehot.encoded(model, data))
        record_summary(ctx, model)

    def predict(self, ctx: Context) -> None:
        if ctx.role == "arbiter":
            return
        data = _input(ctx)
        trained = ctx.trained_model("encodes")
        model = onehot.check(trained, data.header, ctx.component, module=MODULE)
        ctx.save_applied_model(model)
        if not model.get("need_run", True):
            ctx.save_table(data)
            return
        ctx.save_table(onehot.encoded(model, data))
        record_summary(ctx, model)


def union_of(sent: Sequence[dict[str, Any]], component: str) -> dict[str, Any]:
    """The arbiter's reply: each column's values over every client (and the columns any client keeps
    as text), or the problem every client raises."""
    headers = {tuple(item["header"]) for item in sent}
    columns = {tuple(item["values"]) for item in sent}
    if len(headers) > 1 or len(columns) > 1:
        return {
            "problem": f"{component}: the clients' headers or encoded columns differ "
            f"({len(headers)} headers, {len(columns)} column sets); HomoOneHotEncoder aligns clients "
            "that share their features",
            "hint": "give every guest and host the same header and the same transform_col_indexes / names",
        }
    kinds = {item.get("value_type", "number") for item in sent}
    if len(kinds) > 1:
        # FATE refuses this too ("same values with different types among parties").
        return {
            "problem": f"{component}: some clients' features are text and others' numbers",
            "hint": "read every client's data with the same DataTransform data_type",
        }
    text = kinds == {TEXT}
    union: dict[str, list[Any]] = {}
    for name in next(iter(sent))["values"] if sent else []:
        merged: list[Any]
        if text:
            merged = sorted({str(v) for item in sent for v in item["values"][name]})
        else:
            found = [np.asarray(item["values"][name], dtype=np.float64) for item in sent]
            merged = [float(v) for v in np.unique(np.concatenate(found))]
        if len(merged) > onehot.ONE_HOT_LIMIT:
            return {
                "problem": f"{component}: column {name!r} has {len(merged)} distinct values over the "
                f"clients; HomoOneHotEncoder takes at most {onehot.ONE_HOT_LIMIT} per column",
                "hint": "bin the column first or leave it out of transform_col_indexes",
            }
        union[name] = merged
    text_columns = sorted({name for item in sent for name in item.get("text_columns", [])})
    return {"values": union, "text_columns": text_columns}


def _align(ctx: Context) -> dict[str, list[Any]]:
    sent: list[dict[str, Any]] = []
    roles = [role for role in _CLIENTS if ctx.party_ids(role)]
    for role in roles:
        sent.extend(ctx.transfer.get(role=role, tag=_UP))
    reply = union_of(sent, ctx.component)
    for role in roles:
        ctx.transfer.remote(reply, role=role, tag=_DOWN)
    if reply.get("problem"):
        raise DataMismatchError(str(reply["problem"]), hint=reply.get("hint"))
    ctx.log.info("%s: aligned %d columns over %d clients", ctx.component, len(reply["values"]), len(sent))
    values: dict[str, list[Any]] = reply["values"]
    return values


def _input(ctx: Context) -> DataTable:
    return ctx.instances_input("encodes parsed feature rows")
