"""What HeteroLR computes on one partition: module-level functions the engines run (and pickle by name).

A party's training rows become, once, a blob per partition (:func:`prepare`): its index, the
feature matrix and, on the guest, the labels as ±1, so that each pass of an iteration reads numbers
instead of decoding Arrow rows again. Batches select rows per partition: ``selections[i]`` are the
batch's row positions within partition ``i`` (None: all of them).

Crypto kernels run where the engine puts them: in an engine worker (a local pool process, a Spark
executor), where partitions are the parallelism and Paillier stays in that process; in the task's
own process (a one-partition table), where the crypto pool may still spread a big batch over cores.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping
from typing import Any

import numpy as np
import pyarrow as pa

from accord.components.hetero_lr import encoded
from accord.components.hetero_lr.common import sigmoid
from accord.components.sdk import Dataset
from accord.computing import Block
from accord.computing.block import concat_batches
from accord.crypto import pool as crypto_pool
from accord.crypto.paillier import PublicKey
from accord.crypto.vector import EncryptedVector, encrypt_vector
from accord.errors import DataFormatError
from accord.federation.codec import public_key_from_dict

Selections = tuple[np.ndarray | None, ...]
KeyDict = Mapping[str, str]
_LOG2 = float(np.log(2.0))


def _blob(block: Block) -> bytes:
    if not isinstance(block, bytes):
        raise DataFormatError("a HeteroLR partition is rows where a blob was expected")
    return block


def _batch(block: Block) -> pa.RecordBatch:
    if isinstance(block, bytes):
        raise DataFormatError("a HeteroLR partition is a blob where rows were expected")
    return block


def _key(driver: int, key: KeyDict) -> PublicKey:
    # In an engine worker the partitions are the parallelism: Paillier stays in this process.
    if os.getpid() != driver and crypto_pool.parallelism() != 1:
        crypto_pool.set_parallelism(1)
    found: PublicKey = public_key_from_dict(key)
    return found


def _rows(block: Block, meta: Mapping[str, Any]) -> Dataset:
    return Dataset.of(pa.Table.from_batches([_batch(block)]), meta)


# ---- once per table -------------------------------------------------------------------------


def partition_info(block: Block) -> list[tuple[int, str]]:
    """This partition's row count and a digest of its sids in order (the alignment check)."""
    sids = _batch(block).column("sid").to_pylist()
    digest = hashlib.sha256("\x00".join(str(sid) for sid in sids).encode()).hexdigest()
    return [(len(sids), digest)]


def prepare(meta: Mapping[str, Any], with_label: bool, index: int, block: Block) -> Block:
    rows = _rows(block, meta)
    sections: dict[str, np.ndarray | bytes] = {
        "index": np.array([index], dtype=np.int64),
        "x": rows.features(),
    }
    if with_label:
        labels = rows.labels()
        if labels is not None:
            sections["y"] = labels
        weights = rows.weights()
        if weights is not None:
            # A SampleWeight upstream: the guest weighs its rows' part of the fore-gradient (below).
            sections["w"] = weights
    return encoded.pack(sections)


def label_classes(block: Block) -> list[set[float] | None]:
    """The label values of a prepared partition (None: its rows have no label column)."""
    sections = encoded.unpack(_blob(block))
    return [set(np.unique(encoded.array(sections, "y")).tolist()) if "y" in sections else None]


def classes_of(found: list[set[float] | None]) -> set[float] | None:
    """Every label value over the partitions, or None when the rows have no label."""
    if any(part is None for part in found):
        return None
    return set().union(*(part for part in found if part is not None))


def _features(block: Block, selections: Selections | None) -> tuple[np.ndarray, dict[str, Any]]:
    sections = encoded.unpack(_blob(block))
    x = encoded.array(sections, "x")
    if selections is not None:
        chosen = selections[int(encoded.array(sections, "index")[0])]
        if chosen is not None:
            x = x[chosen]
            for name in ("y", "w"):
                if name in sections:
                    sections[name] = encoded.array(sections, name)[chosen]
    return x, sections


def _signed(sections: Mapping[str, Any]) -> np.ndarray:
    signed: np.ndarray = 2.0 * np.asarray(sections["y"], dtype=np.float64) - 1.0
    return signed


def x_stats(selections: Selections, block: Block) -> encoded.Stats:
    return encoded.column_stats(_features(block, selections)[0])


# ---- a batch on the host ---------------------------------------------------------------------


def host_forward(
    driver: int,
    key: KeyDict,
    weights: np.ndarray,
    selections: Selections,
    with_square: bool,
    index: int,
    block: Block,
) -> Block:
    """[[0.25·X_h·w_h]] of the batch's rows in this partition and, for the guest's loss,
    [[Σ(X_h·w_h)²]] over them (encrypted here: the guest adds the partitions' sums)."""
    public_key = _key(driver, key)
    x, _ = _features(block, selections)
    wx = x @ weights
    parts: dict[str, np.ndarray | bytes] = {"forward": encrypt_vector(public_key, 0.25 * wx).to_bytes()}
    if with_square:
        parts["square"] = encrypt_vector(public_key, np.array([float(np.dot(wx, wx))])).to_bytes()
    return encoded.pack(parts)


def host_gradient(
    driver: int,
    key: KeyDict,
    selections: Selections,
    stats: encoded.Stats,
    precision: int | None,
    block: Block,
    fore: Block,
) -> Block:
    """This partition's [[X_h^T·d]] from the guest's encrypted fore-gradient of its rows."""
    public_key = _key(driver, key)
    x, _ = _features(block, selections)
    vector = EncryptedVector.from_bytes(_blob(fore), public_key)
    return encoded.dot(vector, x, stats, precision).to_bytes()


# ---- a batch on the guest --------------------------------------------------------------------


def _guest_wx(x: np.ndarray, coef: np.ndarray, intercept: float | None) -> np.ndarray:
    wx: np.ndarray = x @ coef + (intercept if intercept is not None else 0.0)
    return wx


def loss_coefficients(wx: np.ndarray, signed: np.ndarray) -> np.ndarray:
    coefficients: np.ndarray = (4.0 * (-0.5 * signed + 0.25 * wx))[:, None]
    return coefficients


def guest_stats(
    coef: np.ndarray, intercept: float | None, selections: Selections, block: Block
) -> tuple[float, encoded.Stats | None]:
    """The plain part of the Taylor loss summed here, and the stats of the cross term's column."""
    x, sections = _features(block, selections)
    wx, signed = _guest_wx(x, coef, intercept), _signed(sections)
    plain = float(np.sum(_LOG2 - 0.5 * signed * wx + 0.125 * wx**2))
    return plain, encoded.column_stats(loss_coefficients(wx, signed))


def add_forwards(driver: int, key: KeyDict, left: Block, right: Block) -> Block:
    """Two hosts' [[0.25·X_h·w_h]] of the same rows, added (several hosts: no loss, no squares)."""
    public_key = _key(driver, key)
    first = EncryptedVector.from_bytes(encoded.data(encoded.unpack(_blob(left)), "forward"), public_key)
    second = EncryptedVector.from_bytes(encoded.data(encoded.unpack(_blob(right)), "forward"), public_key)
    return encoded.pack({"forward": (first + second).to_bytes()})


def guest_fore(
    driver: int,
    key: KeyDict,
    coef: np.ndarray,
    intercept: float | None,
    selections: Selections,
    loss_stats: encoded.Stats | None,
    precision: int | None,
    block: Block,
    forward: Block,
) -> Block:
    """The fore-gradient [[d]] = [[0.25·X_h·w_h]] + 0.25·wx_g - 0.5·y of these rows, its sum (the
    intercept's gradient) and, for the loss, [[Σ coefficient·0.25·X_h·w_h]]."""
    public_key = _key(driver, key)
    x, sections = _features(block, selections)
    wx, signed = _guest_wx(x, coef, intercept), _signed(sections)
    received = encoded.unpack(_blob(forward))
    host = EncryptedVector.from_bytes(encoded.data(received, "forward"), public_key)
    plain = 0.25 * wx - 0.5 * signed
    if "w" in sections:
        # FATE 1.11 with sample weights: the guest's half of d, 0.25·wx_g - 0.5·y, times the row's
        # weight; the hosts' 0.25·X_h·w_h is added as it is (the loss stays unweighted, as FATE's).
        plain = plain * encoded.array(sections, "w")
    fore = host + plain
    parts: dict[str, np.ndarray | bytes] = {"fore": fore.to_bytes(), "sum": fore.sum().to_bytes()}
    if "square" in received:
        parts["square"] = received["square"]
    if loss_stats is not None:
        cross = encoded.dot(host, loss_coefficients(wx, signed), loss_stats, precision)
        parts["cross"] = cross.to_bytes()
    return encoded.pack(parts)


def fore_only(index: int, block: Block) -> Block:
    return encoded.data(encoded.unpack(_blob(block)), "fore")


def guest_gradient(
    driver: int,
    key: KeyDict,
    selections: Selections,
    stats: encoded.Stats,
    precision: int | None,
    block: Block,
    fore: Block,
) -> Block:
    """This partition's [[X_g^T·d]], with the fore pass's other sections passed on."""
    public_key = _key(driver, key)
    x, _ = _features(block, selections)
    parts = encoded.unpack(_blob(fore))
    vector = EncryptedVector.from_bytes(encoded.data(parts, "fore"), public_key)
    parts["gradient"] = encoded.dot(vector, x, stats, precision).to_bytes()
    del parts["fore"]
    return encoded.pack(parts)


def listed(block: Block) -> list[bytes]:
    return [_blob(block)]


def concat(left: list[Any], right: list[Any]) -> list[Any]:
    return left + right


def add_loss_parts(
    left: tuple[float, encoded.Stats | None], right: tuple[float, encoded.Stats | None]
) -> tuple[float, encoded.Stats | None]:
    return left[0] + right[0], encoded.merge_stats(left[1], right[1])


# ---- scores ----------------------------------------------------------------------------------


def rows_wx(meta: Mapping[str, Any], weights: np.ndarray, index: int, block: Block) -> Block:
    """X·w of every row of a partition of rows (a host's part of a prediction)."""
    return encoded.pack({"wx": _rows(block, meta).features() @ weights})


def add_wx(left: Block, right: Block) -> Block:
    total = encoded.array(encoded.unpack(_blob(left)), "wx") + encoded.array(
        encoded.unpack(_blob(right)), "wx"
    )
    return encoded.pack({"wx": total})


def _scores(
    x: np.ndarray, coef: np.ndarray, intercept: float, late_intercept: bool, hosts: Block
) -> np.ndarray:
    # Training adds the intercept before the hosts' parts, predict after them; kept for equal results.
    wx = x @ coef + (0.0 if late_intercept else intercept)
    wx = wx + encoded.array(encoded.unpack(_blob(hosts)), "wx")
    if late_intercept:
        wx = wx + intercept
    return sigmoid(wx)


def scored_labels(coef: np.ndarray, intercept: float, block: Block, hosts: Block) -> Block:
    """Labels and scores of a prepared partition (validation metrics need them all)."""
    x, sections = _features(block, None)
    return encoded.pack({"y": np.asarray(sections["y"]), "score": _scores(x, coef, intercept, False, hosts)})


def predictions(
    meta: Mapping[str, Any],
    coef: np.ndarray,
    intercept: float,
    late_intercept: bool,
    threshold: float,
    data_type: str,
    block: Block,
    hosts: Block,
) -> Block:
    """FATE's prediction rows for this partition (sid, label, result, score, detail, type)."""
    rows = _rows(block, meta)
    return prediction_rows(
        rows, _scores(rows.features(), coef, intercept, late_intercept, hosts), threshold, data_type
    )


def prediction_rows(rows: Dataset, scores: np.ndarray, threshold: float, data_type: str) -> Block:
    """FATE's prediction rows of ``rows`` scored ``scores``, as one batch."""
    labels = rows.labels()
    result = Dataset.predictions(
        rows.ids(),
        labels=labels if labels is not None else np.full(len(rows), np.nan),
        predict_result=(scores > threshold).astype(np.float64),
        predict_score=scores,
        predict_detail=[{"0": 1.0 - float(score), "1": float(score)} for score in scores],
        data_type=data_type,
    ).table
    return concat_batches(result.to_batches(), result.schema)
