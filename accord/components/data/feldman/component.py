"""The FeldmanVerifiableSum component (FATE 1.11's feldman_verifiable_sum): guest and hosts.

Every party (the n - 1 hosts at x = 1..n-1 in the order of the job's host list, the guest at x = n)
splits each chosen value of each of its rows into n Feldman shares, computed on the engine partition
by partition. It sends party x its shares at x with all its commitments; each party checks every share
it gets against the sender's commitments (a tampered share fails the task with code 10402, naming the
sender and the row), adds the shares of the rows every party has, and the hosts send those sums to the
guest. The guest checks each host's sums against the product of all commitments and interpolates the
per-row totals. Only the guest has an output: its rows (ids every party has) with the summed columns,
header the chosen columns' names, as FATE's. Raw ids cross between parties as in FATE (its tables
are joined by id); values never do.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from accord.components.data.feldman import vss
from accord.components.data.feldman.params import FeldmanVerifiableSumParam
from accord.components.sdk import ComponentBase, ComponentContext, Dataset, DataTable
from accord.components.sdk.dataset import FEATURES, SID
from accord.computing import Block
from accord.errors import DataFormatError, OperatingError, TransferError

Context = ComponentContext[FeldmanVerifiableSumParam]
SHARE_TAG = "feldman.share"
SUM_TAG = "feldman.sum"

Chunk = tuple[list[str], list[int], list[int]]


@dataclass(frozen=True)
class Shared:
    """One party's rows as shared: ids, shares (row, column, x) and commitments (row, column, k)."""

    ids: list[str]
    shares: list[int]
    commitments: list[int]


class FeldmanVerifiableSum(ComponentBase[FeldmanVerifiableSumParam]):
    params = FeldmanVerifiableSumParam

    def fit(self, ctx: Context) -> None:
        data = _input(ctx)
        columns = chosen_columns(data, ctx.params.sum_cols, ctx.component)
        width = len(columns)
        hosts = ctx.party_ids("host")
        n = len(hosts) + 1
        here = n if ctx.role == "guest" else ctx.party_index + 1
        parts: list[Chunk] = data.table.aggregate(
            [], functools.partial(share_block, [i for i, _ in columns], ctx.params.q_n, n), _concat
        )
        mine = Shared(
            [sid for ids, _, _ in parts for sid in ids],
            [s for _, shares, _ in parts for s in shares],
            [c for _, _, commits in parts for c in commits],
        )
        peers = [("host", i, i + 1) for i in range(len(hosts))] + [("guest", 0, n)]
        peers = [peer for peer in peers if peer[2] != here]
        for role, index, x in peers:
            ctx.transfer.remote(
                {
                    "ids": mine.ids,
                    "width": width,
                    "shares": mine.shares[x - 1 :: n],
                    "commitments": mine.commitments,
                },
                role=role,
                tag=SHARE_TAG,
                index=index,
            )
        received = {}
        for role, index, _ in peers:
            sent = ctx.transfer.get(role=role, tag=SHARE_TAG, index=index)
            who = f"{role} {ctx.party_ids(role)[index]}"
            received[who] = checked_shares(sent, width, n, here, who, ctx.component)
        ctx.log.info("%s: shares from %d parties verified", ctx.component, len(received))
        common = _common(mine.ids, [ids for ids, _, _ in received.values()])
        sums = summed_shares(
            mine, [(ids, shares) for ids, shares, _ in received.values()], common, width, n, here
        )
        if ctx.role == "host":
            ctx.transfer.remote({"ids": common, "sums": sums}, role="guest", tag=SUM_TAG, index=0)
            ctx.log.info("%s: sums of %d rows sent to the guest", ctx.component, len(common))
            return
        commitments = [(mine.ids, mine.commitments)] + [(ids, c) for ids, _, c in received.values()]
        totals = reconstruct(ctx, common, sums, commitments, width, n)
        names = [name for _, name in columns]
        ctx.save_data(Dataset.instances(totals[0], totals[1], header=names, sid_name=data.sid_name))
        ctx.tracker.set_summary({"rows": len(totals[0]), "sum_cols": names, "parties": n})
        ctx.log.info("%s: %d rows summed over %d parties", ctx.component, len(totals[0]), n)


def chosen_columns(data: DataTable, sum_cols: Sequence[int] | None, component: str) -> list[tuple[int, str]]:
    header = list(data.header)
    if not sum_cols:
        return list(enumerate(header))
    outside = [i for i in sum_cols if not 0 <= i < len(header)]
    if outside:
        raise DataFormatError(
            f"{component}: sum_cols {outside} are outside this party's {len(header)} columns",
            hint=f"use column indexes from 0 to {len(header) - 1}",
        )
    # FATE keeps the header's order whatever the order of sum_cols.
    return [(i, name) for i, name in enumerate(header) if i in set(sum_cols)]


def share_block(columns: list[int], q_n: int, n: int, block: Block) -> list[Chunk]:
    """This partition's rows shared among n parties (runs on the engine)."""
    if isinstance(block, bytes):
        raise DataFormatError("a table of rows holds a blob partition")
    ids = [str(sid) for sid in block.column(SID).to_pylist()]
    if not ids:
        return []
    width = block.schema.field(FEATURES).type.list_size
    column: Any = block.column(FEATURES)
    flat = np.asarray(column.flatten().to_numpy(zero_copy_only=False), dtype=np.float64)
    matrix = flat.reshape(len(ids), width)[:, columns]
    if np.isnan(matrix).any():
        raise DataFormatError(
            "FeldmanVerifiableSum cannot sum a missing value",
            hint="fill it first (DataTransform missing_fill)",
        )
    secrets_ = [vss.encode(value, q_n) for value in matrix.reshape(-1)]
    shares, commitments = vss.share(secrets_, n)
    return [(ids, shares, commitments)]


def _concat(left: list[Chunk], right: list[Chunk]) -> list[Chunk]:
    return left + right


def checked_shares(
    sent: Any, width: int, n: int, x: int, who: str, component: str
) -> tuple[list[str], list[int], list[int]]:
    """A peer's shares at ``x`` after checking each against the peer's commitments."""
    try:
        ids = [str(sid) for sid in sent["ids"]]
        shares, commitments = list(sent["shares"]), list(sent["commitments"])
        their_width = int(sent["width"])
    except (TypeError, KeyError) as error:
        raise TransferError(f"{component}: {who} sent shares in an unknown form ({error})") from None
    if their_width != width:
        raise DataFormatError(
            f"{component}: {who} sums {their_width} columns and this party {width}",
            hint="give every party sum_cols naming the same number of columns",
        )
    if len(shares) != len(ids) * width or len(commitments) != len(shares) * n:
        raise TransferError(f"{component}: {who} sent {len(shares)} shares for {len(ids)} rows")
    bad = vss.bad_shares(shares, commitments, x, n)
    if bad:
        raise TransferError(
            f"{component}: {who} sent {len(bad)} shares that do not match its Feldman commitments "
            f"(first at row {ids[bad[0] // width]!r}); the sum is refused",
            hint="a party's shares were altered on the way or by the party; rerun, and check that party",
        )
    return ids, shares, commitments


def _common(mine: Sequence[str], others: Sequence[Sequence[str]]) -> list[str]:
    """This party's ids that every other party has, in this party's order."""
    keep = set(mine)
    for ids in others:
        keep &= set(ids)
    return [sid for sid in mine if sid in keep]


def _rows(ids: Sequence[str]) -> dict[str, int]:
    return {sid: row for row, sid in enumerate(ids)}


def summed_shares(
    mine: Shared,
    received: Sequence[tuple[list[str], list[int]]],
    common: Sequence[str],
    width: int,
    n: int,
    x: int,
) -> list[int]:
    """This party's share at ``x`` of each (row, column) total, rows in ``common`` order."""
    own = _rows(mine.ids)
    sums = [mine.shares[(own[sid] * width + col) * n + x - 1] for sid in common for col in range(width)]
    for ids, shares in received:
        rows = _rows(ids)
        at = [rows[sid] * width + col for sid in common for col in range(width)]
        sums = [(total + shares[i]) % vss.Q for total, i in zip(sums, at, strict=True)]
    return sums


def _aligned_commitments(
    commitments: Sequence[tuple[Sequence[str], Sequence[int]]], common: Sequence[str], width: int, n: int
) -> list[int]:
    """The summed polynomials' commitments (row, column, k) for ``common``."""
    per_party = []
    for ids, values in commitments:
        rows = _rows(ids)
        per_party.append(
            [
                values[(rows[sid] * width + col) * n + k]
                for sid in common
                for col in range(width)
                for k in range(n)
            ]
        )
    return vss.combine_commitments(per_party)


def reconstruct(
    ctx: Context,
    mine: list[str],
    sums: list[int],
    commitments: Sequence[tuple[Sequence[str], Sequence[int]]],
    width: int,
    n: int,
) -> tuple[list[str], np.ndarray]:
    """The guest's totals: every host's verified sums and its own, interpolated at 0."""
    hosts = ctx.party_ids("host")
    got: list[tuple[list[str], list[int]]] = []
    for index, party in enumerate(hosts):
        sent = ctx.transfer.get(role="host", tag=SUM_TAG, index=index)
        try:
            got.append(([str(sid) for sid in sent["ids"]], list(sent["sums"])))
        except (TypeError, KeyError) as error:
            raise TransferError(
                f"{ctx.component}: host {party} sent sums in an unknown form ({error})"
            ) from None
    common = _common(mine, [ids for ids, _ in got])
    combined = _aligned_commitments(commitments, common, width, n)
    points: list[list[int]] = []
    for index, (ids, values) in enumerate(got):
        rows = _rows(ids)
        aligned = [values[rows[sid] * width + col] for sid in common for col in range(width)]
        bad = vss.bad_shares(aligned, combined, index + 1, n)
        if bad:
            raise TransferError(
                f"{ctx.component}: host {hosts[index]} sent {len(bad)} sums that do not match the parties' "
                f"commitments (first at row {common[bad[0] // width]!r}); the sum is refused",
                hint="a host's sums were altered on the way or by the host; rerun, and check that host",
            )
        points.append(aligned)
    own = _rows(mine)
    points.append([sums[own[sid] * width + col] for sid in common for col in range(width)])
    weights = vss.lagrange_at_zero(n)
    totals = [
        vss.decode(
            sum(w * column[i] for w, column in zip(weights, points, strict=True)) % vss.Q, ctx.params.q_n
        )
        for i in range(len(common) * width)
    ]
    return common, np.asarray(totals, dtype=np.float64).reshape(len(common), width)


def _input(ctx: Context) -> DataTable:
    data = ctx.input_table("data")
    if data is None:
        raise OperatingError(
            f"{ctx.component} has no input data",
            hint='give it one: "input": {"data": {"data": ["data_transform_0.data"]}}',
        )
    if data.kind != "instances":
        raise DataFormatError(
            f"{ctx.component} needs parsed rows", hint="put a DataTransform between Reader and it"
        )
    return data
