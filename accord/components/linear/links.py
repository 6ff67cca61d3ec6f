"""What makes HeteroLinR and HeteroPoisson differ: their link, on one partition of a batch.

Module-level functions the engines run (and pickle by name), chosen by the link's name:

- ``linr`` (identity link, half squared error): the host sends [[X_h·w_h]] (and, for the loss,
  [[Σ(X_h·w_h)²]]); the fore-gradient is d = [[wx_h]] + wx_g - y and the loss
  (Σ(wx_g - y)² + Σwx_h² + 2·Σ(wx_g - y)·[[wx_h]]) / 2n.
- ``poisson`` (log link, offset log(exposure)): the host sends [[exp(X_h·w_h)]] (and, for the loss,
  [[X_h·w_h]]), as FATE's host does, so the guest forms μ = [[exp(wx_h)]]·exp(wx_g + b + offset)
  without ever seeing a host's features; d = μ - y and FATE's loss (Σμ - Σy·(wx_g + b + offset + wx_h))/n,
  where Σμ = Σd + Σy.

A prepared guest partition is a blob (see :func:`prepare`): its index, the features (the exposure
column taken out), the labels, the sample weights when a SampleWeight ran upstream, and for Poisson the
offset log(exposure) of each row.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from accord.components.hetero_lr import encoded
from accord.components.hetero_lr.kernels import KeyDict, Selections, _blob, _key, _rows
from accord.components.sdk import Dataset
from accord.computing import Block
from accord.computing.block import concat_batches
from accord.crypto.vector import EncryptedVector, encrypt_vector

LINR, POISSON = "linr", "poisson"
# exp() of more than this overflows a float64; FATE lets it overflow, we clip to stay finite.
_EXP_LIMIT = 700.0
# FATE's safe_log: an exposure of 0 is taken as 1e-7.
_ZERO_EXPOSURE = 1e-7


def _exp(values: np.ndarray) -> np.ndarray:
    result: np.ndarray = np.exp(np.minimum(values, _EXP_LIMIT))
    return result


def inverse_link(link: str, eta: np.ndarray) -> np.ndarray:
    """The prediction from the linear predictor (offset included)."""
    return _exp(eta) if link == POISSON else eta


def feature_columns(header: list[str], exposure: int) -> list[int]:
    return [i for i in range(len(header)) if i != exposure]


def _split_exposure(x: np.ndarray, exposure: int) -> tuple[np.ndarray, np.ndarray | None]:
    """The features without the exposure column, and the offset log(exposure) of each row."""
    if exposure < 0:
        return x, None
    values = x[:, exposure]
    offset = np.log(np.where(values == 0, _ZERO_EXPOSURE, values))
    return np.delete(x, exposure, axis=1), offset


def prepare(meta: Mapping[str, Any], exposure: int, index: int, block: Block) -> Block:
    """A guest partition as numbers: features (exposure taken out), labels, weights, offset."""
    rows = _rows(block, meta)
    x, offset = _split_exposure(rows.features(), exposure)
    sections: dict[str, np.ndarray | bytes] = {"index": np.array([index], dtype=np.int64), "x": x}
    labels = rows.labels()
    if labels is not None:
        sections["y"] = labels
    weights = rows.weights()
    if weights is not None:
        sections["w"] = weights
    if offset is not None:
        sections["offset"] = offset
    return encoded.pack(sections)


def sections_of(block: Block) -> list[tuple[bool, bool]]:
    """Whether a prepared partition has labels, and sample weights."""
    sections = encoded.unpack(_blob(block))
    return [("y" in sections, "w" in sections)]


def _features(block: Block, selections: Selections | None) -> tuple[np.ndarray, dict[str, Any]]:
    sections = encoded.unpack(_blob(block))
    x = encoded.array(sections, "x")
    if selections is not None:
        chosen = selections[int(encoded.array(sections, "index")[0])]
        if chosen is not None:
            x = x[chosen]
            for name in ("y", "w", "offset"):
                if name in sections:
                    sections[name] = encoded.array(sections, name)[chosen]
    return x, sections


def _eta(x: np.ndarray, sections: Mapping[str, Any], coef: np.ndarray, intercept: float | None) -> np.ndarray:
    """The guest's part of the linear predictor: X_g·w_g + b (+ the offset, for Poisson)."""
    eta: np.ndarray = x @ coef + (intercept if intercept is not None else 0.0)
    if "offset" in sections:
        eta = eta + np.asarray(sections["offset"])
    return eta


# ---- a batch on the host ---------------------------------------------------------------------


def host_forward(
    link: str,
    driver: int,
    key: KeyDict,
    weights: np.ndarray,
    selections: Selections,
    with_loss: bool,
    index: int,
    block: Block,
) -> Block:
    public_key = _key(driver, key)
    x, _ = _features(block, selections)
    wx = x @ weights
    parts: dict[str, np.ndarray | bytes] = {}
    if link == POISSON:
        parts["forward"] = encrypt_vector(public_key, _exp(wx)).to_bytes()
        if with_loss:
            parts["wx"] = encrypt_vector(public_key, wx).to_bytes()
    else:
        parts["forward"] = encrypt_vector(public_key, wx).to_bytes()
        if with_loss:
            parts["square"] = encrypt_vector(public_key, np.array([float(np.dot(wx, wx))])).to_bytes()
    return encoded.pack(parts)


# ---- a batch on the guest --------------------------------------------------------------------


def _loss_column(link: str, eta: np.ndarray, y: np.ndarray) -> np.ndarray:
    """What the host's encrypted column is dotted with in the loss's cross term."""
    column: np.ndarray = (-y if link == POISSON else eta - y)[:, None]
    return column


def guest_stats(
    link: str, coef: np.ndarray, intercept: float | None, selections: Selections, block: Block
) -> tuple[float, encoded.Stats | None]:
    """The guest's plain part of the loss summed here, and the stats of the cross term's column."""
    x, sections = _features(block, selections)
    eta, y = _eta(x, sections, coef, intercept), np.asarray(sections["y"], dtype=np.float64)
    plain = float(np.sum(y) - np.sum(y * eta)) if link == POISSON else float(np.sum((eta - y) ** 2))
    return plain, encoded.column_stats(_loss_column(link, eta, y))


def guest_fore(
    link: str,
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
    """The encrypted fore-gradient [[d]] of these rows, its sum and, for the loss, the cross term."""
    public_key = _key(driver, key)
    x, sections = _features(block, selections)
    eta, y = _eta(x, sections, coef, intercept), np.asarray(sections["y"], dtype=np.float64)
    received = encoded.unpack(_blob(forward))
    host = EncryptedVector.from_bytes(encoded.data(received, "forward"), public_key)
    if link == POISSON:
        # μ - y with μ = [[exp(wx_h)]]·exp(wx_g + b + offset); FATE's Poisson ignores sample weights.
        fore = host.multiply(_exp(eta)) - y
        cross_with = (
            EncryptedVector.from_bytes(encoded.data(received, "wx"), public_key) if loss_stats else None
        )
    elif "w" in sections:
        # Weighted least squares: w·(wx - y), the host's part weighed under encryption too.
        weights = encoded.array(sections, "w")
        fore = host.multiply(weights) + weights * (eta - y)
        cross_with = host
    else:
        fore = host + (eta - y)
        cross_with = host
    parts: dict[str, np.ndarray | bytes] = {"fore": fore.to_bytes(), "sum": fore.sum().to_bytes()}
    if "square" in received:
        parts["square"] = received["square"]
    if loss_stats is not None and cross_with is not None:
        cross = encoded.dot(cross_with, _loss_column(link, eta, y), loss_stats, precision)
        parts["cross"] = cross.to_bytes()
    return encoded.pack(parts)


# ---- scores ----------------------------------------------------------------------------------


def _host_wx(hosts: Block) -> np.ndarray:
    return encoded.array(encoded.unpack(_blob(hosts)), "wx")


def scored_labels(link: str, coef: np.ndarray, intercept: float, block: Block, hosts: Block) -> Block:
    """Labels and predictions of a prepared partition (validation metrics need them all)."""
    x, sections = _features(block, None)
    eta = _eta(x, sections, coef, intercept) + _host_wx(hosts)
    return encoded.pack({"y": np.asarray(sections["y"]), "score": inverse_link(link, eta)})


def predictions(
    link: str,
    meta: Mapping[str, Any],
    exposure: int,
    coef: np.ndarray,
    intercept: float,
    data_type: str,
    block: Block,
    hosts: Block,
) -> Block:
    """FATE's regression prediction rows: label, predict_result = predict_score = ŷ, {"label": ŷ}."""
    rows = _rows(block, meta)
    x, offset = _split_exposure(rows.features(), exposure)
    eta = x @ coef + intercept + _host_wx(hosts)
    if offset is not None:
        eta = eta + offset
    predicted = inverse_link(link, eta)
    labels = rows.labels()
    result = Dataset.predictions(
        rows.ids(),
        labels=labels if labels is not None else np.full(len(rows), np.nan),
        predict_result=predicted,
        predict_score=predicted,
        predict_detail=[{"label": float(value)} for value in predicted],
        data_type=data_type,
    ).table
    return concat_batches(result.to_batches(), result.schema)
