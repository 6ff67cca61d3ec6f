"""The rows an SSHE party trains or predicts on, the partial scores that cross, and the output rows.

Guest and host hold the same ids (one Intersection's output); both sort them, so row ``i`` is the
same sample on both sides and nothing but counts has to be agreed.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

import numpy as np

from accord.components.hetero_lr import common
from accord.components.sdk import ComponentContext, Dataset
from accord.components.sshe import shares
from accord.crypto import batch
from accord.crypto.keys import PrivateKey, PublicKey, rerandomize
from accord.errors import DataFormatError, DataMismatchError

LOGISTIC, LINEAR = "logistic", "linear"


@dataclass(frozen=True)
class Rows:
    data: Dataset
    features: np.ndarray
    labels: np.ndarray | None
    # The guest's sample weights (from SampleWeight), scaled to a mean of 1; None: unweighted.
    weights: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.data)


def load(ctx: ComponentContext[Any], slot: str, *, link: str, need_labels: bool) -> Rows | None:
    data = ctx.input_dataset(slot)
    if data is None:
        return None
    ordered = data.take(np.argsort(data.ids().astype(str), kind="stable"))
    labels = ordered.labels() if ctx.role == "guest" else None
    if ctx.role == "guest" and need_labels:
        if labels is None:
            raise DataFormatError(
                f"{ctx.component}: the guest's {slot} has no label",
                hint="set with_label: true for the guest in DataTransform",
            )
        if link == LOGISTIC:
            common.check_binary(set(np.unique(labels).tolist()), ctx.component)
    weights = ordered.weights() if ctx.role == "guest" else None
    if weights is not None:
        # FATE scales the sample weights to a mean of 1 before training.
        weights = weights * (len(weights) / float(np.sum(weights)))
    return Rows(ordered, ordered.features(), labels, weights)


def agree_count(ctx: ComponentContext[Any], rows: Rows | None, tag: str) -> None:
    """Refuse to go on when guest and host hold different numbers of rows."""
    count = -1 if rows is None else len(rows)
    peer = "host" if ctx.role == "guest" else "guest"
    ctx.transfer.remote(count, role=peer, tag=f"count.{tag}", index=0)
    theirs = int(ctx.transfer.get(role=peer, tag=f"count.{tag}", index=0))
    if theirs != count:
        raise DataMismatchError(
            f"{ctx.component}: the guest and the host have {count if ctx.role == 'guest' else theirs} "
            f"and {theirs if ctx.role == 'guest' else count} rows of {tag}",
            hint="feed both parties the output of the same Intersection",
        )


def design(features: np.ndarray, with_intercept: bool) -> np.ndarray:
    """The features with a column of ones for the intercept (the guest's, when it fits one)."""
    if not with_intercept:
        return features
    return np.hstack([features, np.ones((features.shape[0], 1))])


def scores(link: str, linear: np.ndarray) -> np.ndarray:
    return common.sigmoid(linear) if link == LOGISTIC else linear


def predictions(link: str, rows: Rows, linear: np.ndarray, threshold: float, data_type: str) -> Dataset:
    values = scores(link, linear)
    if link == LOGISTIC:
        return common.predictions(rows.data, values, threshold, data_type)
    labels = rows.labels
    return Dataset.predictions(
        rows.data.ids(),
        labels=labels if labels is not None else np.full(len(rows), np.nan),
        predict_result=values,
        predict_score=values,
        predict_detail=[{"label": float(v)} for v in values],
        data_type=data_type,
    )


# ---- the host's partial scores ------------------------------------------------------------------


def send_plain_partial(
    ctx: ComponentContext[Any], features: np.ndarray, weights: np.ndarray, tag: str
) -> None:
    """Respectively: the host's X_h·w_h in the clear, as HeteroLR's host sends it for scoring."""
    ctx.transfer.remote(features @ weights, role="guest", tag=f"partial.{tag}", index=0)


def send_encrypted_partial(
    ctx: ComponentContext[Any], features: np.ndarray, key: PublicKey, weights: list[int], tag: str
) -> None:
    """Encrypted_reveal_in_host: [[X_h·w_h]] under the guest's key from the host's encrypted weights.

    The weights decrypt to their ring value plus a multiple of 2^K, so the guest reduces the sum mod
    2^K; the random multiple of 2^K added here hides which multiple that is.
    """
    exponents = np.ascontiguousarray(shares.plain_matrix(features).T)
    products = batch.products(key, weights, exponents) if len(features) else []
    n, nsquare = key.n, key.nsquare
    wrapped = [c * (1 + (shares.RING * secrets.randbits(64)) * n) % nsquare for c in products]
    ctx.transfer.remote(
        [int(c) for c in rerandomize(key, wrapped)], role="guest", tag=f"partial.{tag}", index=0
    )


def receive_partial(
    ctx: ComponentContext[Any], count: int, tag: str, private_key: PrivateKey | None
) -> np.ndarray:
    """The host's partial scores of ``count`` rows (decrypted with ``private_key`` when encrypted)."""
    received = ctx.transfer.get(role="host", tag=f"partial.{tag}", index=0)
    if private_key is None:
        partial = np.asarray(received, dtype=np.float64)
    else:
        n = private_key.public_key.n
        residues = private_key.decrypt_residues([int(c) for c in received])
        ring = np.array([(m - n if m > n // 2 else m) % shares.RING for m in residues], dtype=object)
        partial = shares.decode(ring, 2 * shares.FRACTION_BITS)
    if len(partial) != count:
        raise DataMismatchError(
            f"{ctx.component}: the host scored {len(partial)} rows, the guest has {count}",
            hint="feed both parties the output of the same Intersection",
        )
    return partial
