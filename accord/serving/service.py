"""Online inference of a site: publish models, bind service ids, score rows across the parties.

On the guest's site, :meth:`ServingService.load` publishes a model on every party: its own part
locally, each host's over FederationServing (the host reads its lookup table then). Scoring takes
the guest's features from the request and asks every host, in one round trip each, for its answers
about the sample ids: partial scores the guest sums (HeteroLR), or vectors its scorer combines with
its own features (HeteroSecureBoost: the host's decisions at its own tree nodes; HeteroNN: ciphertexts
under a key the guest made at load, which it decrypts first, see :mod:`accord.serving.sealing`). A guest
whose model is whole (HomoSecureBoost) asks no host. The same object answers the hosts' side of
FederationServing.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass

from accord.components import ComponentRegistry
from accord.components.sdk import PartyScorer
from accord.components.sdk.scoring import (
    AnsweringScorer,
    CombiningScorer,
    SealedAnsweringScorer,
)
from accord.errors import AccordError, ArgumentError, ConflictError, PermissionDenied, RecordNotFound
from accord.identity import Party
from accord.model_store import ModelStore, VersionKey
from accord.persistence import JobRepository, ModelRepository
from accord.serving.messages import LoadPart, Partials, PartialScore, PartLoaded, TableName
from accord.serving.parts import (
    guest_features,
    guest_partials,
    host_answers,
    host_reply,
    lookup_answers,
    lookup_partials,
    lookup_sealed,
    summed,
)
from accord.serving.peers import ServingPeers
from accord.serving.registry import Binding, PublishedEntry, PublishedPart, Registry
from accord.serving.resolve import PartSource, resolve_part
from accord.serving.sealing import SealStore, opened, with_new_key
from accord.settings import Settings
from accord.storage import TableStore

log = logging.getLogger(__name__)

GUEST, HOST = "guest", "host"
_SERVICE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$")


@dataclass(frozen=True)
class Sample:
    sample_id: str
    features: Mapping[str, float]


@dataclass(frozen=True)
class Scored:
    sample_id: str
    score: float
    label: int
    partials: tuple[tuple[Party, float], ...]


@dataclass(frozen=True)
class Answer:
    model_id: str
    model_version: str
    predictions: list[Scored]


@dataclass(frozen=True)
class Loaded:
    model_id: str
    model_version: str
    parts: list[PartLoaded]


class ServingService:
    """``roles`` limits what :meth:`restore` rebuilds: a process that only answers clients needs guests."""

    def __init__(
        self,
        settings: Settings,
        models: ModelStore,
        records: ModelRepository,
        jobs: JobRepository,
        tables: TableStore,
        peers: ServingPeers,
        *,
        roles: Collection[str] = (GUEST, HOST),
        components: ComponentRegistry | None = None,
    ) -> None:
        self._settings = settings
        # Scoring is the model component's own (ComponentBase.scorer): serving reads no model file.
        self._components = components or ComponentRegistry.discover(settings.component_modules)
        self._models = models
        self._records = records
        self._jobs = jobs
        self._tables = tables
        self._peers = peers
        self.registry = Registry(settings.home, roles)
        self._seals = SealStore(settings.home)
        self._restored_mtime = -1.0

    async def close(self) -> None:
        await self._peers.close()

    # ---- publishing -----------------------------------------------------------------------------

    async def load(
        self, model_id: str, model_version: str, tables: Mapping[int, TableName] | None = None
    ) -> Loaded:
        """Publish a model on all its parties; ``tables`` replaces hosts' lookup tables by party id."""
        guest_id = await asyncio.to_thread(self._local_guest, model_id, model_version)
        entry = PublishedEntry(model_id=model_id, model_version=model_version, role=GUEST, party_id=guest_id)
        # Built (and checked) before any host is asked, so a model that cannot be served publishes nothing.
        part = await asyncio.to_thread(self._build, entry)
        unknown = sorted(set(tables or {}) - set(part.hosts))
        if unknown:
            raise ArgumentError(
                f"lookup tables given for {', '.join(map(str, unknown))}, which are not hosts of model "
                f"{model_id} (hosts: {', '.join(map(str, part.hosts)) or 'none'})",
                hint="give tables only for the model's host party ids",
            )
        source = Party(role=GUEST, party_id=guest_id)
        # A sealed model (HeteroNN) gets a fresh key, and each host the guest's weights for it under it.
        part, shares = await asyncio.to_thread(with_new_key, self._seals, part)
        with self._seals.dropped_on_failure(part.entry):
            hosts = await asyncio.gather(
                *(
                    self._peers.load_part(
                        LoadPart(
                            model_id=model_id,
                            model_version=model_version,
                            party=Party(role=HOST, party_id=host),
                            table=(tables or {}).get(host),
                            sealed=shares.get(host),
                        ),
                        source=source,
                    )
                    for host in part.hosts
                )
            )
        self._publish(part)
        log.info(
            "published model %s version %s on guest %s and %d hosts",
            model_id,
            model_version,
            guest_id,
            len(hosts),
        )
        guest = PartLoaded(party=source, component=part.scorer.component, features=len(part.scorer.header))
        return Loaded(model_id, model_version, [guest, *hosts])

    async def bind(self, service_id: str, model_id: str, model_version: str) -> Binding:
        if not _SERVICE_ID.match(service_id):
            raise ArgumentError(
                f"service id {service_id!r} is not valid",
                hint="use 1 to 128 letters, digits, '.', '_', ':' or '-', starting with a letter or digit",
            )
        binding = Binding(model_id=model_id, model_version=model_version)
        self._guest_part(binding)
        self.registry.bind(service_id, binding)
        return binding

    async def restore(self) -> None:
        """Rebuild what ``published.json`` lists (parts already in memory and unchanged are kept)."""
        mtime = self.registry.mtime()
        published = await asyncio.to_thread(self.registry.read)
        parts: list[PublishedPart] = []
        broken: dict[VersionKey, str] = {}
        for entry in published.models:
            if entry.role not in self.registry.roles:
                continue
            current = self.registry.parts.get(entry.key)
            if current is not None and current.entry == entry:
                parts.append(current)
                continue
            try:
                parts.append(await asyncio.to_thread(self._build, entry))
            except AccordError as error:
                # One unreadable model must not keep the site, or the other models, from serving.
                log.error("cannot serve %s again: %s", entry.key, error)
                broken[entry.key] = error.retmsg
        self.registry.replace(parts, published.services)
        self.registry.broken = broken
        self._restored_mtime = mtime

    async def watch(self, interval_s: float = 1.0) -> None:
        """Follow ``published.json`` when another process (the site server) loads and binds models."""
        while True:
            await asyncio.sleep(interval_s)
            if self.registry.mtime() != self._restored_mtime:
                try:
                    await self.restore()
                except AccordError as error:
                    log.error("cannot re-read %s: %s", self.registry.path, error)

    def _local_guest(self, model_id: str, model_version: str) -> int:
        records = self._records.find(model_id, model_version=model_version, role=GUEST)
        hosted = sorted({r.party_id for r in records if self._settings.hosts_party(r.party_id)})
        if not hosted:
            raise RecordNotFound(
                f"no guest part of model {model_id} version {model_version} on this site",
                hint="load a model on its guest's site, with the model_id and model_version the training "
                "job (or `accord model deploy`) printed",
                model_id=model_id,
                model_version=model_version,
            )
        return hosted[0]

    def _build(self, entry: PublishedEntry, source: PartSource | None = None) -> PublishedPart:
        source = source or self._resolve(entry)
        key = entry.key.component(source.scoring)
        module = source.plan.component(source.scoring).module
        scorer = self._components.create(module).scorer(
            self._models.load(key), role=entry.role, component=source.scoring
        )
        if entry.role != HOST:
            hosts = source.hosts if _asks_hosts(scorer) else ()
            private = self._seals.key(entry.seal) if entry.seal else None
            return PublishedPart(entry, scorer, source.guests, hosts, key=private)
        table = entry.table or source.reader_table
        if table is None:
            raise ArgumentError(
                f"{entry.key}: the training conf names no table for its reader, so there is no lookup table",
                hint="give the host's table when loading (--host-table PARTY_ID=NAMESPACE.NAME)",
            )
        transform = self._models.load(entry.key.component(source.transform))
        published = entry.model_copy(update={"table": table})
        if isinstance(scorer, SealedAnsweringScorer):
            share = self._seals.share(entry, scorer.component)
            sealed = lookup_sealed(self._tables, table, transform, scorer, share)
            return PublishedPart(published, scorer, source.guests, source.hosts, sealed=sealed)
        if isinstance(scorer, AnsweringScorer):
            answers = lookup_answers(self._tables, table, transform, scorer)
            return PublishedPart(published, scorer, source.guests, source.hosts, answers=answers)
        partials = lookup_partials(self._tables, table, transform, scorer)
        return PublishedPart(published, scorer, source.guests, source.hosts, partials)

    def _resolve(self, entry: PublishedEntry) -> PartSource:
        return resolve_part(self._models, self._records, self._jobs, entry.key)

    def _publish(self, part: PublishedPart) -> None:
        previous = self.registry.publish(part)
        if previous is not None and previous.entry.seal != part.entry.seal:
            # The earlier load's key material: nothing answers under it any more.
            self._seals.discard(previous.entry)

    # ---- the hosts' side of FederationServing ---------------------------------------------------

    async def load_part(self, command: LoadPart, source: Party) -> PartLoaded:
        entry = PublishedEntry(
            model_id=command.model_id,
            model_version=command.model_version,
            role=command.party.role,
            party_id=command.party.party_id,
            table=command.table,
            seal=command.sealed.seal if command.sealed else None,
        )
        if entry.role != HOST:
            raise ArgumentError(f"LoadModel for {command.party}: only hosts are loaded over the federation")
        resolved = await asyncio.to_thread(self._resolve, entry)
        # Checked before the table is read: reading it is the expensive part.
        _check_guest(entry.key, resolved.guests, source, "load")
        if command.sealed is not None:
            self._seals.save_share(entry.party_id, command.sealed)
        with self._seals.dropped_on_failure(entry):
            part = await asyncio.to_thread(self._build, entry, resolved)
        self._publish(part)
        return PartLoaded(
            party=command.party,
            component=part.scorer.component,
            features=len(part.scorer.header),
            table=part.entry.table,
            rows=part.rows,
        )

    async def partial_score(self, command: PartialScore, source: Party) -> Partials:
        key = VersionKey(command.model_id, command.model_version, command.party.role, command.party.party_id)
        part = self.registry.parts.get(key)
        if part is None:
            reason = self.registry.broken.get(key)
            raise RecordNotFound(
                f"{key} is not published on this site"
                + (f" (it failed to load: {reason})" if reason else ""),
                hint="load the model again from the guest's site (`accord model load`)",
            )
        _check_guest(key, part.guests, source, "score with")
        return host_reply(part, command)

    # ---- scoring --------------------------------------------------------------------------------

    async def score(
        self, samples: Sequence[Sample], *, service_id: str = "", model_id: str = "", model_version: str = ""
    ) -> Answer:
        if not samples:
            raise ArgumentError("nothing to score: the request has no instance", hint="send at least one")
        part = self._guest_part(self._binding(service_id, model_id, model_version))
        empty = [index for index, sample in enumerate(samples) if not sample.sample_id]
        if empty:
            raise ArgumentError(
                f"instance {empty[0]} has no sample_id",
                hint="give each instance the id under which the hosts know the row",
            )
        entry = part.entry
        if isinstance(part.scorer, CombiningScorer):
            return await self._combined(part, part.scorer, samples)
        guest = guest_partials(part.scorer, [(sample.sample_id, sample.features) for sample in samples])
        source = Party(role=GUEST, party_id=entry.party_id)
        sample_ids = [sample.sample_id for sample in samples]
        replies = await self._ask_hosts(part, sample_ids)
        scores, labels = part.scorer.outcome(summed(guest, dict(zip(part.hosts, replies, strict=True))))
        parties = [source, *(Party(role=HOST, party_id=host) for host in part.hosts)]
        columns = [guest.tolist(), *(reply.partials for reply in replies)]
        predictions = [
            Scored(
                sample_id=sample_id,
                score=float(scores[row]),
                label=int(labels[row]),
                partials=tuple(
                    (party, float(column[row])) for party, column in zip(parties, columns, strict=True)
                ),
            )
            for row, sample_id in enumerate(sample_ids)
        ]
        return Answer(entry.model_id, entry.model_version, predictions)

    async def _combined(
        self, part: PublishedPart, scorer: CombiningScorer, samples: Sequence[Sample]
    ) -> Answer:
        """A combined model's answer: no per-party partial score exists, so none is reported."""
        features = guest_features(scorer, [(sample.sample_id, sample.features) for sample in samples])
        sample_ids = [sample.sample_id for sample in samples]
        replies = dict(zip(part.hosts, await self._ask_hosts(part, sample_ids), strict=True))
        if part.key is not None:
            answers = await asyncio.to_thread(opened, part.key, replies, len(sample_ids))
        else:
            answers = host_answers(replies, len(sample_ids))
        scores, labels = scorer.outcome(scorer.combine(features, answers))
        predictions = [
            Scored(sample_id=sample_id, score=float(scores[row]), label=int(labels[row]), partials=())
            for row, sample_id in enumerate(sample_ids)
        ]
        return Answer(part.entry.model_id, part.entry.model_version, predictions)

    async def _ask_hosts(self, part: PublishedPart, sample_ids: list[str]) -> list[Partials]:
        """Every host's answers about ``sample_ids``: one round trip each, all at once."""
        entry = part.entry
        source = Party(role=GUEST, party_id=entry.party_id)
        return await asyncio.gather(
            *(
                self._peers.partial_score(
                    PartialScore(
                        model_id=entry.model_id,
                        model_version=entry.model_version,
                        party=Party(role=HOST, party_id=host),
                        sample_ids=sample_ids,
                        seal=entry.seal or "",
                    ),
                    source=source,
                )
                for host in part.hosts
            )
        )

    def _binding(self, service_id: str, model_id: str, model_version: str) -> Binding:
        if service_id:
            binding = self.registry.services.get(service_id)
            if binding is None:
                raise RecordNotFound(
                    f"no service id {service_id!r} on this site",
                    hint="bind it to a loaded model first (`accord model bind --service-id ...`)",
                    service_id=service_id,
                )
            return binding
        if not model_id or not model_version:
            raise ArgumentError(
                "the request names no model", hint="give service_id, or model_id and model_version"
            )
        return Binding(model_id=model_id, model_version=model_version)

    def _guest_part(self, binding: Binding) -> PublishedPart:
        for part in self.registry.parts.values():
            entry = part.entry
            if (entry.model_id, entry.model_version, entry.role) == (
                binding.model_id,
                binding.model_version,
                GUEST,
            ):
                return part
        raise ConflictError(
            f"model {binding.model_id} version {binding.model_version} is not loaded for online inference "
            "on this site",
            hint="load it on the guest's site first (`accord model load --model-id ... --model-version ...`)",
            model_id=binding.model_id,
            model_version=binding.model_version,
        )


def _asks_hosts(scorer: PartyScorer) -> bool:
    """Whether a guest's scorer needs its hosts' parts (not when its model is whole, as homo models are)."""
    return not isinstance(scorer, CombiningScorer) or scorer.asks_hosts


def _check_guest(key: VersionKey, guests: Sequence[int], source: Party, what: str) -> None:
    if source.role != GUEST or source.party_id not in guests:
        raise PermissionDenied(
            f"{source} may not {what} {key}: only its guests ({', '.join(map(str, guests))}) may",
            hint="online inference is asked for by the model's guest",
        )
