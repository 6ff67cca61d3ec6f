"""FATE's RSA intersection, unified and split calculation, between the guest and each host, on tables.

One exchange has a signing side (holds an RSA key) and a requesting side:

1. the signer sends its public key and the set ``{G(H(x)^d)}`` over its own ids ``x``
   (``H`` = ``hash_method``, ``G`` = ``final_hash_method``, both salted);
2. the requester sends ``H(y) * r^e`` for its ids ``y``, the signer returns ``(H(y) * r^e)^d``;
3. the requester divides out ``r``, hashes with ``G`` and compares: equal digests are common ids.

Every step runs a partition at a time on the engine (hashing, blinding, CRT signing and unblinding
are the partition-parallel kernels) and every table crosses a partition at a time: blinded values
and signatures in the requester's partitions, digests in the agreed digest partitions (both sides
partition their digests alike, so partition i is compared with partition i alone). Blinding factors
come from a secret per-exchange seed (rsa.FactorStream), so a recomputed partition unblinds right.

Unified calculation (FATE's default): each host signs, the guest requests, so the guest learns the
intersection. Split calculation: ids are split by the parity of ``H(id)``; for odd ones the host signs,
for even ones the guest signs (a key per host) and the host requests and reports its matches back.
With ``sync_intersect_ids`` the guest then tells each host the common ids, as that host's digests. With
several hosts every host is told the intersection across all hosts (for split calculation FATE gives a
host its own even matches; here guest and hosts always end with the same rows).
"""

from __future__ import annotations

import functools
import secrets
from dataclasses import dataclass
from typing import Any

import gmpy2  # type: ignore[import-untyped, unused-ignore]

from accord.components.intersection import keyed
from accord.components.intersection.hashing import id_numbers, signature_digests
from accord.components.intersection.keyed import SRC, Env
from accord.components.intersection.link import Link
from accord.components.intersection.params import RsaParams
from accord.components.intersection.rsa import FactorStream, PrivateKey, PublicKey, blind, unblind
from accord.computing import Block, BlockTable
from accord.computing.block import SID, require_batch
from accord.errors import TransferError


@dataclass(frozen=True)
class RsaSettings:
    hash_method: str
    final_hash_method: str
    salt: str
    random_bit: int
    base_fraction: float | None
    key_length: int
    digest_width: int

    @classmethod
    def of(cls, params: RsaParams, digest_width: int) -> RsaSettings:
        fraction = params.random_base_fraction
        return cls(
            hash_method=params.hash_method,
            final_hash_method=params.final_hash_method,
            salt=params.salt,
            random_bit=params.random_bit,
            base_fraction=float(fraction) if fraction else None,
            key_length=params.key_length,
            digest_width=digest_width,
        )


# ---- partition kernels (module level: they run in the engine's processes) ---------------------


def _width(n: int) -> int:
    return (n.bit_length() + 7) // 8


def _pack_ints(values: list[Any], width: int) -> bytes:
    return b"".join(int(value).to_bytes(width, "big") for value in values)


def _unpack_ints(block: Block, n: int, what: str) -> list[Any]:
    width = _width(n)
    if not isinstance(block, bytes) or len(block) % width:
        raise TransferError(f"the peer sent {what} that are not {width}-byte integers")
    values = [gmpy2.mpz(int.from_bytes(block[at : at + width], "big")) for at in range(0, len(block), width)]
    if any(value >= n for value in values):
        raise TransferError(f"the peer sent {what} that are not integers modulo this key's n")
    return values


def _numbers(settings: RsaSettings, batch: Any) -> list[int]:
    return id_numbers(batch.column(SID).to_pylist(), settings.hash_method, settings.salt)


def _blinding(key: PublicKey, settings: RsaSettings, seed: bytes, batch: Any) -> Any:
    label = int(batch.column(SRC)[0].as_py()) if batch.num_rows else 0
    return blind(
        _numbers(settings, batch),
        key,
        random_bit=settings.random_bit,
        base_fraction=settings.base_fraction,
        stream=FactorStream(seed, label),
    )


def _blinded_blob(key: PublicKey, settings: RsaSettings, seed: bytes, index: int, block: Block) -> Block:
    blinded = _blinding(key, settings, seed, require_batch(block, "intersection"))
    return _pack_ints(blinded.values, _width(key.n))


def _signed_blob(key: PrivateKey, index: int, block: Block) -> Block:
    values = _unpack_ints(block, key.public.n, "blinded ids")
    return _pack_ints(key.sign_many(values), _width(key.public.n))


def _digest_rows(settings: RsaSettings, batch: Any, signatures: list[int]) -> Block:
    digests = signature_digests(signatures, settings.final_hash_method, settings.salt)
    return keyed.keyed_batch([item.hex() for item in digests], batch.column(SID), batch.column(SRC))


def _signed_rows(key: PrivateKey, settings: RsaSettings, index: int, block: Block) -> Block:
    batch = require_batch(block, "intersection")
    return _digest_rows(settings, batch, key.sign_many(_numbers(settings, batch)))


def _unblinded_rows(key: PublicKey, settings: RsaSettings, seed: bytes, mine: Block, theirs: Block) -> Block:
    batch = require_batch(mine, "intersection")
    signatures = _unpack_ints(theirs, key.n, "signatures")
    # The same factors the blinding drew: the stream restarts from the same seed and partition.
    factors = _blinding(key, settings, seed, batch).factors
    return _digest_rows(settings, batch, unblind(signatures, factors, key))


# ---- the two sides of one exchange ------------------------------------------------------------


class Signer:
    """Holds the key of one exchange: publishes its own signed ids and signs the peer's blinded ones."""

    def __init__(self, env: Env, key: PrivateKey, settings: RsaSettings, ids: BlockTable) -> None:
        self.env, self.key, self.settings, self.ids = env, key, settings, ids
        self.table: BlockTable | None = None

    def signed_ids(self) -> BlockTable:
        """This party's ids keyed by the final digest of their signature, partitioned by it."""
        signed = self.ids.map_partitions_with_index(functools.partial(_signed_rows, self.key, self.settings))
        return self.env.keep(signed.repartition_by_sid(self.env.partitions))

    def publish(self, link: Link) -> None:
        # The key goes first so that the peer blinds its ids while this side signs its own.
        link.send("pubkey", self.key.public.to_wire())
        self.table = self.signed_ids()
        link.send_table("signed_ids", keyed.outgoing(self.table, digests=True))

    def serve(self, link: Link) -> None:
        blinded = link.receive_table("blinded_ids", self.env.engine)
        link.send_table(
            "signatures", blinded.map_partitions_with_index(functools.partial(_signed_blob, self.key))
        )

    def claimed(self, link: Link, name: str, what: str) -> BlockTable:
        return _claimed(self.env, self.table, self.settings, link, name, what)


class Requester:
    """Has its ids signed blindly by the peer and finds which of them the peer holds too."""

    def __init__(self, env: Env, settings: RsaSettings, ids: BlockTable) -> None:
        self.env, self.settings, self.ids = env, settings, ids
        self.table: BlockTable | None = None
        self._key: PublicKey | None = None
        # Never leaves this party: the blinding factors are drawn from it.
        self._seed = secrets.token_bytes(32)

    def request(self, link: Link, key: PublicKey | None = None) -> None:
        """Send this party's blinded ids, under ``key`` (a cached one) or the key the peer publishes."""
        if key is None:
            key = PublicKey.from_wire(link.receive("pubkey"))
        self._key = key
        blinded = self.ids.map_partitions_with_index(
            functools.partial(_blinded_blob, key, self.settings, self._seed)
        )
        link.send_table("blinded_ids", blinded)

    def match(self, link: Link, cached: BlockTable | None = None) -> BlockTable:
        """This party's ids the peer holds: against the signed ids it publishes, or ``cached`` ones
        (a table of their hex digests in ``sid``, partitioned alike)."""
        if self._key is None:
            raise RuntimeError("match() before request()")
        engine, partitions = self.env.engine, self.env.partitions
        peer = cached
        if peer is None:
            peer = link.receive_table("signed_ids", engine, partitions=partitions)
        signatures = link.receive_table("signatures", engine, partitions=self.ids.partitions)
        unblinded = self.ids.zip_partitions(
            signatures, functools.partial(_unblinded_rows, self._key, self.settings, self._seed)
        )
        self.table = self.env.keep(unblinded.repartition_by_sid(partitions))
        if cached is not None:
            return keyed.matched(self.table, cached, None, "cached signed ids")
        return keyed.matched(self.table, peer, self.settings.digest_width, "signed ids")

    def claimed(self, link: Link, name: str, what: str) -> BlockTable:
        return _claimed(self.env, self.table, self.settings, link, name, what)


def _claimed(
    env: Env, table: BlockTable | None, settings: RsaSettings, link: Link, name: str, what: str
) -> BlockTable:
    if table is None:
        raise RuntimeError("claimed() before this side computed its digests")
    sent = link.receive_table(name, env.engine, partitions=env.partitions)
    return keyed.claimed(table, sent, settings.digest_width, what)


def _send_digests(link: Link, name: str, table: BlockTable) -> None:
    link.send_table(name, keyed.outgoing(table, digests=True))


def _parities(env: Env, ids: BlockTable, settings: RsaSettings) -> tuple[BlockTable, BlockTable]:
    numbers = functools.partial(id_numbers, method=settings.hash_method, salt=settings.salt)
    odd = env.keep(keyed.by_parity(ids, numbers, odd=True))
    even = env.keep(keyed.by_parity(ids, numbers, odd=False))
    return odd, even


# ---- unified calculation ------------------------------------------------------------------------


def guest_unified(
    env: Env,
    hosts: list[Link],
    ids: BlockTable,
    settings: RsaSettings,
    sync: bool,
    cached: list[tuple[PublicKey, BlockTable]] | None = None,
) -> BlockTable:
    """``cached``: per host, its public key and signed ids (hex digests in ``sid``) of a cache."""
    sides = [Requester(env, settings, ids) for _ in hosts]
    keys = [key for key, _ in cached] if cached else [None] * len(hosts)
    tables = [table for _, table in cached] if cached else [None] * len(hosts)
    for side, link, key in zip(sides, hosts, keys, strict=True):
        side.request(link, key)
    found = [side.match(link, table) for side, link, table in zip(sides, hosts, tables, strict=True)]
    common = keyed.common_ids(env, found)
    if sync:
        for side, link, mine in zip(sides, hosts, found, strict=True):
            assert side.table is not None
            _send_digests(
                link, "intersection", mine if len(hosts) == 1 else keyed.among(env, side.table, common)
            )
    return common


def host_unified(
    env: Env,
    guest: Link,
    ids: BlockTable,
    settings: RsaSettings,
    sync: bool,
    cached: tuple[PrivateKey, BlockTable] | None = None,
) -> BlockTable | None:
    """``cached``: the key and signed ids of a cache the guest holds them from too."""
    if cached is None:
        signer = Signer(env, PrivateKey.generate(settings.key_length), settings, ids)
        signer.publish(guest)
    else:
        signer = Signer(env, cached[0], settings, ids)
        signer.table = cached[1]
    signer.serve(guest)
    if not sync:
        return None
    return signer.claimed(guest, "intersection", "the intersection")


# ---- split calculation --------------------------------------------------------------------------


def guest_split(
    env: Env, hosts: list[Link], ids: BlockTable, settings: RsaSettings, sync: bool
) -> BlockTable:
    odd, even = _parities(env, ids, settings)
    signers, requesters = [], []
    for link in hosts:
        signer = Signer(env, PrivateKey.generate(settings.key_length), settings, even)
        signer.publish(link.under("even"))
        requester = Requester(env, settings, odd)
        requester.request(link.under("odd"))
        signers.append(signer)
        requesters.append(requester)
    for signer, link in zip(signers, hosts, strict=True):
        signer.serve(link.under("even"))
    found = []
    for signer, requester, link in zip(signers, requesters, hosts, strict=True):
        odd_found = requester.match(link.under("odd"))
        even_found = signer.claimed(link, "even.matched", "its even matches")
        found.append(keyed.concat(odd_found, even_found))
    common = keyed.common_ids(env, found)
    if sync:
        for signer, requester, link in zip(signers, requesters, hosts, strict=True):
            assert signer.table is not None and requester.table is not None
            _send_digests(link, "odd.intersection", keyed.among(env, requester.table, common))
            _send_digests(link, "even.intersection", keyed.among(env, signer.table, common))
    return common


def host_split(
    env: Env, guest: Link, ids: BlockTable, settings: RsaSettings, sync: bool
) -> BlockTable | None:
    odd, even = _parities(env, ids, settings)
    signer = Signer(env, PrivateKey.generate(settings.key_length), settings, odd)
    signer.publish(guest.under("odd"))
    requester = Requester(env, settings, even)
    requester.request(guest.under("even"))
    signer.serve(guest.under("odd"))
    even_found = requester.match(guest.under("even"))
    _send_digests(guest, "even.matched", even_found)
    if not sync:
        return None
    odd_common = signer.claimed(guest, "odd.intersection", "the odd intersection")
    even_common = requester.claimed(guest, "even.intersection", "the even intersection")
    return keyed.concat(odd_common, even_common)
