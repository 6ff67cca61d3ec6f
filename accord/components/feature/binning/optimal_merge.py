"""Bottom-up optimal binning (iv, gini, chi_square): FATE 1.11's greedy merges from one min-heap.

The rules are listed in :mod:`accord.components.feature.binning.optimal`. This module keeps FATE's
bookkeeping where it decides which merge happens first: the heap is the same array heap with the
same sift rules (so equal scores are broken the same way), bucket numbers are handed out and
renumbered as FATE does (its node removal matches nodes by those numbers), and a node is scored with
the same floating-point operations in the same order.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

NO_BUCKET = -1


def bucket_iv(e: int, n: int, e_total: int, n_total: int, adj: float) -> float:
    """A bucket's IV as FATE's Bucket.iv: woe = log(non_event_rate / event_rate)."""
    if e == 0 or n == 0:
        er = (e + adj) / max(e_total, 1)
        nr = (n + adj) / max(n_total, 1)
    else:
        er = e / max(e_total, 1)
        nr = n / max(n_total, 1)
    return (nr - er) * math.log(nr / er)


def merged_iv(e: int, n: int, e_total: int, n_total: int, adj: float) -> float:
    """The merged pair's IV as FATE's IvHeapNode computes it (the ratio the other way round)."""
    if e == 0 or n == 0:
        er = (e + adj) / max(e_total, 1)
        nr = (n + adj) / max(n_total, 1)
    else:
        er = e / max(e_total, 1)
        nr = n / max(n_total, 1)
    return (er - nr) * math.log(er / nr)


def bucket_gini(e: int, n: int) -> float:
    t = e + n
    if t == 0:
        return 0.0
    # `** 2`, not x * x: the same libm pow FATE's expression goes through, so ties stay ties.
    return 1 - (e / t) ** 2 - (n / t) ** 2


def _chi_term(actual: int, expected: float) -> float:
    # numpy's 0.0 / 0.0 in FATE gives nan (an empty side of the pair); Python would raise instead.
    if expected == 0:
        return math.nan
    d = actual - expected
    return (d * d) / expected


def chi_square(le: int, ln: int, re: int, rn: int) -> float:
    """FATE's ChiSquareHeapNode score of merging (le, ln) with (re, rn); -inf if a class is absent."""
    c1 = le + re
    c0 = ln + rn
    total = c1 + c0
    if total == 0 or c1 == 0 or c0 == 0:
        return -math.inf
    lt = le + ln
    rt = re + rn
    el1 = (lt / total) * c1
    el0 = (lt / total) * c0
    er1 = (rt / total) * c1
    er0 = (rt / total) * c0
    return _chi_term(le, el1) + _chi_term(ln, el0) + _chi_term(re, er1) + _chi_term(rn, er0)


class MinHeap:
    """FATE's MinHeap over merge candidates, as parallel arrays.

    Nodes are numbered in insertion order; ``slots`` is the heap array of node numbers. A node keeps
    the two bucket objects it would merge; removal matches nodes by the objects' current bucket
    numbers (``bucket_no``), as FATE's remove_empty_node does, including that scan's step past the
    node it just moved into the freed slot.
    """

    def __init__(self, capacity: int) -> None:
        capacity = max(capacity, 8)
        self.slots = np.empty(capacity, dtype=np.int64)
        self.left = np.empty(capacity, dtype=np.int64)
        self.right = np.empty(capacity, dtype=np.int64)
        self.score: list[float] = []
        self.size = 0

    def _grow(self) -> None:
        cap = 2 * len(self.left)
        for name in ("slots", "left", "right"):
            old = getattr(self, name)
            new = np.empty(cap, dtype=np.int64)
            new[: len(old)] = old
            setattr(self, name, new)

    def push(self, left: int, right: int, score: float) -> None:
        node = len(self.score)
        if node >= len(self.left):
            self._grow()
        self.left[node] = left
        self.right[node] = right
        self.score.append(score)
        self.slots[self.size] = node
        self.size += 1
        self._up(self.size - 1)

    def pop(self) -> int:
        """The node at the top (the caller checks size > 0)."""
        top = int(self.slots[0])
        self.slots[0] = self.slots[self.size - 1]
        self.size -= 1
        self._down(0)
        return top

    def _less(self, a: int, b: int) -> bool:
        sc = self.score
        return sc[int(self.slots[a])] < sc[int(self.slots[b])]

    def _swap(self, a: int, b: int) -> None:
        s = self.slots
        s[a], s[b] = s[b], s[a]

    def _up(self, i: int) -> None:
        while i > 0:
            parent = (i - 1) // 2
            if not self._less(i, parent):
                break
            self._swap(i, parent)
            i = parent

    def _down(self, i: int) -> None:
        size = self.size
        while True:
            low = i
            child = 2 * i + 1
            if child < size and self._less(child, i):
                low = child
            if child + 1 < size and self._less(child + 1, low):
                low = child + 1
            if low == i:
                return
            self._swap(i, low)
            i = low

    def _delete(self, k: int) -> None:
        last = self.size - 1
        if k == last:
            self.size = last
            return
        self.slots[k] = self.slots[last]
        self.size = last
        if k == 0:
            self._down(0)
        elif self._less((k - 1) // 2, k):
            self._down(k)
        else:
            self._up(k)

    def remove_bucket(self, number: int, bucket_no: npt.NDArray[np.int64]) -> None:
        """Drop the nodes touching bucket ``number``, scanning the array once from the start."""
        k = 0
        while k < self.size:
            seg = self.slots[k : self.size]
            hits = np.flatnonzero(
                (bucket_no[self.left[seg]] == number) | (bucket_no[self.right[seg]] == number)
            )
            if hits.size == 0:
                return
            k += int(hits[0])
            self._delete(k)
            k += 1

    def scores(self) -> list[float]:
        """The scores left in the heap, in array order (FATE's optimal metric array)."""
        return [self.score[int(node)] for node in self.slots[: self.size]]


class Merger:
    """The bucket list and heap of one column; ``run`` applies FATE's phases in order."""

    def __init__(
        self,
        events: Sequence[int],
        non_events: Sequence[int],
        *,
        metric: str,
        max_bin: int,
        min_item: int,
        max_item: int,
        e_total: int,
        n_total: int,
        adj: float,
    ) -> None:
        n = len(events)
        cap = 2 * n + 1
        self.metric = metric
        self.max_bin = max_bin
        self.min_item = min_item
        self.max_item = max_item
        self.e_total = e_total
        self.n_total = n_total
        self.adj = adj
        # Bucket objects: the n initial ones, then one per merge (object number != bucket number).
        self.ev: list[int] = list(events)
        self.ne: list[int] = list(non_events)
        self.last: list[int] = list(range(n))
        self.prev: list[int] = [i - 1 for i in range(n)]
        self.next: list[int] = [i + 1 if i + 1 < n else NO_BUCKET for i in range(n)]
        self.alive: list[bool] = [True] * n
        self.bucket_no = np.full(cap, NO_BUCKET, dtype=np.int64)
        self.bucket_no[:n] = np.arange(n)
        self.value: list[float] = [self._bucket_value(i) for i in range(n)]
        self.head = 0
        self.live = n
        self.heap = MinHeap(4 * n)

    # ---- scores ---------------------------------------------------------------------------

    def _bucket_value(self, b: int) -> float:
        if self.metric == "iv":
            return bucket_iv(self.ev[b], self.ne[b], self.e_total, self.n_total, self.adj)
        if self.metric == "gini":
            return bucket_gini(self.ev[b], self.ne[b])
        return 0.0

    def _score(self, a: int, b: int) -> float:
        e = self.ev[a] + self.ev[b]
        n = self.ne[a] + self.ne[b]
        if e + n == 0:
            return -math.inf
        if self.metric == "iv":
            merged = merged_iv(e, n, self.e_total, self.n_total, self.adj)
            return self.value[a] + self.value[b] - merged
        if self.metric == "gini":
            return bucket_gini(e, n) - self.value[a] - self.value[b]
        return chi_square(self.ev[a], self.ne[a], self.ev[b], self.ne[b])

    # ---- constraints ----------------------------------------------------------------------

    def _total(self, b: int) -> int:
        return self.ev[b] + self.ne[b]

    def _mixed(self, b: int) -> bool:
        return self.ev[b] > 0 and self.ne[b] > 0

    def _small(self, b: int) -> bool:
        return self._total(b) < self.min_item

    def _allowed(self, a: int, b: int, phase: str | None) -> bool:
        if self._total(a) + self._total(b) > self.max_item:
            return False
        if phase == "mixture":
            return not self._mixed(a) and not self._mixed(b)
        if phase == "single_mixture":
            return not (self._mixed(a) and self._mixed(b))
        if phase == "small_size":
            return self._small(a) and self._small(b)
        if phase == "single_small_size":
            return self._small(a) or self._small(b)
        return True

    def _push(self, a: int, b: int) -> None:
        self.heap.push(a, b, self._score(a, b))

    # ---- phases ---------------------------------------------------------------------------

    def _add_nodes(self, phase: str | None) -> tuple[int, int]:
        """Queue every allowed adjacent pair, left to right; count unmixed and small buckets."""
        unmixed = small = 0
        b = self.head
        while b != NO_BUCKET:
            if not self._mixed(b):
                unmixed += 1
            if self._small(b):
                small += 1
            right = self.next[b]
            if right != NO_BUCKET and self._allowed(b, right, phase):
                self._push(b, right)
            b = right
        return unmixed, small

    def _merge(self, phase: str | None, aim: int) -> None:
        # New buckets are numbered from the count at the phase start: FATE's max(key) + 1 right
        # after a renumbering.
        next_no = self.live
        heap = self.heap
        while aim > 0 and heap.size > 0:
            node = heap.pop()
            a = int(heap.left[node])
            b = int(heap.right[node])
            # FATE tests this by bucket number; liveness is the same test within a phase and stays
            # right for a node left over from an earlier numbering.
            if not (self.alive[a] and self.alive[b]):
                continue
            new = len(self.ev)
            self.ev.append(self.ev[a] + self.ev[b])
            self.ne.append(self.ne[a] + self.ne[b])
            self.last.append(self.last[b])
            self.prev.append(self.prev[a])
            self.next.append(self.next[b])
            self.alive.append(True)
            self.bucket_no[new] = next_no
            self.value.append(self._bucket_value(new))
            if self.prev[a] != NO_BUCKET:
                self.next[self.prev[a]] = new
            else:
                self.head = new
            if self.next[b] != NO_BUCKET:
                self.prev[self.next[b]] = new
            self.alive[a] = self.alive[b] = False
            self.live -= 1
            heap.remove_bucket(int(self.bucket_no[a]), self.bucket_no)
            heap.remove_bucket(int(self.bucket_no[b]), self.bucket_no)
            aim = self._aim(phase, new, a, b, aim)
            left, right = self.prev[new], self.next[new]
            if left != NO_BUCKET and self._allowed(left, new, phase):
                self._push(left, new)
            if right != NO_BUCKET and self._allowed(new, right, phase):
                self._push(new, right)
            next_no += 1

    def _aim(self, phase: str | None, new: int, a: int, b: int, aim: int) -> int:
        if phase in ("mixture", "single_mixture"):
            return aim - (not self._mixed(a)) - (not self._mixed(b)) + (not self._mixed(new))
        if phase in ("small_size", "single_small_size"):
            return aim - self._small(a) - self._small(b) + self._small(new)
        return self.live - self.max_bin

    def _renumber(self) -> None:
        """Number the live buckets 0.. from the left, as FATE's _update_bucket_info."""
        b, pos = self.head, 0
        while b != NO_BUCKET:
            self.bucket_no[b] = pos
            pos += 1
            b = self.next[b]

    def run(self, mixture: bool) -> None:
        if mixture:
            unmixed, _ = self._add_nodes("mixture")
            self._merge("mixture", unmixed)
            self._renumber()
            unmixed, _ = self._add_nodes("single_mixture")
            self._merge("single_mixture", unmixed)
            self._renumber()
        _, small = self._add_nodes("small_size")
        self._merge("small_size", small)
        self._renumber()
        _, small = self._add_nodes("single_small_size")
        self._merge("single_small_size", small)
        self._renumber()
        self._add_nodes(None)
        self._merge(None, self.live - self.max_bin)

    def kept(self) -> list[int]:
        """The initial index of each final bucket's right end, ascending."""
        out: list[int] = []
        b = self.head
        while b != NO_BUCKET:
            out.append(self.last[b])
            b = self.next[b]
        return out
