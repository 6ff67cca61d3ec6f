"""Which rows a sample keeps and under which ids, as FATE 1.11's samplers decide, on plain arrays.

A draw is a list of source ids and, when rows repeat, the new id of each copy:

- downsample keeps ``max(1, int(rate·n))`` distinct rows of the n (of each label, stratified),
  drawn without replacement; rows keep their ids (``new_ids`` is None);
- upsample draws ``int(rate·n)`` rows with replacement (``max(1, ...)`` per label, stratified,
  whose draws are then shuffled together); copy i of the draw gets the id ``str(i)``, as FATE
  numbers the rows of an upsample;
- exact_by_weight repeats each row of weight w > 1e-8 ceil(w) times, each copy with a fresh uuid,
  as FATE's ExactSampler does.

Draws follow sklearn's ``resample``, which FATE calls: a RandomState seeded with random_state,
``randint(0, n, size)`` with replacement, the first rows of ``shuffle(arange(n))`` without. FATE
seeds each stratum's draw with the same random_state and shuffles the strata's draws with an
unseeded ``random.shuffle``; here that shuffle is seeded too, so a seeded draw is repeatable.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from accord.errors import DataFormatError

FLOAT_ZERO = 1e-8


@dataclass(frozen=True)
class Draw:
    sources: list[str]
    new_ids: list[str] | None
    # Rows per label before and after (stratified), or the total count after (random, exact).
    original_count: dict[str, int] | None
    sample_count: dict[str, int] | int


def _state(seed: int | None) -> np.random.RandomState:
    return np.random.RandomState(seed)


def resample(count: int, size: int, replace: bool, seed: int | None) -> np.ndarray:
    """Row positions drawn as sklearn.utils.resample draws them."""
    if count == 0 or size == 0:
        return np.zeros(0, dtype=np.int64)
    state = _state(seed)
    if replace:
        return np.asarray(state.randint(0, count, size=(size,)), dtype=np.int64)
    order = np.arange(count)
    state.shuffle(order)
    return order[:size]


def random_draw(ids: Sequence[str], rate: float, upsample: bool, seed: int | None) -> Draw:
    count = len(ids)
    size = int(rate * count) if upsample else max(1, int(rate * count))
    picked = resample(count, min(size, count) if not upsample else size, upsample, seed)
    return _finish([ids[i] for i in picked], upsample, None, len(picked))


def label_key(label: float | str) -> str:
    """A label as FATE's metrics name it: ``1`` rather than ``1.0``."""
    if isinstance(label, str):
        return label
    return str(int(label)) if float(label).is_integer() else str(label)


def stratified_draw(
    ids: Sequence[str],
    labels: np.ndarray,
    fractions: Sequence[tuple[float | str, float]],
    upsample: bool,
    seed: int | None,
) -> Draw:
    keys = [label_key(_as_number(label)) for label, _ in fractions]
    row_keys = np.asarray([label_key(float(v)) for v in labels], dtype=object)
    unknown = sorted(set(row_keys.tolist()) - set(keys))
    if unknown:
        raise DataFormatError(
            f"the rows have labels {unknown[:10]} that fractions gives no rate for",
            hint="give a [label, rate] pair in fractions for every label of the data",
        )
    chosen: list[str] = []
    original: dict[str, int] = {}
    sampled: dict[str, int] = {}
    for key, (_, rate) in zip(keys, fractions, strict=True):
        members = np.flatnonzero(row_keys == key)
        original[key] = int(members.size)
        size = max(1, int(float(rate) * members.size)) if members.size else 0
        picked = resample(int(members.size), size, upsample, seed)
        chosen.extend(ids[members[i]] for i in picked)
        sampled[key] = int(picked.size)
    order = np.arange(len(chosen))
    _state(seed).shuffle(order)
    return _finish([chosen[i] for i in order], upsample, original, sampled)


def exact_draw(ids: Sequence[str], weights: np.ndarray) -> Draw:
    sources: list[str] = []
    new_ids: list[str] = []
    for sid, weight in zip(ids, weights, strict=True):
        if not weight > FLOAT_ZERO:
            continue
        for _ in range(math.ceil(float(weight))):
            sources.append(sid)
            new_ids.append(uuid.uuid4().hex)
    return Draw(sources, new_ids, None, len(sources))


def _finish(
    sources: list[str], upsample: bool, original: dict[str, int] | None, sampled: dict[str, int] | int
) -> Draw:
    new_ids = [str(i) for i in range(len(sources))] if upsample else None
    return Draw(sources, new_ids, original, sampled)


def _as_number(label: float | str) -> float | str:
    """A fractions label as the rows hold it: numbers (labels are parsed to numbers) stay numbers."""
    if isinstance(label, str):
        try:
            return float(label)
        except ValueError:
            return label
    return float(label)
