"""The rows a party's scorer (ComponentBase.scorer of the model's component) scores online.

The guest's part of a row comes from the features the request carries; a host's from its lookup
table. The component's scorer does the arithmetic (for HeteroLR ``x_g · w_g + b`` on the guest,
``x_h · w_h`` on a host, then ``sigmoid(Σ)`` against the threshold; for HeteroSecureBoost the host's
decisions at its nodes, then the guest's walk of the trees; for HeteroNN the host's ``[[z_h]]`` under
the guest's key, then the guest's bottom, interactive and top models), exactly as its offline predict.

A host's answers never change while its model is published, so they are computed once per lookup
table row at load time: a request then costs a dictionary look-up, not a parse and a dot product (nor,
for a sealed model, a homomorphic product).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pyarrow as pa

from accord.components.data_transform.component import predict_passes, read
from accord.components.data_transform.model import TransformModel
from accord.components.sdk import Dataset, PartyScorer
from accord.components.sdk.dataset import SID
from accord.components.sdk.scoring import AnsweringScorer, HostAnswers, SealedAnsweringScorer
from accord.crypto import PublicKey
from accord.errors import ArgumentError, ConflictError, DataMismatchError, RecordNotFound
from accord.serving.messages import Partials, PartialScore, SealedShare, TableName
from accord.serving.registry import LookupAnswers, PublishedPart, SealedAnswers
from accord.storage import TableStore


def guest_partials(scorer: PartyScorer, rows: Sequence[tuple[str, Mapping[str, float]]]) -> np.ndarray:
    """The guest's partial per ``(sample id, features by name)``; features beyond its header are ignored."""
    return scorer.partial(guest_features(scorer, rows))


def guest_features(scorer: PartyScorer, rows: Sequence[tuple[str, Mapping[str, float]]]) -> np.ndarray:
    """Rows of features (n, len(header)) in the scorer's order, from ``(sample id, features by name)``."""
    features = np.empty((len(rows), len(scorer.header)), dtype=np.float64)
    for row, (sample_id, values) in enumerate(rows):
        try:
            features[row] = [values[name] for name in scorer.header]
        except KeyError:
            missing = [name for name in scorer.header if name not in values]
            raise ArgumentError(
                f"sample {sample_id!r} lacks {len(missing)} of the guest's {len(scorer.header)} "
                f"features: {', '.join(missing[:20])}",
                hint="send every feature the guest's model was trained on, by name, in feature_data",
                missing=missing,
            ) from None
    return features


def summed(guest: np.ndarray, replies: Mapping[int, Partials]) -> np.ndarray:
    """The guest's partials plus each host's (by party id), for a summed model."""
    totals = guest.copy()
    for host, reply in replies.items():
        if reply.columns or reply.vectors or reply.sealed:
            raise DataMismatchError(
                f"host {host} answered vectors, but the guest's model sums partial scores",
                hint="publish the same model version on the guest and its hosts (`accord model load`)",
            )
        totals = totals + np.asarray(reply.partials, dtype=np.float64)
    return totals


def host_answers(replies: Mapping[int, Partials], rows: int) -> dict[int, HostAnswers]:
    """Each host's vectors (by party id) as the guest's combining scorer takes them."""
    for host, reply in replies.items():
        if reply.sealed:
            raise DataMismatchError(
                f"host {host} answered sealed ciphertexts, but the guest's model takes its answers in "
                "the clear",
                hint="publish the same model version on the guest and its hosts (`accord model load`)",
            )
    return {
        host: HostAnswers(
            tuple(reply.columns),
            np.asarray(reply.vectors, dtype=np.float64).reshape(rows, len(reply.columns)),
        )
        for host, reply in replies.items()
    }


def lookup_partials(
    tables: TableStore, table: TableName, transform: Mapping[str, Any], part: PartyScorer
) -> dict[str, float]:
    """Sample id → the host's partial for every row of its table, parsed by the training DataTransform."""
    ids, features = _lookup_features(tables, table, transform, part)
    return dict(zip(ids, part.partial(features).tolist(), strict=True))


def lookup_answers(
    tables: TableStore, table: TableName, transform: Mapping[str, Any], part: AnsweringScorer
) -> LookupAnswers:
    """The host's answer vector for every row of its table, parsed by the training DataTransform."""
    ids, features = _lookup_features(tables, table, transform, part)
    values = part.partial(features)
    if values.shape != (len(ids), len(part.columns)):
        raise DataMismatchError(
            f"{part.component} answered {values.shape} values for {len(ids)} rows of {len(part.columns)} "
            "columns",
            hint="this is a bug of the model's scorer; report it with the model",
        )
    return LookupAnswers(part.columns, {sid: row for row, sid in enumerate(ids)}, values)


def lookup_sealed(
    tables: TableStore,
    table: TableName,
    transform: Mapping[str, Any],
    part: SealedAnsweringScorer,
    share: SealedShare,
) -> SealedAnswers:
    """The host's sealed answer (ciphertexts under the guest's key) for every row of its table."""
    ids, features = _lookup_features(tables, table, transform, part)
    # from_dict checks the key; the vector-aware class is what the scorer is promised.
    key = PublicKey(PublicKey.from_dict(share.public_key).n)
    sealed = part.sealed_answers(features, share.share, key)
    if len(sealed) != len(ids):
        raise DataMismatchError(
            f"{part.component} sealed {len(sealed)} answers for {len(ids)} rows",
            hint="this is a bug of the model's scorer; report it with the model",
        )
    return SealedAnswers(part.columns, {sid: row for row, sid in enumerate(ids)}, sealed)


def host_reply(part: PublishedPart, command: PartialScore) -> Partials:
    """A host's answers about the sample ids asked, all of which its lookup table must hold."""
    missing = [sample_id for sample_id in command.sample_ids if not part.knows(sample_id)]
    if missing:
        raise RecordNotFound(
            f"{command.party} has no row for sample id {', '.join(map(repr, missing[:10]))}"
            f"{' and others' if len(missing) > 10 else ''} in its lookup table {part.entry.table}",
            hint="score only sample ids the host's table holds, or load the model with another host table",
            missing=missing[:100],
        )
    if part.sealed is not None:
        if command.seal != part.entry.seal:
            raise ConflictError(
                f"{part.entry.key} answers under the key of another load than the guest asks with "
                "(the model was loaded again meanwhile)",
                hint="retry; if it persists, load the model again (`accord model load` on the guest's site)",
            )
        rows = [part.sealed.rows[sample_id] for sample_id in command.sample_ids]
        return Partials(
            sealed=[part.sealed.ciphertexts[row] for row in rows], columns=list(part.sealed.columns)
        )
    if part.answers is None:
        return Partials(partials=[part.partials[sample_id] for sample_id in command.sample_ids])
    rows = [part.answers.rows[sample_id] for sample_id in command.sample_ids]
    return Partials(
        vectors=part.answers.values[rows].astype(np.float64).tolist(), columns=list(part.answers.columns)
    )


def _lookup_features(
    tables: TableStore, table: TableName, transform: Mapping[str, Any], part: PartyScorer
) -> tuple[list[str], np.ndarray]:
    """Sample ids and rows of features (in the scorer's header order) of a host's lookup table.

    The rows go through the same DataTransform code and model as in a predict job (header, missing
    fill, outlier replace), so a row scores online as it would offline.
    """
    raw = tables.read(table.namespace, table.name)
    columns = raw.table.columns
    # The Reader component's raw dataset, which is what DataTransform parses.
    dataset = Dataset(
        pa.Table.from_arrays(columns, names=[SID, *(f"c{index}" for index in range(1, len(columns)))]),
        "raw",
        header=tuple(raw.header),
        sid_name=raw.sid or "id",
        extra={"delimiter": raw.delimiter, "meta": raw.info.schema.get("meta")},
    )
    model = TransformModel.from_json(transform, component="DataTransform")
    if not model.need_run or model.settings is None:
        raise ArgumentError(
            f"the DataTransform before {part.component} ran with need_run false, so the rows of {table} "
            "have no parsed features to score",
            hint="publish a model whose DataTransform parses the host's rows",
        )
    parsed = read(
        dataset,
        model.settings,
        predict_passes(model),
        header=model.header,
        label_mapping=model.label_mapping,
    )
    absent = [name for name in part.header if name not in parsed.header]
    if absent:
        raise DataMismatchError(
            f"{part.component} reads {', '.join(absent[:20])}, which DataTransform does not output",
            hint="publish a model trained on its DataTransform's output",
        )
    positions = [parsed.header.index(name) for name in part.header]
    features = (
        parsed.features if positions == list(range(len(parsed.header))) else parsed.features[:, positions]
    )
    return [str(sid) for sid in parsed.ids], features
