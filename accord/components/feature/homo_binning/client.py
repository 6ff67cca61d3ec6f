"""A guest's or host's side of HomoFeatureBinning: its counts, ranges and ranks go to the arbiter.

What leaves the client: its header and binned column names, each binned column's min and max (in the
clear, as FATE sends them, so the arbiter can take the global range), and, masked by secure
aggregation, its row count, each column's missing count and its ranks at the query values. The
arbiter learns only the sums; the other clients learn nothing but the results every client gets.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from accord.components.feature.hetero_binning.model import Columns, choose_columns, counts_only
from accord.components.feature.hetero_binning.params import HeteroFeatureBinningParam
from accord.components.feature.homo_binning import query, ranks
from accord.components.feature.homo_binning.params import HomoFeatureBinningParam
from accord.components.homo_lr.client import raise_problem
from accord.components.homo_lr.secure_aggregation import AggregationClient, clients_of, job_context
from accord.components.sdk import ComponentContext, DataTable

MODULE = "HomoFeatureBinning"
Context = ComponentContext[HomoFeatureBinningParam]


def converge_tag(round_no: int) -> str:
    return f"converge.{round_no}"


def columns_of(params: HomoFeatureBinningParam, header: Sequence[str], component: str) -> Columns:
    """The binned and transformed columns, chosen exactly as HeteroFeatureBinning chooses them."""
    as_hetero = HeteroFeatureBinningParam(
        bin_indexes=params.bin_indexes,
        bin_names=params.bin_names,
        transform_param=params.transform_param,
    )
    return choose_columns(as_hetero, header, component)


class Client:
    def __init__(self, ctx: Context, data: DataTable) -> None:
        self.ctx = ctx
        self.data = data
        self.params = ctx.params
        self.columns = columns_of(ctx.params, data.header, ctx.component)
        clients = clients_of(ctx.plan.roles)
        context = job_context(ctx.job_id, ctx.component, ctx.task.task_version)
        self.aggregator = AggregationClient(ctx.transfer, clients, context)

    def _global_ranks(self, queries: Sequence[np.ndarray], name: str) -> list[np.ndarray]:
        local = ranks.local_ranks(self.data, self.columns.bin_cols, queries)
        flat = np.concatenate([np.asarray(r, dtype=np.float64) for r in local]) if local else np.zeros(0)
        self.aggregator.send(flat, name, fraction_bits=0)
        total = np.rint(np.asarray(self.aggregator.receive(name), dtype=np.float64))
        cuts = np.cumsum([len(q) for q in queries])[:-1]
        return list(np.split(total, cuts)) if queries else []

    def fit(self) -> dict[str, Any]:
        ctx, params, columns = self.ctx, self.params, self.columns
        names = columns.names(columns.bin_cols)
        stats = ranks.column_stats(self.data, columns.bin_cols)
        count = self.data.table.count()
        reply = self.aggregator.setup(
            {
                "header": list(columns.header),
                "bin_names": names,
                "min": [float(v) for v in stats[1]],
                "max": [float(v) for v in stats[2]],
            }
        )
        raise_problem(reply)
        low, high = reply["min"], reply["max"]
        self.aggregator.send(np.concatenate([[count], count - stats[0]]), "counts", fraction_bits=0)
        totals = np.rint(np.asarray(self.aggregator.receive("counts"), dtype=np.float64)).astype(np.int64)
        total, present = int(totals[0]), [int(totals[0] - m) for m in totals[1:]]
        if params.method == "virtual_summary":
            queries = [query.virtual_queries(low[k], high[k], params.sample_bins) for k in range(len(names))]
            found = self._global_ranks(queries, "ranks")
            points = [
                query.virtual_split_points(q, r, params.bin_num, present[k])
                for k, (q, r) in enumerate(zip(queries, found, strict=True))
            ]
            rounds = 1
        else:
            points, rounds = self._recursive(low, high, total, present)
        split_points = dict(zip(names, points, strict=True))
        ctx.log.info(
            "%s: %s over %d rows of every client, %d round(s) of ranks",
            ctx.component,
            params.method,
            total,
            rounds,
        )
        return self._model(split_points, total)

    def _recursive(
        self, low: Sequence[float], high: Sequence[float], total: int, present: Sequence[int]
    ) -> tuple[list[list[float]], int]:
        params = self.params
        nodes = [query.Nodes.start(low[k], high[k], params.bin_num, present[k]) for k in range(len(present))]
        allowed = math.ceil(params.error * total)
        found = self._global_ranks([n.value.copy() for n in nodes], "ranks.-1")
        first = self.aggregator.position == 0
        rounds = 1
        for round_no in range(params.max_iter):
            self.ctx.check_cancelled()
            for node, global_rank in zip(nodes, found, strict=True):
                node.update(global_rank, allowed)
            done = all(node.done for node in nodes)
            if first:
                # As in FATE, the first client tells the arbiter whether to run another round.
                self.ctx.transfer.remote(done, role="arbiter", tag=converge_tag(round_no), index=0)
            if done:
                break
            found = self._global_ranks([n.value.copy() for n in nodes], f"ranks.{round_no}")
            rounds += 1
            self.ctx.progress(round_no + 1, params.max_iter)
        return [node.split_points() for node in nodes], rounds

    def _model(self, split_points: dict[str, list[float]], total: int) -> dict[str, Any]:
        params, columns = self.params, self.columns
        names = list(split_points)
        results: dict[str, Any] = {}
        if not params.skip_static:
            counts = ranks.rows_per_bin(self.data, columns.bin_cols, [split_points[n] for n in names])
            results = {
                name: counts_only(c, split_points[name]) for name, c in zip(names, counts, strict=True)
            }
        return {
            "module": MODULE,
            "method": params.method,
            "header": list(columns.header),
            "bin_cols": names,
            "category_cols": [],
            "labels": None,
            "results": results,
            "split_points": split_points,
            "transform": {
                "transform_type": params.transform_param.transform_type,
                "transform_cols": columns.names(columns.transform_cols),
            },
            "total_count": total,
            "skip_static": params.skip_static,
            "need_run": params.need_run,
            "adjustment_factor": params.adjustment_factor,
        }
