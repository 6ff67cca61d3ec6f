"""``run_cache`` and a ``cache`` input: the host's encrypted ids computed once, reused by a later run.

With ``run_cache`` the parties run the first half of the protocol only and keep what it made in the
component's cache output (sdk/cache.py, 0600 on each party's disk):

- rsa: the host keeps its key and its signed ids; the guest keeps the host's public key and the
  host's signed ids (as digests), which the protocol gives it anyway;
- dh / ecdh: the host keeps its key and ``E_h(y)`` of its ids; the guest keeps its own key for that
  host and ``E_g(E_h(y))``, which the protocol computes anyway.

An Intersection given that cache then runs the second half alone: the guest's ids go to the host and
back and are compared with the cached values, so the host never encrypts its whole table again. The
cache describes the host's ids when it was made: a host whose ids changed since (an order-free
fingerprint of them is kept) tells the guest, and both stop with a DataMismatchError.
The run that uses the cache takes the cipher settings (hashes, salt, key length) the cache was made
with, as in FATE, where it need not repeat them; setting them otherwise, or another method, is refused
by name. ``sync_intersect_ids`` may differ (FATE's example syncs only in the first run).
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable
from typing import Any

import pyarrow as pa
from pydantic import BaseModel

from accord.components.intersection import commutative_protocol, rsa_protocol
from accord.components.intersection.commutative import Cipher, cipher_from_secret
from accord.components.intersection.hashing import digest_size, unpack
from accord.components.intersection.keyed import Env
from accord.components.intersection.link import Link
from accord.components.intersection.params import IntersectionParams
from accord.components.intersection.rsa import PrivateKey, PublicKey
from accord.components.sdk import ComponentContext
from accord.components.sdk.cache import Cache
from accord.computing import Block, BlockTable
from accord.computing.block import SID, require_batch
from accord.errors import ComponentParameterError, DataFormatError, DataMismatchError

Context = ComponentContext[IntersectionParams]
FORMAT = 1


# ---- the host's fingerprint of its ids ----------------------------------------------------------


def _fingerprint(block: Block) -> tuple[int, int]:
    value = 0
    sids = require_batch(block, "intersection").column(SID).to_pylist()
    for sid in sids:
        value ^= int.from_bytes(hashlib.sha256(str(sid).encode("utf-8")).digest(), "big")
    return len(sids), value


def _joined(left: tuple[int, int], right: tuple[int, int]) -> tuple[int, int]:
    return left[0] + right[0], left[1] ^ right[1]


def fingerprint(ids: BlockTable) -> str:
    """The same for the same set of ids, whatever their order and partitions."""
    count, value = ids.aggregate((0, 0), _fingerprint, _joined)
    return f"{count}:{value:064x}"


def _digest_rows(width: int, index: int, block: Block) -> Block:
    keys = [item.hex() for item in unpack(block, width, "signed ids")]
    return pa.RecordBatch.from_arrays([pa.array(keys, type=pa.string())], names=[SID])


# ---- making the cache ---------------------------------------------------------------------------


def make_cache(
    ctx: Context, env: Env, peers: list[Link], ids: BlockTable, make_cipher: Callable[[], Cipher]
) -> None:
    params = ctx.params
    method = params.intersect_method
    links = [link.under(method) for link in peers]
    values: dict[str, Any] = {
        "format": FORMAT,
        "role": ctx.role,
        "method": method,
        # The cipher settings the cached values were made with; the run that uses the cache takes them.
        "section": _section(params, method).model_dump(mode="json"),
    }
    tables: dict[str, BlockTable] = {}
    if ctx.role == "guest":
        hosts: dict[str, Any] = {}
        for link in links:
            name = str(link.party_id)
            if method == "rsa":
                key = PublicKey.from_wire(link.receive("pubkey"))
                sent = link.receive_table("signed_ids", env.engine, partitions=env.partitions)
                width = digest_size(params.rsa.final_hash_method)
                hosts[name] = key.to_wire()
                tables[f"host_{name}"] = sent.map_partitions_with_index(
                    functools.partial(_digest_rows, width)
                )
            else:
                cipher = make_cipher()
                hosts[name] = cipher.to_secret()
                tables[f"host_{name}"] = commutative_protocol.guest_host_values(env, link, cipher)
        values["hosts"] = hosts
    else:
        values["ids"] = fingerprint(ids)
        if method == "rsa":
            settings = rsa_protocol.RsaSettings.of(params.rsa, digest_size(params.rsa.final_hash_method))
            signer = rsa_protocol.Signer(env, PrivateKey.generate(settings.key_length), settings, ids)
            signer.publish(links[0])
            assert signer.table is not None
            values["key"] = signer.key.to_secret()
            tables["own"] = signer.table
        else:
            cipher = make_cipher()
            values["key"] = cipher.to_secret()
            tables["own"] = commutative_protocol.host_publish(env, links[0], ids, cipher)
    ctx.save_cache(values, tables)


# ---- using it -----------------------------------------------------------------------------------


def _section(params: IntersectionParams, method: str) -> BaseModel:
    section: BaseModel = params.rsa if method == "rsa" else getattr(params, f"{method}_params")
    return section


def _cached_params(ctx: Context, cache: Cache) -> tuple[IntersectionParams, dict[str, Any]]:
    """The parameters the cached run uses: its own, with the cipher settings the cache was made with.

    As in FATE, the Intersection that uses a cache need not repeat the cipher settings; one that sets
    them differently from the cache is refused, naming them.
    """
    params, values = ctx.params, dict(cache.values)
    if values.get("format") != FORMAT or values.get("role") != ctx.role:
        raise DataFormatError(
            f"{ctx.component} was given {cache.source}, which is not an Intersection cache of this "
            f"{ctx.role}",
            hint="wire in the cache output of an Intersection with run_cache true",
        )
    method = values.get("method")
    if method != params.intersect_method:
        raise ComponentParameterError(
            f"{ctx.component} (Intersection) runs intersect_method {params.intersect_method} with "
            f"{cache.source}, made by {method}",
            hint=f"set intersect_method {method}, as the component that made the cache",
            component=ctx.component,
        )
    name = f"{method}_params"
    current = _section(params, method)
    made = type(current).model_validate(values.get("section") or {})
    if name in params.model_fields_set and current != made:
        differ = sorted(
            field for field in type(current).model_fields if getattr(current, field) != getattr(made, field)
        )
        raise ComponentParameterError(
            f"{ctx.component} (Intersection) sets {name} other than {cache.source} was made with: "
            f"{', '.join(f'{name}.{field}' for field in differ)} differ",
            hint=f"remove {name} from this component (the cache's are used) or make them equal",
            component=ctx.component,
        )
    return params.model_copy(update={name: made}), values


def _host_entry(cache: Cache, values: dict[str, Any], link: Link) -> Any:
    entry = values.get("hosts", {}).get(str(link.party_id))
    if entry is None:
        raise DataFormatError(
            f"{cache.source} holds nothing of host {link.party_id}",
            hint="make the cache in a job with the same hosts",
        )
    return entry


def _confirm_ids(
    ctx: Context, env: Env, cache: Cache, values: dict[str, Any], ids: BlockTable, links: list[Link]
) -> BlockTable:
    """On a host: its cached table, after telling the guest whether its ids are still those cached."""
    unchanged = values.get("ids") == fingerprint(ids)
    links[0].send("cache_valid", unchanged)
    if not unchanged:
        raise DataMismatchError(
            f"{ctx.component} (Intersection): the ids of host {ctx.party_id} are not those of {cache.source}",
            hint="run the Intersection with run_cache again on the current data",
        )
    return env.keep(cache.table("own", env.engine).repartition_by_sid(env.partitions))


def _confirmed_by_hosts(ctx: Context, cache: Cache, links: list[Link]) -> None:
    for link in links:
        if link.receive("cache_valid") is not True:
            raise DataMismatchError(
                f"{ctx.component} (Intersection): host {link.party_id}'s ids are not those of {cache.source}",
                hint="run the Intersection with run_cache again on the current data",
            )


def use_cache(
    ctx: Context,
    env: Env,
    peers: list[Link],
    ids: BlockTable,
    cache: Cache,
    make_cipher: Callable[[], Cipher],
) -> BlockTable | None:
    """The key table of this party's ids in the intersection (None when it is not told)."""
    params, values = _cached_params(ctx, cache)
    method = params.intersect_method
    sync = params.sync_intersect_ids
    links = [link.under(method) for link in peers]
    if method == "rsa":
        settings = rsa_protocol.RsaSettings.of(params.rsa, digest_size(params.rsa.final_hash_method))
        if ctx.role == "guest":
            _confirmed_by_hosts(ctx, cache, links)
            signed = [
                (
                    PublicKey.from_wire(_host_entry(cache, values, link)),
                    env.keep(
                        cache.table(f"host_{link.party_id}", env.engine).repartition_by_sid(env.partitions)
                    ),
                )
                for link in links
            ]
            return rsa_protocol.guest_unified(env, links, ids, settings, sync, signed)
        key = PrivateKey.from_secret(values.get("key"))
        own = _confirm_ids(ctx, env, cache, values, ids, links)
        return rsa_protocol.host_unified(env, links[0], ids, settings, sync, (key, own))
    section = params.dh_params if method == "dh" else params.ecdh_params
    if ctx.role == "guest":
        _confirmed_by_hosts(ctx, cache, links)
        ciphered = [
            (
                cipher_from_secret(_host_entry(cache, values, link), section.hash_method, section.salt),
                cache.table(f"host_{link.party_id}", env.engine),
            )
            for link in links
        ]
        return commutative_protocol.guest_intersect(env, links, ids, make_cipher, sync, ciphered)
    cipher = cipher_from_secret(values.get("key"), section.hash_method, section.salt)
    own = _confirm_ids(ctx, env, cache, values, ids, links)
    return commutative_protocol.host_intersect(env, links[0], ids, cipher, sync, own)
