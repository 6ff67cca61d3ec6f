"""The host's side of HeteroSecureBoost: encrypted histograms of its features, and its own splits.

It receives each tree's encrypted gradients and hessians, sums them per bin of each of its features
by ciphertext multiplication (the larger child of a split as parent minus the smaller one), packs
several bins into one ciphertext and sends them (with sparse_optimization, a feature's bin of 0 is
the node's total less its other bins, so only rows away from 0 are added). It learns which of its
(feature, bin) splits won and which rows sit in which node, never a label, a gradient or a guest
split; its thresholds stay here.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from accord.components.boosting.hetero import data
from accord.components.boosting.hetero.packing import Packing
from accord.components.boosting.hetero.params import HeteroSecureBoostParam
from accord.components.sdk import ComponentContext
from accord.crypto import histogram
from accord.crypto.codec import pack_ciphertexts, unpack_ciphertexts
from accord.crypto.keys import PublicKey
from accord.errors import DataMismatchError


class HostBooster:
    def __init__(self, ctx: ComponentContext[HeteroSecureBoostParam]) -> None:
        self.ctx = ctx
        self.param = ctx.params
        self.index = ctx.party_index

    def _get(self, tag: str) -> Any:
        return self.ctx.transfer.get(role="guest", tag=tag, index=0)

    def _send(self, value: Any, tag: str) -> None:
        self.ctx.transfer.remote(value, role="guest", tag=f"{tag}.{self.index}", index=0)

    def fit(self) -> dict[str, Any]:
        ctx, param = self.ctx, self.param
        train = data.train_dataset(ctx)
        validate = ctx.input_dataset("validate_data")
        setup = self._get("setup")
        problem = ""
        try:
            train = data.aligned(train, setup["ids"], "train", ctx.component)
            if setup["valid_ids"] is not None:
                if validate is None:
                    raise DataMismatchError(
                        f"{ctx.component}: the guest validates but this host has no validate_data input"
                    )
                validate = data.aligned(validate, setup["valid_ids"], "validate", ctx.component)
        except DataMismatchError as error:
            problem = str(error)
        self._send({"problem": problem, "features": len(train.header)}, "aligned")
        if problem:
            raise DataMismatchError(problem, hint="feed every party the output of the same Intersection")
        key = PublicKey.from_dict(setup["key"])
        zero_missing = bool(setup["zero_as_missing"])
        values = data.features_of(train, zero_missing)
        binned = data.quantile_bins(values, param.bin_num, param.binning_error)
        # sparse_optimization: each feature's bin of 0 is derived from a node's total, not summed.
        zero_bins = binned.zero_bins(zero_missing) if param.sparse_optimization else None
        valid_values = (
            data.features_of(validate, zero_missing)
            if validate is not None and setup["valid_ids"] is not None
            else None
        )
        trees: list[dict[str, Any]] = []
        models = ctx.input_models()
        if models:
            # Warm start: the guest scores the training rows with the trees so far first.
            trees = list(models[0]["param"]["trees"])
            self._send(predict_decisions(models[0]["param"], values), "warm")
        t = len(trees)
        while True:
            ctx.check_cancelled()
            start = self._get(f"tree.{t}")
            if start.get("stop"):
                break
            own = self._tree(t, start, key, binned, zero_bins)
            trees.append({str(node_id): split for node_id, split in own.items()})
            if valid_values is not None:
                self._send(_decisions(own, valid_values), f"valid.{t}")
            t += 1
        return {
            "header": list(train.header),
            "trees": trees,
            "zero_as_missing": zero_missing,
        }

    def _tree(
        self,
        t: int,
        start: dict[str, Any],
        key: PublicKey,
        binned: data.Binned,
        zero_bins: np.ndarray | None,
    ) -> dict[int, dict[str, Any]]:
        """One tree: histograms per level as the guest asks, and the routes of the splits it picks here."""
        packing = Packing.from_json(start["packing"]) if start.get("packing") else None
        cts = unpack_ciphertexts(start["cts"], key.ciphertext_bytes) if start.get("cts") else []
        rows = np.asarray(start["rows"], dtype=np.int64) if start.get("rows") is not None else None
        features = np.asarray(start["features"], dtype=np.int64)
        count = binned.bins.shape[0]
        sampled = np.arange(count) if rows is None else rows
        own: dict[int, dict[str, Any]] = {}
        bins = binned.bins[:, features]
        tree_zero_bins = None if zero_bins is None else zero_bins[features]
        depth = 0
        while True:
            request = self._get(f"level.{t}.{depth}")
            if request.get("done"):
                break
            positions = np.frombuffer(request["positions"], dtype=np.int32)
            sampled_positions = positions[sampled]
            sent: dict[int, dict[str, Any]] = {}
            for node in request["build"]:
                assert packing is not None
                chosen = np.flatnonzero(sampled_positions == node)
                node_cts = [
                    c for r in chosen.tolist() for c in cts[r * packing.width : (r + 1) * packing.width]
                ]
                sent[node] = node_histogram(
                    key, packing, node_cts, bins[sampled[chosen]], binned.width, tree_zero_bins
                )
            self._send(sent, f"hist.{t}.{depth}")
            splits = self._get(f"splits.{t}.{depth}")
            routes: dict[int, bytes] = {}
            for node, (column, bin_, missing_left) in splits.items():
                feature = int(features[column])
                in_node = positions == node
                column_bins = binned.bins[in_node, feature]
                left = np.where(column_bins == binned.missing_bin, missing_left, column_bins <= bin_)
                routes[node] = data.pack_bits(left)
                own[int(node)] = {
                    "feature": feature,
                    "bin": int(bin_),
                    "threshold": binned.threshold(feature, int(bin_)),
                    "missing_left": bool(missing_left),
                }
            self._send(routes, f"routes.{t}.{depth}")
            depth += 1
        return own


def node_histogram(
    key: PublicKey,
    packing: Packing,
    node_cts: list[int],
    node_bins: np.ndarray,
    bin_width: int,
    zero_bins: np.ndarray | None = None,
) -> dict[str, Any]:
    """One node's encrypted histogram as sent to the guest: its filled cells packed, and the rows per
    (feature, bin). With ``zero_bins`` (sparse_optimization) a feature's rows in its bin of 0 are not
    added; that bin is the node's total less the feature's other bins (the same plaintexts)."""
    if zero_bins is None:
        cells = histogram.grouped_sums(key, node_cts, packing.width, node_bins, bin_width)
    else:
        cells = histogram.grouped_sums_sparse(key, node_cts, packing.width, node_bins, bin_width, zero_bins)
    counts = np.zeros((node_bins.shape[1], bin_width), dtype=np.int64)
    for column in range(node_bins.shape[1]):
        counts[column] = np.bincount(node_bins[:, column], minlength=bin_width)
    # Empty cells hold zero: the guest knows them from the counts, so they are not sent.
    filled = np.flatnonzero(np.repeat(counts.reshape(-1) > 0, packing.width)).tolist()
    packed = histogram.compress(key, [cells[i] for i in filled], packing.cell_bits, packing.bins_per_ct)
    return {"cts": pack_ciphertexts(packed, key.ciphertext_bytes), "counts": counts}


def _decisions(own: dict[int, dict[str, Any]], values: np.ndarray) -> dict[int, bytes]:
    """Go-left bits of every row at each of this host's nodes of one tree."""
    decided: dict[int, bytes] = {}
    for node_id, split in own.items():
        column = values[:, split["feature"]]
        threshold = np.inf if split["threshold"] is None else split["threshold"]
        left = np.where(np.isnan(column), split["missing_left"], column <= threshold)
        decided[node_id] = data.pack_bits(left)
    return decided


def predict_decisions(model: dict[str, Any], values: np.ndarray) -> list[dict[int, bytes]]:
    """The host's go-left bits for every node of every tree it owns, for a predict job."""
    return [_decisions({int(k): v for k, v in tree.items()}, values) for tree in model["trees"]]
