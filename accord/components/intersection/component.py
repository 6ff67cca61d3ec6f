"""The Intersection component: the rows whose ids every party holds, found without showing ids (rsa).

Each party outputs its own rows whose ids are in the intersection, in ascending order of the id string,
so that guest and hosts list the same ids in the same order (HeteroLR pairs rows by position). With
``only_output_key`` the output keeps the ids alone (no features, no label, an empty header).

A party that is not told the intersection (a host when ``sync_intersect_ids`` is false) writes no data
output, as in FATE; its summary then reports ``intersect_num`` -1. An empty intersection is not an
error: the output is empty, as in FATE, and a warning is logged.

Before the protocol, guest and hosts compare the settings both sides must share (method, hashes, salt,
sync); a difference stops every party with a ComponentParameterError naming the field.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from typing import Any

import pyarrow as pa

from accord.components.intersection import raw, rsa_protocol
from accord.components.intersection.hashing import digest_size, id_numbers, raw_keys
from accord.components.intersection.link import Link
from accord.components.intersection.params import IntersectionParams, require_supported
from accord.components.sdk import ComponentBase, ComponentContext, Dataset
from accord.components.sdk.dataset import FEATURES, SID
from accord.errors import ArgumentError, ComponentParameterError, DataFormatError, TransferError

Context = ComponentContext[IntersectionParams]

METRIC_NAMESPACE = "train"
METRIC_NAME = "intersection"
METRIC_TYPE = "INTERSECTION"


class Intersection(ComponentBase[IntersectionParams]):
    params = IntersectionParams

    def check_supported(self, params: IntersectionParams, component: str) -> None:
        require_supported(params, component=component)

    def fit(self, ctx: Context) -> None:
        run_intersection(ctx)

    def predict(self, ctx: Context) -> None:
        # In a predict job the component intersects the new data exactly as in training; it has no model.
        run_intersection(ctx)


def run_intersection(ctx: Context) -> None:
    params = ctx.params
    if ctx.inputs("cache"):
        raise ComponentParameterError(
            f"{ctx.component} (Intersection) has a cache input; intersecting with cached ids is not "
            "supported",
            hint="remove the cache input from the DSL and give the component its data",
            component=ctx.component,
        )
    dataset = _input(ctx)
    ids = [str(sid) for sid in dataset.ids()]
    _require_unique(ctx, ids)
    peers = _peers(ctx)
    _agree(ctx, peers, protocol_settings(params))
    ctx.log.info(
        "%s: %s intersection of %d ids on %s %s with %d peer(s)",
        ctx.component, params.intersect_method, len(ids), ctx.role, ctx.party_id, len(peers),
    )  # fmt: skip
    positions = _run_protocol(ctx, peers, ids)
    _finish(ctx, dataset, ids, positions)


def _input(ctx: Context) -> Dataset:
    dataset = ctx.input_dataset("data")
    if dataset is None:
        raise DataFormatError(
            f"{ctx.component} (Intersection) has no data input on {ctx.role} {ctx.party_id}",
            hint=f'give {ctx.component} a data input in the DSL, e.g. {{"data": ["data_transform_0.data"]}}',
        )
    if dataset.kind != "instances":
        raise DataFormatError(
            f"{ctx.component} (Intersection) needs instances but got {dataset.kind} rows on {ctx.role} "
            f"{ctx.party_id}",
            hint="put a DataTransform between Reader and Intersection",
        )
    return dataset


def _require_unique(ctx: Context, ids: list[str]) -> None:
    repeated = [sid for sid, count in Counter(ids).items() if count > 1]
    if repeated:
        shown = ", ".join(repr(sid) for sid in repeated[:5])
        raise DataFormatError(
            f"{ctx.component} (Intersection) input on {ctx.role} {ctx.party_id} repeats {len(repeated)} "
            f"id(s): {shown}{', ...' if len(repeated) > 5 else ''}",
            hint="ids must be unique within a party's table; remove the repeated rows before uploading",
        )


def _peers(ctx: Context) -> list[Link]:
    hosts = ctx.party_ids("host")
    if not hosts or not ctx.party_ids("guest"):
        raise ArgumentError(
            f"{ctx.component} (Intersection) needs a guest and at least one host; the job has "
            f"{len(ctx.party_ids('guest'))} guest(s) and {len(hosts)} host(s)",
            hint="list the parties in the conf's role section",
        )
    transfer = ctx.transfer
    if ctx.role == "guest":
        return [
            Link(transfer, "host", index, prefix="intersection", checkpoint=ctx.check_cancelled)
            for index in range(len(hosts))
        ]
    return [Link(transfer, "guest", 0, prefix="intersection", checkpoint=ctx.check_cancelled)]


# ---- agreeing on the shared settings --------------------------------------------------------------

_SECRET = "salt"


def protocol_settings(params: IntersectionParams) -> dict[str, Any]:
    """The settings every party of the intersection must share; salts only as their SHA-256."""
    settings: dict[str, Any] = {
        "intersect_method": params.intersect_method,
        "sync_intersect_ids": params.sync_intersect_ids,
    }
    if params.intersect_method == "rsa":
        rsa = params.rsa
        settings.update(
            {
                "rsa_params.hash_method": rsa.hash_method,
                "rsa_params.final_hash_method": rsa.final_hash_method,
                "rsa_params.split_calculation": rsa.split_calculation,
                "rsa_params.salt": hashlib.sha256(rsa.salt.encode()).hexdigest(),
            }
        )
    else:
        raw_params = params.raw
        hashed = raw_params.use_hash and raw_params.hash_method != "none"
        settings.update({"raw_params.join_role": raw_params.join_role, "raw_params.use_hash": hashed})
        if hashed:
            settings.update(
                {
                    "raw_params.hash_method": raw_params.hash_method,
                    "raw_params.base64": raw_params.base64,
                    "raw_params.salt": hashlib.sha256(raw_params.salt.encode()).hexdigest(),
                }
            )
    return settings


def _differences(guest: dict[str, Any], host: Any, host_id: int, guest_id: int) -> list[str]:
    if not isinstance(host, dict):
        raise TransferError(f"host {host_id} sent intersection settings that are not a mapping")
    problems = []
    for name in sorted(guest.keys() | host.keys()):
        mine, theirs = guest.get(name), host.get(name)
        if mine == theirs:
            continue
        if name.endswith(_SECRET) and mine is not None and theirs is not None:
            problems.append(f"{name} differs between guest {guest_id} and host {host_id}")
        else:
            problems.append(f"{name} is {mine!r} on guest {guest_id} but {theirs!r} on host {host_id}")
    return problems


def _agree(ctx: Context, peers: list[Link], settings: dict[str, Any]) -> None:
    if ctx.role == "guest":
        problems = []
        for link in peers:
            problems += _differences(settings, link.receive("settings"), link.party_id, ctx.party_id)
        for link in peers:
            link.send("verdict", problems)
    else:
        peers[0].send("settings", settings)
        problems = peers[0].receive("verdict")
        if not isinstance(problems, list) or not all(isinstance(p, str) for p in problems):
            raise TransferError("the guest sent an intersection verdict that is not a list of messages")
    if problems:
        raise ComponentParameterError(
            f"{ctx.component} (Intersection): the parties disagree: {'; '.join(problems)}",
            hint="set these fields in the common section of component_parameters so every party shares them",
            component=ctx.component,
        )


# ---- running the protocol and writing the result --------------------------------------------------


def _run_protocol(ctx: Context, peers: list[Link], ids: list[str]) -> set[int] | None:
    params = ctx.params
    sync = params.sync_intersect_ids
    if params.intersect_method == "raw":
        raw_params = params.raw
        keys = raw_keys(
            ids,
            use_hash=raw_params.use_hash,
            method=raw_params.hash_method,
            salt=raw_params.salt,
            as_base64=raw_params.base64,
        )
        links = [link.under("raw") for link in peers]
        if ctx.role == "guest":
            return raw.guest_raw(links, keys, raw_params.join_role, sync)
        return raw.host_raw(links[0], keys, raw_params.join_role, sync, len(ctx.party_ids("host")))
    rsa = params.rsa
    settings = rsa_protocol.RsaSettings.of(rsa, digest_size(rsa.final_hash_method))
    numbers = id_numbers(ids, rsa.hash_method, rsa.salt)
    links = [link.under("rsa") for link in peers]
    if ctx.role == "guest":
        run_guest = rsa_protocol.guest_split if rsa.split_calculation else rsa_protocol.guest_unified
        return run_guest(links, numbers, settings, sync)
    run_host = rsa_protocol.host_split if rsa.split_calculation else rsa_protocol.host_unified
    return run_host(links[0], numbers, settings, sync)


def _keys_only(dataset: Dataset, ids: list[str]) -> Dataset:
    # Arrow has no zero-width fixed-size list, so the empty feature rows are empty variable-size lists;
    # Dataset.features() reads them as an (n, 0) matrix all the same.
    table = pa.table(
        {
            SID: pa.array(ids, type=pa.string()),
            FEATURES: pa.array([[] for _ in ids], type=pa.list_(pa.float64())),
        }
    )
    return Dataset(table, "instances", header=(), sid_name=dataset.sid_name, extra=dataset.extra)


def _finish(ctx: Context, dataset: Dataset, ids: list[str], positions: set[int] | None) -> None:
    params = ctx.params
    total = len(ids)
    if positions is None:
        # FATE's values for a party that is not told the intersection.
        found, rate, unmatched, unmatched_rate = -1, -1.0, -1, -1.0
        ctx.log.info(
            "%s: %s %s is not told the intersection (sync_intersect_ids is false) and outputs no data",
            ctx.component, ctx.role, ctx.party_id,
        )  # fmt: skip
    else:
        rows = sorted(positions, key=ids.__getitem__)
        output = (
            _keys_only(dataset, [ids[row] for row in rows]) if params.only_output_key else dataset.take(rows)
        )
        ctx.save_data(output)
        found = len(rows)
        rate = found / total if total else 0.0
        unmatched, unmatched_rate = total - found, 1.0 - rate
        if not found:
            ctx.log.warning("%s: the intersection is empty; the output has no rows", ctx.component)
        ctx.log.info("%s: %d of %d ids are in the intersection", ctx.component, found, total)
    ctx.tracker.set_summary(
        {"intersect_num": found, "intersect_rate": rate, "cardinality_only": False, "unique_id_num": total}
    )
    ctx.tracker.log_metric(
        METRIC_NAMESPACE,
        METRIC_NAME,
        [
            ["intersect_count", found],
            ["input_match_id_count", total],
            ["intersect_rate", rate],
            ["unmatched_count", unmatched],
            ["unmatched_rate", unmatched_rate],
        ],
        metric_type=METRIC_TYPE,
        meta={
            "name": METRIC_NAME,
            "metric_type": METRIC_TYPE,
            "intersect_method": params.intersect_method,
            "join_method": params.join_method,
        },
    )
