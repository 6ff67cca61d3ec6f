"""The arbiter's side of HomoFeatureBinning: it checks the clients agree, takes the global ranges,
sums their masked counts and ranks, and, for recursive_query, runs as many rounds as the first
client asks. It sees the column names, each client's min and max per column (as in FATE) and the
sums, never a row.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from accord.components.feature.homo_binning.client import converge_tag
from accord.components.feature.homo_binning.params import HomoFeatureBinningParam
from accord.components.homo_lr.client import raise_problem
from accord.components.homo_lr.secure_aggregation import AggregationServer, clients_of
from accord.components.sdk import ComponentContext


def check_clients(setups: Sequence[dict[str, Any]], component: str) -> dict[str, Any] | None:
    headers = {tuple(setup["header"]) for setup in setups}
    names = {tuple(setup["bin_names"]) for setup in setups}
    if len(headers) > 1 or len(names) > 1:
        return {
            "error": "mismatch",
            "problem": f"{component}: the clients' headers or binned columns differ; HomoFeatureBinning "
            "bins the same features, in the same order, on every guest and host",
            "hint": "give every client the same header and the same bin_indexes / bin_names",
        }
    return None


def fit(ctx: ComponentContext[HomoFeatureBinningParam]) -> dict[str, Any]:
    params = ctx.params
    clients = clients_of(ctx.plan.roles)
    server = AggregationServer(ctx.transfer, clients)
    setups = server.collect_setup()
    problem = check_clients(setups, ctx.component)
    if problem is None:
        with np.errstate(invalid="ignore"):
            low = np.fmin.reduce(np.asarray([s["min"] for s in setups], dtype=np.float64), axis=0)
            high = np.fmax.reduce(np.asarray([s["max"] for s in setups], dtype=np.float64), axis=0)
        reply: dict[str, Any] = {"min": [float(v) for v in low], "max": [float(v) for v in high]}
    server.answer_setup(setups, problem or reply)
    if problem is not None:
        raise_problem(problem)
    totals = server.collect_sum("counts", fraction_bits=0)
    server.send_result(totals, "counts")
    if params.method == "virtual_summary":
        server.send_result(server.collect_sum("ranks", fraction_bits=0), "ranks")
        return {"method": params.method, "rounds": 1, "total_count": round(float(totals[0]))}
    server.send_result(server.collect_sum("ranks.-1", fraction_bits=0), "ranks.-1")
    first = clients[0]
    rounds = 1
    for round_no in range(params.max_iter):
        ctx.check_cancelled()
        done = bool(ctx.transfer.get(role=first.role, tag=converge_tag(round_no), index=0))
        if done:
            break
        name = f"ranks.{round_no}"
        server.send_result(server.collect_sum(name, fraction_bits=0), name)
        rounds += 1
    ctx.log.info("%s: recursive query ran %d round(s)", ctx.component, rounds)
    return {"method": params.method, "rounds": rounds, "total_count": round(float(totals[0]))}
