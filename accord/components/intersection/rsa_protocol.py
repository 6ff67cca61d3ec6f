"""FATE's RSA intersection, unified and split calculation, between the guest and each host.

One exchange has a signing side (holds an RSA key) and a requesting side:

1. the signer sends its public key and the set ``{G(H(x)^d)}`` over its own ids ``x``
   (``H`` = ``hash_method``, ``G`` = ``final_hash_method``, both salted);
2. the requester sends ``H(y) * r^e`` for its ids ``y``, the signer returns ``(H(y) * r^e)^d``;
3. the requester divides out ``r``, hashes with ``G`` and compares: equal digests are common ids.

Unified calculation (FATE's default): each host signs, the guest requests, so the guest learns the
intersection. Split calculation: ids are split by the parity of ``H(id)``; for odd ones the host signs,
for even ones the guest signs (a key per host) and the host requests and reports its matches back.
With ``sync_intersect_ids`` the guest then tells each host the common ids, as that host's digests. With
several hosts every host is told the intersection across all hosts (for split calculation FATE gives a
host its own even matches; here guest and hosts always end with the same rows).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from accord.components.intersection.hashing import pack, signature_digests, unpack
from accord.components.intersection.link import Link
from accord.components.intersection.params import RsaParams
from accord.components.intersection.rsa import PrivateKey, PublicKey, blind, unblind
from accord.errors import TransferError


@dataclass(frozen=True)
class RsaSettings:
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
            final_hash_method=params.final_hash_method,
            salt=params.salt,
            random_bit=params.random_bit,
            base_fraction=float(fraction) if fraction else None,
            key_length=params.key_length,
            digest_width=digest_width,
        )


def _positions(blob: object, by_digest: dict[bytes, int], settings: RsaSettings, what: str) -> set[int]:
    found = set()
    for item in unpack(blob, settings.digest_width, what):
        position = by_digest.get(item)
        if position is None:
            raise TransferError(f"the peer sent {what} holding a digest this party never produced")
        found.add(position)
    return found


class SigningSide:
    """Holds the key of one exchange: publishes its own signed ids and signs the peer's blinded ones."""

    def __init__(
        self, key: PrivateKey, settings: RsaSettings, numbers: Sequence[int], positions: Sequence[int]
    ):
        self.key = key
        self.settings = settings
        self.numbers = list(numbers)
        self.positions = list(positions)
        self.digest_of: dict[int, bytes] = {}
        self.by_digest: dict[bytes, int] = {}

    def publish(self, link: Link) -> None:
        # The key goes first so that the peer blinds its ids while this side signs its own.
        link.send("pubkey", self.key.public.to_wire())
        signatures = self.key.sign_many(self.numbers)
        digests = signature_digests(signatures, self.settings.final_hash_method, self.settings.salt)
        self.digest_of = dict(zip(self.positions, digests, strict=True))
        self.by_digest = dict(zip(digests, self.positions, strict=True))
        link.send("signed_ids", pack(digests))

    def serve(self, link: Link) -> None:
        blinded = self.key.public.require_residues(link.receive("blinded_ids"), "blinded ids")
        link.send("signatures", self.key.sign_many(blinded))

    def positions_of(self, blob: object, what: str) -> set[int]:
        return _positions(blob, self.by_digest, self.settings, what)


class RequestingSide:
    """Has its ids signed blindly by the peer and finds which of them the peer holds too."""

    def __init__(self, settings: RsaSettings, numbers: Sequence[int], positions: Sequence[int]):
        self.settings = settings
        self.numbers = list(numbers)
        self.positions = list(positions)
        self.digest_of: dict[int, bytes] = {}
        self.by_digest: dict[bytes, int] = {}
        self._key: PublicKey | None = None
        self._factors: list[object] = []

    def request(self, link: Link) -> None:
        key = self._key = PublicKey.from_wire(link.receive("pubkey"))
        blinded = blind(
            self.numbers, key, random_bit=self.settings.random_bit, base_fraction=self.settings.base_fraction
        )
        self._factors = blinded.factors
        link.send("blinded_ids", blinded.values)

    def match(self, link: Link) -> set[int]:
        if self._key is None:
            raise RuntimeError("match() before request()")
        peer_digests = set(unpack(link.receive("signed_ids"), self.settings.digest_width, "signed ids"))
        signatures = self._key.require_residues(link.receive("signatures"), "signatures")
        unblinded = unblind(signatures, self._factors, self._key)
        digests = signature_digests(unblinded, self.settings.final_hash_method, self.settings.salt)
        self.digest_of = dict(zip(self.positions, digests, strict=True))
        self.by_digest = dict(zip(digests, self.positions, strict=True))
        return {position for position, item in self.digest_of.items() if item in peer_digests}

    def positions_of(self, blob: object, what: str) -> set[int]:
        return _positions(blob, self.by_digest, self.settings, what)


def _common(matched: list[set[int]]) -> set[int]:
    return set.intersection(*matched) if matched else set()


# ---- unified calculation ------------------------------------------------------------------------


def guest_unified(hosts: list[Link], numbers: Sequence[int], settings: RsaSettings, sync: bool) -> set[int]:
    positions = range(len(numbers))
    sides = [RequestingSide(settings, numbers, positions) for _ in hosts]
    for side, link in zip(sides, hosts, strict=True):
        side.request(link)
    common = _common([side.match(link) for side, link in zip(sides, hosts, strict=True)])
    if sync:
        for side, link in zip(sides, hosts, strict=True):
            link.send("intersection", pack(side.digest_of[p] for p in common))
    return common


def host_unified(guest: Link, numbers: Sequence[int], settings: RsaSettings, sync: bool) -> set[int] | None:
    side = SigningSide(PrivateKey.generate(settings.key_length), settings, numbers, range(len(numbers)))
    side.publish(guest)
    side.serve(guest)
    if not sync:
        return None
    return side.positions_of(guest.receive("intersection"), "the intersection")


# ---- split calculation --------------------------------------------------------------------------


def _by_parity(numbers: Sequence[int]) -> tuple[list[int], list[int]]:
    odd = [p for p, number in enumerate(numbers) if number & 1]
    even = [p for p, number in enumerate(numbers) if not number & 1]
    return odd, even


def guest_split(hosts: list[Link], numbers: Sequence[int], settings: RsaSettings, sync: bool) -> set[int]:
    odd, even = _by_parity(numbers)
    signers, requesters = [], []
    for link in hosts:
        signer = SigningSide(
            PrivateKey.generate(settings.key_length), settings, [numbers[p] for p in even], even
        )
        signer.publish(link.under("even"))
        requester = RequestingSide(settings, [numbers[p] for p in odd], odd)
        requester.request(link.under("odd"))
        signers.append(signer)
        requesters.append(requester)
    for signer, link in zip(signers, hosts, strict=True):
        signer.serve(link.under("even"))
    matched = []
    for signer, requester, link in zip(signers, requesters, hosts, strict=True):
        odd_matched = requester.match(link.under("odd"))
        even_matched = signer.positions_of(link.receive("even.matched"), "its even matches")
        matched.append(odd_matched | even_matched)
    common = _common(matched)
    if sync:
        for signer, requester, link in zip(signers, requesters, hosts, strict=True):
            link.send(
                "odd.intersection", pack(requester.digest_of[p] for p in common if p in requester.digest_of)
            )
            link.send("even.intersection", pack(signer.digest_of[p] for p in common if p in signer.digest_of))
    return common


def host_split(guest: Link, numbers: Sequence[int], settings: RsaSettings, sync: bool) -> set[int] | None:
    odd, even = _by_parity(numbers)
    signer = SigningSide(PrivateKey.generate(settings.key_length), settings, [numbers[p] for p in odd], odd)
    signer.publish(guest.under("odd"))
    requester = RequestingSide(settings, [numbers[p] for p in even], even)
    requester.request(guest.under("even"))
    signer.serve(guest.under("odd"))
    even_matched = requester.match(guest.under("even"))
    guest.send("even.matched", pack(requester.digest_of[p] for p in even_matched))
    if not sync:
        return None
    odd_common = signer.positions_of(guest.receive("odd.intersection"), "the odd intersection")
    even_common = requester.positions_of(guest.receive("even.intersection"), "the even intersection")
    return odd_common | even_common
