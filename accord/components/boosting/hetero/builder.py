"""The guest's tree growth: one level at a time, over its own plain histograms and the hosts'
encrypted ones.

Per level the guest tells each host which rows sit in which node and which nodes' histograms to build
(the smaller child of each split) or derive (the larger one, as parent minus sibling), decrypts what
comes back, picks each node's best split over every party's features, and has the hosts route the rows
of the nodes whose winning split is theirs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from accord.components.boosting.core import split
from accord.components.boosting.core.split import BestSplit, SplitRule
from accord.components.boosting.core.tree import Tree
from accord.components.boosting.hetero import data
from accord.components.boosting.hetero.packing import Packing
from accord.components.sdk import ComponentContext
from accord.crypto import batch, histogram
from accord.crypto.codec import pack_ciphertexts, unpack_ciphertexts
from accord.crypto.keys import PrivateKey

# A node's histograms: g and h sums (features, bins, outputs) and rows (features, bins).
Hist = tuple[np.ndarray, np.ndarray, np.ndarray]
# Which parties may split at a depth: (the guest, each host).
Allowed = Callable[[int], tuple[bool, list[bool]]]


@dataclass
class Grown:
    tree: Tree
    positions: np.ndarray  # the leaf of every row
    host_splits: dict[int, tuple[int, int]] = field(default_factory=dict)  # node -> (host, feature)


@dataclass
class _Open:
    """A node still to split: its rows' sums over the sampled rows."""

    g: np.ndarray
    h: np.ndarray
    count: int


class TreeBuilder:
    def __init__(
        self,
        ctx: ComponentContext[Any],
        private_key: PrivateKey,
        binned: data.Binned,
        *,
        rule: SplitRule,
        max_depth: int,
        use_missing: bool,
        compress: bool,
        hosts: int,
        decimals: int | None = None,
    ) -> None:
        self.decimals = decimals
        self.ctx = ctx
        self.key = private_key
        self.binned = binned
        self.rule = rule
        self.max_depth = max_depth
        self.use_missing = use_missing
        self.compress = compress
        self.hosts = hosts

    def _to_hosts(self, value: Any, tag: str) -> None:
        self.ctx.transfer.remote(value, role="host", tag=tag)

    def _from_hosts(self, tag: str, wanted: list[bool]) -> list[Any]:
        return [
            self.ctx.transfer.get(role="host", tag=f"{tag}.{i}", index=i) if wanted[i] else None
            for i in range(self.hosts)
        ]

    def grow(
        self,
        t: int,
        g: np.ndarray,
        h: np.ndarray,
        rows: np.ndarray | None,
        guest_features: np.ndarray,
        host_features: list[np.ndarray],
        allowed: Allowed,
    ) -> Grown:
        """One tree on gradients ``g``/``h`` (n, outputs); ``rows``: the sampled rows (None: all)."""
        n = g.shape[0]
        sampled = np.arange(n) if rows is None else rows
        any_host = any(any(allowed(d)[1]) for d in range(self.max_depth))
        public_key = self.key.public_key
        packing: Packing | None = None
        start: dict[str, Any] = {"rows": None if rows is None else rows.tolist()}
        for i in range(self.hosts):
            start_i = dict(start, features=host_features[i].tolist())
            if any_host and i == 0:
                both = np.hstack([g[sampled], h[sampled]])
                packing = Packing.plan(both, public_key.key_length, self.compress, self.decimals)
                cts = batch.encrypt(public_key, packing.encode(both))
                start["packing"] = packing.to_json()
                start["cts"] = pack_ciphertexts(cts, public_key.ciphertext_bytes)
                start_i.update(packing=start["packing"], cts=start["cts"])
            self.ctx.transfer.remote(start_i, role="host", tag=f"tree.{t}", index=i)

        tree = Tree()
        outputs = g.shape[1]
        root = tree.add(0, count=len(sampled))
        positions = np.zeros(n, dtype=np.int32)
        opened = {root.id: _Open(g[sampled].sum(0), h[sampled].sum(0), len(sampled))}
        grown = Grown(tree, positions)
        # Children pairs of last level's splits: (parent, left, right).
        pairs: list[tuple[int, int, int]] = []
        in_sample = np.zeros(n, dtype=bool)
        in_sample[sampled] = True
        asked_before = [False] * self.hosts
        previous: list[dict[int, Hist]] = [{} for _ in range(self.hosts)]
        levels = 0
        for depth in range(self.max_depth):
            guest_ok, hosts_ok = allowed(depth)
            splittable = [nid for nid, o in opened.items() if o.count >= self.rule.min_sample_split]
            if not splittable:
                break
            ask = [ok and bool(len(host_features[i])) for i, ok in enumerate(hosts_ok)]
            derived: list[list[tuple[int, int, int]]] = []
            for i in range(self.hosts):
                request, derive = self._request(
                    splittable, pairs if asked_before[i] else [], opened, positions
                )
                if not ask[i]:
                    request["build"], derive = [], []
                derived.append(derive)
                self.ctx.transfer.remote(request, role="host", tag=f"level.{t}.{depth}", index=i)
            asked_before = ask
            levels += 1
            sent = self._from_hosts(f"hist.{t}.{depth}", [True] * self.hosts)
            hists: list[dict[int, Hist]] = []
            for i in range(self.hosts):
                mine: dict[int, Hist] = {}
                for nid, cells in sent[i].items():
                    assert packing is not None
                    mine[int(nid)] = self._decrypt(cells, packing, outputs)
                for nid, parent, sibling in derived[i]:
                    mine[nid] = _minus(previous[i][parent], mine[sibling])
                hists.append(mine)
            previous = hists
            winners: dict[int, tuple[str, int, BestSplit]] = {}
            for nid in splittable:
                node_open = opened[nid]
                candidates: list[tuple[str, int, BestSplit]] = []
                if guest_ok and len(guest_features):
                    mask = in_sample & (positions == nid)
                    found = self._best(
                        split.histogram(
                            self.binned.bins[mask][:, guest_features], g[mask], h[mask], self.binned.width
                        ),
                        node_open,
                    )
                    if found is not None:
                        candidates.append(("guest", -1, found))
                for i in range(self.hosts):
                    if ask[i] and nid in hists[i]:
                        found = self._best(hists[i][nid], node_open)
                        if found is not None:
                            candidates.append(("host", i, found))
                if candidates:
                    winners[nid] = max(candidates, key=lambda c: c[2].gain)
            host_asks: list[dict[int, tuple[int, int, bool]]] = [{} for _ in range(self.hosts)]
            for nid, (party, i, best) in winners.items():
                if party == "host":
                    host_asks[i][nid] = (best.feature, best.bin, best.missing_left)
            for i in range(self.hosts):
                self.ctx.transfer.remote(host_asks[i], role="host", tag=f"splits.{t}.{depth}", index=i)
            routes = self._from_hosts(f"routes.{t}.{depth}", [True] * self.hosts)
            pairs = []
            next_open: dict[int, _Open] = {}
            for nid, (party, i, best) in winners.items():
                node = tree.nodes[nid]
                in_node = np.flatnonzero(positions == nid)
                if party == "guest":
                    feature = int(guest_features[best.feature])
                    column = self.binned.bins[in_node, feature]
                    left = np.where(column == self.binned.missing_bin, best.missing_left, column <= best.bin)
                    node.party, node.feature, node.bin = "guest", feature, best.bin
                    node.threshold = self.binned.threshold(feature, best.bin)
                else:
                    left = data.unpack_bits(routes[i][nid], len(in_node))
                    node.party = f"host:{self.ctx.party_ids('host')[i]}"
                    grown.host_splits[nid] = (i, int(host_features[i][best.feature]))
                node.missing_left, node.gain, node.is_leaf = best.missing_left, best.gain, False
                o = opened[nid]
                lchild = tree.add(depth + 1, count=best.left_count)
                rchild = tree.add(depth + 1, count=o.count - best.left_count)
                node.left, node.right = lchild.id, rchild.id
                positions[in_node[left]] = lchild.id
                positions[in_node[~left]] = rchild.id
                next_open[lchild.id] = _Open(best.left_g, best.left_h, best.left_count)
                next_open[rchild.id] = _Open(o.g - best.left_g, o.h - best.left_h, o.count - best.left_count)
                pairs.append((nid, lchild.id, rchild.id))
            for nid, o in opened.items():
                if nid not in winners:
                    self._leaf(tree, nid, o)
            opened = next_open
            if not opened:
                break
        for nid, o in opened.items():
            self._leaf(tree, nid, o)
        self._to_hosts({"done": True}, f"level.{t}.{levels}")
        return grown

    def _leaf(self, tree: Tree, nid: int, o: _Open) -> None:
        weight = np.asarray(split.leaf_weight(o.g, o.h, self.rule)).reshape(-1)
        node = tree.nodes[nid]
        node.is_leaf = True
        node.weight = float(weight[0]) if weight.size == 1 else [float(w) for w in weight]

    def _request(
        self,
        splittable: list[int],
        pairs: list[tuple[int, int, int]],
        opened: dict[int, _Open],
        positions: np.ndarray,
    ) -> tuple[dict[str, Any], list[tuple[int, int, int]]]:
        """What to ask a host for, and the (node, parent, sibling) histograms the guest derives itself:
        of two children it asks for the smaller and subtracts it from their parent's in plaintext."""
        wanted = set(splittable)
        build: list[int] = [] if pairs else list(splittable)
        derive: list[tuple[int, int, int]] = []
        for parent, left, right in pairs:
            if left not in wanted and right not in wanted:
                continue
            small, large = (left, right) if opened[left].count <= opened[right].count else (right, left)
            build.append(small)
            if large in wanted:
                derive.append((large, parent, small))
        return {"positions": positions.astype(np.int32).tobytes(), "build": build}, derive

    def _decrypt(self, sent: dict[str, Any], packing: Packing, outputs: int) -> Hist:
        return decrypted_histogram(self.key, sent, packing, outputs)

    def _best(self, hist: Hist, o: _Open) -> BestSplit | None:
        gh, hh, ch = hist
        last = gh.shape[1] - 1  # every party's missing-value bin is its last
        missing = (gh[:, last], hh[:, last], ch[:, last]) if self.use_missing else None
        return split.best_split(
            gh[:, :last], hh[:, :last], ch[:, :last], o.g, o.h, o.count, self.rule, missing=missing
        )


def decrypted_histogram(
    private_key: PrivateKey, sent: dict[str, Any], packing: Packing, outputs: int
) -> Hist:
    """A host's node histogram (its packed filled cells and counts) as g and h sums per (feature, bin)
    of each output, with the counts."""
    counts = np.asarray(sent["counts"])
    features, width = counts.shape
    cts = unpack_ciphertexts(sent["cts"], private_key.public_key.ciphertext_bytes)
    plains = batch.decrypt(private_key, cts)
    filled = np.flatnonzero(counts.reshape(-1) > 0)
    width_ = packing.width
    values = histogram.split_packed(plains, packing.cell_bits, packing.bins_per_ct, len(filled) * width_)
    cells = [0] * (features * width * width_)
    for index, cell in enumerate(filled.tolist()):
        cells[cell * width_ : (cell + 1) * width_] = values[index * width_ : (index + 1) * width_]
    sums = packing.decode(cells, counts.reshape(-1)).reshape(features, width, 2 * outputs)
    return sums[..., :outputs], sums[..., outputs:], counts


def _minus(parent: Hist, child: Hist) -> Hist:
    return parent[0] - child[0], parent[1] - child[1], parent[2] - child[2]
