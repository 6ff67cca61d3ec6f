"""The Intersection component: the rows whose ids every party holds, found without showing ids.

Protocols: rsa (rsa_protocol.py), raw (raw.py), dh and ecdh (commutative_protocol.py over the ciphers of
commutative.py), and ``cardinality_only`` with ``cardinality_method`` rsa, dh or ecdh, where only the
size of the intersection is learned (the guest's; the hosts' too with ``sync_cardinality``) and, as in
FATE, no party outputs rows. With rsa the count is exact: FATE 1.11 estimates it through a Bloom filter
of the host's signatures, which can only over-count. ``run_preprocess`` first thins the ids through the
filter owner's Bloom filter (preprocess.py); the intersection found is the same. ``run_cache`` runs
the first half of the protocol and keeps the host's encrypted ids; an Intersection given that cache
runs the second half alone (cached.py).

Contract with the components downstream (HeteroLR, HeteroFeatureBinning and others pair rows by
position): every party that outputs lists its own rows whose ids are in the intersection, and

- every party lists the same ids in the same order, ascending order of the id string;
- every party's output has the same partitions, and the same rows in each, so row i of partition p
  is the same id on every party: the rows are cut by rank into ``p`` partitions of near-equal size
  (partition k holds ranks ``k*n//p`` up to ``(k+1)*n//p``), ``p`` being the number of rows over
  output.MIN_PARTITION_ROWS, rounded up, but at most the limit the guest sends every host (the most
  partitions of any party's input, or the guest's computing_partitions if more), and at least one.

A downstream component may therefore exchange per-row values with its peers partition for partition
(partition i of one party matches partition i of another, row for row). The tests check it
(tests/components/test_intersection_blocks.py: equal sid columns per partition on every party).

With ``only_output_key`` the output keeps the ids alone (no features, no label, an empty header).

Everything runs on block tables (accord.computing), a partition at a time: ids are hashed, blinded
and signed partition by partition on the engine, cross to the peer a partition at a time, and are
compared partition for partition (keyed.py and the protocol modules); the output is cut by rank
(output.py). No process holds a whole table.

A party that is not told the intersection (a host when ``sync_intersect_ids`` is false) writes no data
output, as in FATE; its summary then reports ``intersect_num`` -1. An empty intersection is not an
error: the output is empty, as in FATE, and a warning is logged.

Before the protocol, guest and hosts compare the settings both sides must share (method, hashes, salt,
sync); a difference stops every party with a ComponentParameterError naming the field.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import pyarrow as pa

from accord.components.intersection import commutative_protocol, raw, rsa_protocol
from accord.components.intersection.agreement import Plan, agree, protocol_settings
from accord.components.intersection.cached import make_cache, use_cache
from accord.components.intersection.commutative import Cipher, DhCipher, EcdhCipher
from accord.components.intersection.hashing import digest_size
from accord.components.intersection.keyed import Env, check_ids, id_table, raw_key_table
from accord.components.intersection.link import Link
from accord.components.intersection.output import output_partitions, output_rows, survey
from accord.components.intersection.params import IntersectionParams, require_supported
from accord.components.intersection.preprocess import thin_ids
from accord.components.sdk import ComponentBase, ComponentContext, DataTable
from accord.components.sdk.dataset import SID
from accord.computing import Block, BlockTable
from accord.computing.block import require_batch
from accord.errors import ArgumentError, ComponentParameterError, DataFormatError

Context = ComponentContext[IntersectionParams]

METRIC_NAMESPACE = "train"
METRIC_NAME = "intersection"
METRIC_TYPE = "INTERSECTION"

__all__ = ["Intersection", "protocol_settings", "run_intersection"]


class Intersection(ComponentBase[IntersectionParams]):
    params = IntersectionParams

    def check_supported(self, params: IntersectionParams, component: str) -> None:
        require_supported(params, component=component)

    def fit(self, ctx: Context) -> None:
        run_intersection(ctx)

    def predict(self, ctx: Context) -> None:
        # In a predict job the component intersects the new data exactly as in training; it has no model.
        run_intersection(ctx)


# The column DataTransform writes a row's match id into (with_match_id).
MATCH_ID = "match_id"


def run_intersection(ctx: Context) -> None:
    params = ctx.params
    cache = ctx.input_cache()
    if cache is not None and (params.run_cache or params.cardinality_only):
        raise ComponentParameterError(
            f"{ctx.component} (Intersection) has a cache input and "
            f"{'run_cache' if params.run_cache else 'cardinality_only'} true; a cache is used by an "
            "intersection that outputs rows",
            hint="set run_cache and cardinality_only false, or remove the cache input",
            component=ctx.component,
        )
    data = _input(ctx)
    env = Env(ctx.engine, partitions=1)
    try:
        ids = env.keep(id_table(data.table))
        total = _require_unique(ctx, ids)
        peers = _peers(ctx)
        plan = agree(
            component=ctx.component,
            role=ctx.role,
            party_id=ctx.party_id,
            peers=peers,
            settings=protocol_settings(params),
            input_partitions=ids.partitions,
            engine_partitions=env.engine.partitions,
        )
        env.partitions = plan.partitions
        ctx.log.info(
            "%s: %s intersection of %d ids (%d partitions) on %s %s with %d peer(s)",
            ctx.component, params.intersect_method, total, ids.partitions, ctx.role, ctx.party_id, len(peers),
        )  # fmt: skip
        if params.run_preprocess:
            ids = _thinned(ctx, env, peers, ids, total)
        if params.run_cache:
            make_cache(ctx, env, peers, ids, _cipher_maker(params))
            _finish_cache(ctx, total)
        elif params.cardinality_only:
            _finish_cardinality(ctx, total, _run_cardinality(ctx, env, peers, ids))
        else:
            if cache is None:
                found = _run_protocol(ctx, env, peers, ids)
            else:
                ctx.log.info("%s: the intersection reuses %s", ctx.component, cache.source)
                found = use_cache(ctx, env, peers, ids, cache, _cipher_maker(params))
            _finish(ctx, env, data, total, found, plan)
    finally:
        env.release()


def _thinned(ctx: Context, env: Env, peers: list[Link], ids: BlockTable, total: int) -> BlockTable:
    preprocess = ctx.params.intersect_preprocess_params
    thinned, filters = thin_ids(env, ctx.role, peers, ids, total, preprocess)
    if filters:
        ctx.log.info(
            "%s: %d of %d ids pass the %s's Bloom filter (false positive rate %s) into the protocol",
            ctx.component, thinned.count(), total, preprocess.filter_owner, preprocess.false_positive_rate,
        )  # fmt: skip
    else:
        ctx.log.info("%s: sent a Bloom filter of %d ids to %d peer(s)", ctx.component, total, len(peers))
    return thinned


def _input(ctx: Context) -> DataTable:
    data = ctx.input_table("data")
    if data is None:
        raise DataFormatError(
            f"{ctx.component} (Intersection) has no data input on {ctx.role} {ctx.party_id}",
            hint=f'give {ctx.component} a data input in the DSL, e.g. {{"data": ["data_transform_0.data"]}}',
        )
    if data.kind != "instances":
        raise DataFormatError(
            f"{ctx.component} (Intersection) needs instances but got {data.kind} rows on {ctx.role} "
            f"{ctx.party_id}",
            hint="put a DataTransform between Reader and Intersection",
        )
    if data.extra.get("match_id_name"):
        # FATE intersects rows read with_match_id by their match id (the sid is then often a generated
        # one, different on every party). Here the match id becomes the row's id for the intersection
        # and after it, so every party's output still lists the same ids (FATE re-keys the hosts' rows
        # by the guest's sid instead).
        return data.with_table(data.table.map_partitions_with_index(_match_id_as_sid))
    return data


def _match_id_as_sid(index: int, block: Block) -> Block:
    batch = require_batch(block, "intersection")
    if MATCH_ID not in batch.schema.names:
        return batch
    position = batch.schema.get_field_index(SID)
    return batch.set_column(position, SID, batch.column(MATCH_ID).cast(pa.string()))


def _require_unique(ctx: Context, ids: BlockTable) -> int:
    """How many ids this party has; refused if any repeats."""
    check = check_ids(ids)
    if check.repeated:
        shown = ", ".join(repr(sid) for sid in check.shown)
        raise DataFormatError(
            f"{ctx.component} (Intersection) input on {ctx.role} {ctx.party_id} repeats {check.repeated} "
            f"id(s): {shown}{', ...' if check.repeated > len(check.shown) else ''}",
            hint="ids must be unique within a party's table; remove the repeated rows before uploading",
        )
    return check.rows


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


# ---- running the protocol and writing the result --------------------------------------------------


def _run_protocol(ctx: Context, env: Env, peers: list[Link], ids: BlockTable) -> BlockTable | None:
    """The key table of this party's ids in the intersection; None when it is not told."""
    params = ctx.params
    sync = params.sync_intersect_ids
    if params.intersect_method == "raw":
        raw_params = params.raw
        keys = raw_key_table(
            env,
            ids,
            use_hash=raw_params.use_hash,
            method=raw_params.hash_method,
            salt=raw_params.salt,
            base64=raw_params.base64,
        )
        links = [link.under("raw") for link in peers]
        if ctx.role == "guest":
            return raw.guest_raw(env, links, keys, raw_params.join_role, sync)
        return raw.host_raw(env, links[0], keys, raw_params.join_role, sync, len(ctx.party_ids("host")))
    if params.intersect_method in ("dh", "ecdh"):
        make_cipher = _cipher_maker(params)
        links = [link.under(params.intersect_method) for link in peers]
        if ctx.role == "guest":
            return commutative_protocol.guest_intersect(env, links, ids, make_cipher, sync)
        return commutative_protocol.host_intersect(env, links[0], ids, make_cipher(), sync)
    rsa = params.rsa
    settings = rsa_protocol.RsaSettings.of(rsa, digest_size(rsa.final_hash_method))
    links = [link.under("rsa") for link in peers]
    if ctx.role == "guest":
        run_guest = rsa_protocol.guest_split if rsa.split_calculation else rsa_protocol.guest_unified
        return run_guest(env, links, ids, settings, sync)
    run_host = rsa_protocol.host_split if rsa.split_calculation else rsa_protocol.host_unified
    return run_host(env, links[0], ids, settings, sync)


def _cipher_maker(params: IntersectionParams) -> Callable[[], Cipher]:
    """Makes a fresh key of the DH or ECDH cipher that ``params`` ask for."""
    if params.protocol == "dh":
        dh = params.dh_params
        return functools.partial(DhCipher.generate, dh.key_length, dh.hash_method, dh.salt)
    ecdh = params.ecdh_params
    return functools.partial(EcdhCipher.generate, ecdh.hash_method, ecdh.salt)


def _run_cardinality(ctx: Context, env: Env, peers: list[Link], ids: BlockTable) -> int | None:
    """The size of the intersection (FATE's exact cardinality); None for a host that is not told."""
    params = ctx.params
    links = [link.under(f"cardinality.{params.protocol}") for link in peers]
    if params.protocol == "rsa":
        return _rsa_cardinality(ctx, env, links, ids)
    cipher = _cipher_maker(params)()
    if ctx.role == "guest":
        return commutative_protocol.guest_cardinality(env, links, ids, cipher, params.sync_cardinality)
    return commutative_protocol.host_cardinality(
        env,
        links[0],
        ids,
        cipher,
        host_index=ctx.party_index,
        host_count=len(ctx.party_ids("host")),
        sync_cardinality=params.sync_cardinality,
    )


def _rsa_cardinality(ctx: Context, env: Env, links: list[Link], ids: BlockTable) -> int | None:
    """The unified RSA protocol, no party told the ids; the guest counts and, if asked, tells the hosts."""
    rsa = ctx.params.rsa
    settings = rsa_protocol.RsaSettings.of(rsa, digest_size(rsa.final_hash_method))
    sync_cardinality = ctx.params.sync_cardinality
    if ctx.role == "guest":
        count = rsa_protocol.guest_unified(env, links, ids, settings, sync=False).count()
        if sync_cardinality:
            for link in links:
                link.send("cardinality", count)
        return count
    rsa_protocol.host_unified(env, links[0], ids, settings, sync=False)
    if not sync_cardinality:
        return None
    count = links[0].receive("cardinality")
    if isinstance(count, bool) or not isinstance(count, int) or count < 0:
        raise DataFormatError(f"the guest sent the cardinality as {count!r}, which is not a count")
    return count


def _finish_cache(ctx: Context, total: int) -> None:
    # As FATE: a run_cache intersection outputs its cache and no rows.
    ctx.log.info(
        "%s: cached the encrypted ids of %d ids on %s %s; no data output",
        ctx.component, total, ctx.role, ctx.party_id,
    )  # fmt: skip
    ctx.tracker.set_summary({"intersect_num": -1, "cache": True, "unique_id_num": total})


def _finish_cardinality(ctx: Context, total: int, count: int | None) -> None:
    # As FATE: cardinality_only outputs no rows; a host not told the count reports -1.
    rate = -1.0 if count is None else (count / total if total else 0.0)
    shown = -1 if count is None else count
    ctx.log.info(
        "%s: cardinality only on %s %s: %s of %d ids are in the intersection; no data output",
        ctx.component, ctx.role, ctx.party_id, "unknown" if count is None else count, total,
    )  # fmt: skip
    ctx.tracker.set_summary(
        {"intersect_num": shown, "intersect_rate": rate, "cardinality_only": True, "unique_id_num": total}
    )
    _log_metric(ctx, shown, total, rate)


def _finish(
    ctx: Context, env: Env, data: DataTable, total: int, found: BlockTable | None, plan: Plan
) -> None:
    params = ctx.params
    if found is None:
        # FATE's values for a party that is not told the intersection.
        count, rate = -1, -1.0
        ctx.log.info(
            "%s: %s %s is not told the intersection (sync_intersect_ids is false) and outputs no data",
            ctx.component, ctx.role, ctx.party_id,
        )  # fmt: skip
    else:
        found = env.keep(found)
        surveyed = survey(found)
        count = surveyed.rows
        partitions = output_partitions(count, plan.limit)
        ctx.save_table(output_rows(env, data, found, surveyed, partitions, keys_only=params.only_output_key))
        rate = count / total if total else 0.0
        if not count:
            ctx.log.warning("%s: the intersection is empty; the output has no rows", ctx.component)
        ctx.log.info(
            "%s: %d of %d ids are in the intersection, output in %d partition(s)",
            ctx.component, count, total, partitions,
        )  # fmt: skip
    ctx.tracker.set_summary(
        {"intersect_num": count, "intersect_rate": rate, "cardinality_only": False, "unique_id_num": total}
    )
    _log_metric(ctx, count, total, rate)


def _log_metric(ctx: Context, count: int, total: int, rate: float) -> None:
    params = ctx.params
    unknown = count < 0
    unmatched, unmatched_rate = (-1, -1.0) if unknown else (total - count, 1.0 - rate)
    ctx.tracker.log_metric(
        METRIC_NAMESPACE,
        METRIC_NAME,
        [
            ["intersect_count", count],
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
