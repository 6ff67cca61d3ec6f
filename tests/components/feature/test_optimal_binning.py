"""FATE's optimal binning criterion against plain references written here, not against ourselves.

Two references for the merge methods (iv, gini, chi_square):
- ``_fate_like``: a straightforward object-and-list rendering of FATE 1.11's procedure (Bucket
  objects in a dict keyed by bucket number, a list-based binary heap with FATE's sift rules, removal
  by a Python ``enumerate`` scan over the list it mutates, renumbering by sorting on the left bound).
  It must agree exactly, ties and NaN scores included.
- ``_greedy``: brute force of the criterion without any heap: with no mixture / min constraint,
  repeatedly merge the allowed adjacent pair with the lowest score. Agrees whenever scores are
  distinct (random large counts).
And ``_ks_plain`` for ks. Data: seeded random count vectors and the real columns of
breast_hetero_guest.csv (label y) in numpy quantile bins of 20-100.
"""

from __future__ import annotations

import itertools
import math
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from accord.components.feature.binning.optimal import optimal_bins, optimal_split_points
from accord.errors import ComponentParameterError, DataFormatError

DATA = Path(__file__).resolve().parents[3].parent / "shared" / "fate" / "examples" / "data"
MERGE = ("iv", "gini", "chi_square")
ADJ = 0.5


# ---- scores, written out as FATE's formulas ----------------------------------------------------


def _iv_of(e: int, n: int, et: int, nt: int) -> float:
    if e == 0 or n == 0:
        er, nr = 1.0 * (e + ADJ) / max(et, 1), 1.0 * (n + ADJ) / max(nt, 1)
    else:
        er, nr = 1.0 * e / max(et, 1), 1.0 * n / max(nt, 1)
    return (nr - er) * math.log(nr / er)


def _gini_of(e: int, n: int) -> float:
    t = e + n
    return 0.0 if t == 0 else 1 - (1.0 * e / t) ** 2 - (1.0 * n / t) ** 2


def _pair_score(metric: str, a: tuple[int, int], b: tuple[int, int], et: int, nt: int) -> float:
    e, n = a[0] + b[0], a[1] + b[1]
    if e + n == 0:
        return -math.inf
    if metric == "iv":
        if e == 0 or n == 0:
            er, nr = 1.0 * (e + ADJ) / max(et, 1), 1.0 * (n + ADJ) / max(nt, 1)
        else:
            er, nr = 1.0 * e / max(et, 1), 1.0 * n / max(nt, 1)
        return _iv_of(*a, et, nt) + _iv_of(*b, et, nt) - (er - nr) * math.log(er / nr)
    if metric == "gini":
        return _gini_of(e, n) - _gini_of(*a) - _gini_of(*b)
    if e == 0 or n == 0:
        return -math.inf
    t = e + n
    cells = [
        (a[0], (sum(a) / t) * e),
        (a[1], (sum(a) / t) * n),
        (b[0], (sum(b) / t) * e),
        (b[1], (sum(b) / t) * n),
    ]
    with np.errstate(all="ignore"):
        out = np.square(cells[0][0] - cells[0][1]) / cells[0][1]
        for actual, expected in cells[1:]:
            out = out + np.square(actual - expected) / expected
    return float(out)


# ---- reference 1: FATE's procedure, straightforwardly -------------------------------------------


class _Bucket:
    def __init__(self, idx: int, e: int, n: int, first: int, last: int) -> None:
        self.idx, self.e, self.n, self.first, self.last = idx, e, n, first, last
        self.left: int | None = idx - 1
        self.right: int | None = idx + 1

    @property
    def total(self) -> int:
        return self.e + self.n

    @property
    def mixed(self) -> bool:
        return self.e > 0 and self.n > 0


class _Node:
    def __init__(self, left: _Bucket, right: _Bucket, score: float) -> None:
        self.left, self.right, self.score = left, right, score


class _ListHeap:
    def __init__(self) -> None:
        self.a: list[_Node] = []

    def insert(self, node: _Node) -> None:
        self.a.append(node)
        self._up(len(self.a) - 1)

    def pop(self) -> _Node:
        top = self.a[0]
        self.a[0] = self.a[-1]
        self.a.pop()
        self._down(0)
        return top

    def remove(self, idx: int) -> None:
        for k, node in enumerate(self.a):  # mutating while enumerating, as FATE does
            if node.left.idx == idx or node.right.idx == idx:
                self._delete(k)

    def _delete(self, k: int) -> None:
        if k == len(self.a) - 1:
            self.a.pop()
            return
        self.a[k] = self.a.pop()
        if k == 0:
            self._down(0)
        elif self.a[(k - 1) // 2].score < self.a[k].score:
            self._down(k)
        else:
            self._up(k)

    def _up(self, i: int) -> None:
        while i > 0 and self.a[i].score < self.a[(i - 1) // 2].score:
            p = (i - 1) // 2
            self.a[i], self.a[p] = self.a[p], self.a[i]
            i = p

    def _down(self, i: int) -> None:
        while True:
            low = i
            for c in (2 * i + 1, 2 * i + 2):
                if c < len(self.a) and self.a[c].score < self.a[low].score:
                    low = c
            if low == i:
                return
            self.a[i], self.a[low] = self.a[low], self.a[i]
            i = low


def _fate_like(
    ev: list[int], ne: list[int], metric: str, bin_num: int, lo: float, hi: float, mixture: bool
) -> list[int]:
    rows, et, nt = sum(ev) + sum(ne), sum(ev), sum(ne)
    min_item, max_item = math.ceil(lo * rows), math.floor(hi * rows)
    d = {i: _Bucket(i, ev[i], ne[i], i, i) for i in range(len(ev))}
    d[0].left = None
    d[len(ev) - 1].right = None
    heap = _ListHeap()

    def ok(a: _Bucket, b: _Bucket, phase: str | None) -> bool:
        if a.total + b.total > max_item:
            return False
        small_a, small_b = a.total < min_item, b.total < min_item
        return {
            "mixture": not a.mixed and not b.mixed,
            "single_mixture": not (a.mixed and b.mixed),
            "small_size": small_a and small_b,
            "single_small_size": small_a or small_b,
            None: True,
        }[phase]

    def push(a: _Bucket, b: _Bucket) -> None:
        heap.insert(_Node(a, b, _pair_score(metric, (a.e, a.n), (b.e, b.n), et, nt)))

    def add(phase: str | None) -> tuple[int, int]:
        unmixed = sum(not b.mixed for b in d.values())
        small = sum(b.total < min_item for b in d.values())
        for i in range(len(d)):
            a = d[i]
            b = d.get(a.right) if a.right is not None else None
            if b is not None and ok(a, b, phase):
                push(a, b)
        return unmixed, small

    def merge(phase: str | None, aim: int) -> None:
        next_id = max(d) + 1
        while aim > 0 and heap.a:
            node = heap.pop()
            a, b = node.left, node.right
            if d.get(a.idx) is not a or d.get(b.idx) is not b:
                continue
            new = _Bucket(next_id, a.e + b.e, a.n + b.n, a.first, b.last)
            new.left, new.right = a.left, b.right
            if new.left is not None:
                d[new.left].right = next_id
            if new.right is not None:
                d[new.right].left = next_id
            d[next_id] = new
            del d[a.idx], d[b.idx]
            heap.remove(a.idx)
            heap.remove(b.idx)
            if phase in ("mixture", "single_mixture"):
                aim += -(not a.mixed) - (not b.mixed) + (not new.mixed)
            elif phase in ("small_size", "single_small_size"):
                aim += -(a.total < min_item) - (b.total < min_item) + (new.total < min_item)
            else:
                aim = len(d) - bin_num
            if new.left is not None and ok(d[new.left], new, phase):
                push(d[new.left], new)
            if new.right is not None and ok(new, d[new.right], phase):
                push(new, d[new.right])
            next_id += 1

    def renumber() -> None:
        ordered = sorted(d.values(), key=lambda b: b.first)
        d.clear()
        for pos, b in enumerate(ordered):
            b.idx, b.left = pos, pos - 1 if pos else None
            b.right = pos + 1 if pos + 1 < len(ordered) else None
            d[pos] = b

    if mixture:
        merge("mixture", add("mixture")[0])
        renumber()
        merge("single_mixture", add("single_mixture")[0])
        renumber()
    merge("small_size", add("small_size")[1])
    renumber()
    merge("single_small_size", add("single_small_size")[1])
    renumber()
    add(None)
    merge(None, len(d) - bin_num)
    return sorted(b.last for b in d.values())


# ---- reference 2: brute-force greedy (no mixture / min constraint) --------------------------


def _greedy(ev: list[int], ne: list[int], metric: str, bin_num: int, hi: float) -> list[int]:
    bins = [(e, n, i) for i, (e, n) in enumerate(zip(ev, ne, strict=True))]
    et, nt = sum(ev), sum(ne)
    max_item = math.floor(hi * (et + nt))
    while len(bins) > bin_num:
        scores = [
            (_pair_score(metric, bins[i][:2], bins[i + 1][:2], et, nt), i)
            for i in range(len(bins) - 1)
            if sum(bins[i][:2]) + sum(bins[i + 1][:2]) <= max_item
        ]
        if not scores:
            break
        _, i = min(scores)
        (e1, n1, _), (e2, n2, last) = bins[i], bins[i + 1]
        bins[i : i + 2] = [(e1 + e2, n1 + n2, last)]
    return [b[2] for b in bins]


# ---- reference 3: ks --------------------------------------------------------------------------


def _ks_plain(ev: list[int], ne: list[int], bin_num: int, lo: float, mixture: bool) -> list[int]:
    min_item = math.ceil(lo * (sum(ev) + sum(ne)))
    cuts: list[int] = []
    todo = [(0, len(ev))]
    while todo and len(cuts) < bin_num - 1:
        s, t = todo.pop(0)
        if s >= t or sum(ev[s:t]) == 0 or sum(ne[s:t]) == 0:
            continue
        te, tn = sum(ev[s:t]), sum(ne[s:t])
        ks = [abs(sum(ev[s : j + 1]) / te - sum(ne[s : j + 1]) / tn) for j in range(s, t)]
        j = len(ks) // 2 if max(ks) == 0 else ks.index(max(ks))
        le, ln = sum(ev[s : s + j + 1]), sum(ne[s : s + j + 1])
        if le + ln < min_item or te + tn - le - ln < min_item:
            j = len(ks) // 2
            le, ln = sum(ev[s : s + j + 1]), sum(ne[s : s + j + 1])
        re, rn = te - le, tn - ln
        if mixture and not (le and ln and re and rn):
            continue
        if le + ln < min_item or re + rn < min_item:
            continue
        cuts.append(s + j + 1)
        halves = [(s + j + 1, t), (s, s + j + 1)]
        todo += halves if re + rn > le + ln else halves[::-1]
    if not cuts:
        cuts = [len(ev) // 2]
    # FATE's bins: one per piece between consecutive cuts; an empty piece (s, s) copies bucket s.
    bounds = [0, *sorted(cuts), len(ev)]
    kept = {t - 1 if t > s else s for s, t in itertools.pairwise(bounds)}
    return sorted(k for k in kept if k < len(ev))


# ---- helpers ---------------------------------------------------------------------------------


def _run(
    ev: Any, ne: Any, metric: str, bin_num: int = 10, lo: float = 0.05, hi: float = 0.8, mixture: bool = True
) -> list[int]:
    return optimal_split_points(
        np.arange(len(ev), dtype=float),
        ev,
        ne,
        metric_method=metric,
        bin_num=bin_num,
        min_bin_pct=lo,
        max_bin_pct=hi,
        mixture=mixture,
        adjustment_factor=ADJ,
    )


def _reference(
    ev: list[int], ne: list[int], metric: str, bin_num: int, lo: float, hi: float, mixture: bool
) -> list[int]:
    if metric == "ks":
        return _ks_plain(ev, ne, bin_num, lo, mixture)
    return _fate_like(ev, ne, metric, bin_num, lo, hi, mixture)


def _merged(ev: list[int], ne: list[int], kept: list[int]) -> list[tuple[int, int, int]]:
    """(events, non-events, initial bins spanned) of each final bin."""
    out, start = [], 0
    for k in kept:
        out.append((sum(ev[start : k + 1]), sum(ne[start : k + 1]), k + 1 - start))
        start = k + 1
    return out


def _breast_columns(k: int, equal_width: bool = False) -> list[tuple[list[int], list[int]]]:
    table = np.loadtxt(DATA / "breast_hetero_guest.csv", delimiter=",", skiprows=1)
    y = table[:, 1]
    cols = []
    for j in range(2, table.shape[1]):
        x = table[:, j]
        if equal_width:
            points = np.linspace(x.min(), x.max(), k + 1)[1:]
        else:
            points = np.unique(np.quantile(x, np.arange(1, k + 1) / k))
        idx = np.searchsorted(points, x, side="left")  # the first split point >= the value
        ev = np.bincount(idx, weights=(y == 1), minlength=len(points)).astype(int).tolist()
        ne = np.bincount(idx, weights=(y != 1), minlength=len(points)).astype(int).tolist()
        cols.append((ev, ne))
    return cols


SETTINGS = [  # (bin_num, min_bin_pct, max_bin_pct, mixture)
    (10, 0.05, 0.8, True),
    (5, 0.05, 0.8, False),
    (6, 0.0, 1.0, True),
    (10, 0.1, 0.3, True),
    (4, 0.2, 0.5, False),
]


# ---- tests: agreement with the references -----------------------------------------------------


@pytest.mark.parametrize("metric", [*MERGE, "ks"])
@pytest.mark.parametrize("k", [20, 50, 100])
def test_breast_columns_match_reference(metric: str, k: int) -> None:
    for ev, ne in _breast_columns(k):
        for bin_num, lo, hi, mixture in SETTINGS:
            got = _run(ev, ne, metric, bin_num, lo, hi, mixture)
            assert got == _reference(ev, ne, metric, bin_num, lo, hi, mixture), (
                metric,
                k,
                bin_num,
                lo,
                hi,
                mixture,
            )


@pytest.mark.parametrize("metric", [*MERGE, "ks"])
def test_equal_width_bins_with_empty_buckets_match_reference(metric: str) -> None:
    # Equal-width initial bins of skewed columns leave many buckets empty (chi_square scores NaN).
    empty = 0
    for ev, ne in _breast_columns(60, equal_width=True):
        empty += sum(e + n == 0 for e, n in zip(ev, ne, strict=True))
        for bin_num, lo, hi, mixture in SETTINGS:
            got = _run(ev, ne, metric, bin_num, lo, hi, mixture)
            assert got == _reference(ev, ne, metric, bin_num, lo, hi, mixture)
    assert empty > 0


@pytest.mark.parametrize("metric", [*MERGE, "ks"])
def test_random_counts_match_reference(metric: str) -> None:
    rng = np.random.default_rng(20240611)
    for _ in range(60):
        n = int(rng.integers(2, 80))
        ev = rng.integers(0, int(rng.integers(1, 40)), n).tolist()
        ne = rng.integers(0, int(rng.integers(1, 60)), n).tolist()
        if sum(ev) + sum(ne) == 0:
            continue
        bin_num = int(rng.integers(2, 15))
        lo = float(rng.choice([0.0, 0.02, 0.05, 0.1]))
        hi = max(float(rng.choice([0.3, 0.5, 0.8, 1.0])), math.ceil(100 / bin_num) / 100)
        mixture = bool(rng.integers(0, 2))
        got = _run(ev, ne, metric, bin_num, lo, hi, mixture)
        assert got == _reference(ev, ne, metric, bin_num, lo, hi, mixture), (n, bin_num, lo, hi, mixture)


@pytest.mark.parametrize("metric", MERGE)
def test_brute_force_greedy_without_constraints(metric: str) -> None:
    rng = np.random.default_rng(7)
    for _ in range(40):
        n = int(rng.integers(3, 60))
        ev = rng.integers(1, 5000, n).tolist()  # large distinct counts: no tied scores
        ne = rng.integers(1, 9000, n).tolist()
        bin_num = int(rng.integers(2, 12))
        hi = float(rng.choice([1.0, 0.5])) if bin_num >= 2 else 1.0
        got = _run(ev, ne, metric, bin_num, lo=0.0, hi=hi, mixture=False)
        assert got == _greedy(ev, ne, metric, bin_num, hi)


# ---- tests: constraints on the result -------------------------------------------------------


@pytest.mark.parametrize("metric", [*MERGE, "ks"])
def test_constraints_hold(metric: str) -> None:
    for ev, ne in _breast_columns(100):
        rows = sum(ev) + sum(ne)
        for bin_num, lo, hi in [(10, 0.05, 1.0), (8, 0.1, 0.5), (5, 0.02, 0.8)]:
            kept = _run(ev, ne, metric, bin_num, lo, hi, mixture=True)
            assert kept == sorted(set(kept)) and kept[-1] == len(ev) - 1
            bins = _merged(ev, ne, kept)
            assert sum(e + n for e, n, _ in bins) == rows
            assert len(bins) <= bin_num
            assert all(e > 0 and n > 0 for e, n, _ in bins)  # mixture
            assert all(e + n >= math.ceil(lo * rows) for e, n, _ in bins)  # min_bin_pct
            if metric != "ks":  # max_bin_pct: no merge ever exceeds it (ks ignores it, as FATE)
                assert all(e + n <= math.floor(hi * rows) for e, n, span in bins if span > 1)


def test_metric_array_as_fate_stores_it() -> None:
    ev, ne = _breast_columns(50)[0]
    args: dict[str, Any] = {
        "bin_num": 6,
        "min_bin_pct": 0.05,
        "max_bin_pct": 0.8,
        "mixture": True,
        "adjustment_factor": ADJ,
    }
    ks = optimal_bins(np.arange(len(ev), dtype=float), ev, ne, metric_method="ks", **args)
    assert len(ks.metric_array) == len(ks.indices) - 1 and all(0 < v <= 1 for v in ks.metric_array)
    iv = optimal_bins(np.arange(len(ev), dtype=float), ev, ne, metric_method="iv", **args)
    assert all(isinstance(v, float) for v in iv.metric_array)


# ---- tests: edge cases ----------------------------------------------------------------------


@pytest.mark.parametrize("metric", [*MERGE, "ks"])
def test_fewer_initial_bins_than_bin_num(metric: str) -> None:
    ev, ne = [3, 4, 5, 6], [9, 8, 7, 6]
    assert _run(ev, ne, metric, bin_num=10, lo=0.0, hi=1.0, mixture=True) == _reference(
        ev, ne, metric, 10, 0.0, 1.0, True
    )
    if metric != "ks":  # nothing to merge: every initial boundary stays
        assert _run(ev, ne, metric, bin_num=10, lo=0.0, hi=1.0, mixture=True) == [0, 1, 2, 3]
    assert _run([1], [2], metric, bin_num=10) == [0]


@pytest.mark.parametrize("metric", MERGE)
def test_all_events_in_one_bin_merge_into_one(metric: str) -> None:
    ev = [0] * 20
    ev[7] = 30
    ne = [10] * 20
    assert _run(ev, ne, metric, bin_num=5, lo=0.0, hi=1.0, mixture=True) == [19]
    # Without mixture the pure buckets tie (gini 0): the heap's layout decides, as in FATE.
    assert _run(ev, ne, metric, bin_num=5, lo=0.0, hi=1.0, mixture=False) == _fate_like(
        ev, ne, metric, 5, 0.0, 1.0, False
    )


def test_ks_without_a_split_takes_the_middle() -> None:
    # No events at all: no piece can be split, FATE falls back to the middle split.
    assert _run([0] * 10, [5] * 10, "ks", bin_num=5) == [4, 9]


@pytest.mark.parametrize("metric", MERGE)
def test_zero_count_buckets(metric: str) -> None:
    ev = [0, 5, 0, 0, 7, 0, 2, 0, 9, 0]
    ne = [0, 9, 0, 4, 3, 0, 8, 0, 1, 0]
    for mixture in (True, False):
        assert _run(ev, ne, metric, bin_num=3, lo=0.0, hi=1.0, mixture=mixture) == _fate_like(
            ev, ne, metric, 3, 0.0, 1.0, mixture
        )


@pytest.mark.parametrize(
    ("points", "ev", "ne", "text"),
    [
        ([], [], [], "at least one"),
        ([1.0, 1.0], [1, 2], [3, 4], "strictly ascending"),
        ([1.0, 2.0], [1], [3, 4], "shape"),
        ([1.0, 2.0], [1, -2], [3, 4], "non-negative"),
        ([1.0, 2.0], [1, 2.5], [3, 4], "whole"),
        ([1.0, 2.0], [0, 0], [0, 0], "no rows"),
    ],
)
def test_bad_input_is_a_coded_data_error(
    points: list[float], ev: list[Any], ne: list[Any], text: str
) -> None:
    with pytest.raises(DataFormatError, match=text) as info:
        optimal_split_points(
            points,
            ev,
            ne,
            metric_method="iv",
            bin_num=5,
            min_bin_pct=0.05,
            max_bin_pct=1.0,
            mixture=True,
            adjustment_factor=ADJ,
        )
    assert info.value.code == 10202


@pytest.mark.parametrize(
    ("change", "text"),
    [
        ({"metric_method": "entropy"}, "metric_method"),
        ({"bin_num": 0}, "bin_num"),
        ({"min_bin_pct": 0.6, "max_bin_pct": 0.5}, "min_bin_pct"),
        ({"max_bin_pct": 0.1}, "ceil"),
        ({"adjustment_factor": 0.0}, "adjustment_factor"),
    ],
)
def test_bad_parameters_are_coded(change: dict[str, Any], text: str) -> None:
    args: dict[str, Any] = {
        "metric_method": "iv",
        "bin_num": 5,
        "min_bin_pct": 0.05,
        "max_bin_pct": 1.0,
        "mixture": True,
        "adjustment_factor": ADJ,
    }
    with pytest.raises(ComponentParameterError, match=text):
        optimal_split_points([1.0, 2.0], [1, 2], [3, 4], **(args | change))


def test_chi_dash_square_is_accepted() -> None:
    ev, ne = [3, 0, 5, 6, 1], [1, 8, 7, 0, 6]
    assert _run(ev, ne, "chi-square", bin_num=2) == _run(ev, ne, "chi_square", bin_num=2)


@pytest.mark.parametrize("metric", [*MERGE, "ks"])
def test_speed_100_bins_30_columns(metric: str) -> None:
    rng = np.random.default_rng(3)
    columns = [(rng.integers(0, 40, 100), rng.integers(0, 80, 100)) for _ in range(30)]
    t0 = time.perf_counter()
    for ev, ne in columns:
        _run(ev, ne, metric, bin_num=10)
    assert time.perf_counter() - t0 < 1.0
