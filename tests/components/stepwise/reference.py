"""A plain stepwise written for the tests: the moves, scores and stop rules of FATE 1.11's
HeteroStepwise over the joined columns, with each candidate's loss from a plain numpy fit."""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

DATA = Path(__file__).resolve().parents[3].parent / "shared" / "fate" / "examples" / "data"

# A candidate: the host's kept column indices and the guest's.
Subset = tuple[tuple[int, ...], tuple[int, ...]]


def read_pair(name: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``<name>_guest.csv`` and ``<name>_host.csv`` on their common ids, sorted (Intersection's order)."""
    guest = pd.read_csv(DATA / f"{name}_guest.csv", dtype={0: str})
    host = pd.read_csv(DATA / f"{name}_host.csv", dtype={0: str})
    guest, host = guest.set_index(guest.columns[0]), host.set_index(host.columns[0])
    common = sorted(set(guest.index) & set(host.index))
    return guest.loc[common], host.loc[common]


def descent(x: np.ndarray, y: np.ndarray, link: str, rate: float, iterations: int) -> float:
    """Full-batch gradient descent from zeros (intercept last); the loss at the last iteration's start,
    as HeteroLR (Taylor-approximated logistic loss), HeteroLinR and HeteroPoisson report it."""
    rows = np.hstack([x, np.ones((len(y), 1))])
    w = np.zeros(rows.shape[1])
    loss = math.nan
    for _ in range(iterations):
        eta = rows @ w
        if link == "logistic":
            signed = 2 * y - 1
            loss = float(np.mean(np.log(2) - 0.5 * signed * eta + 0.125 * eta**2))
            d = 0.25 * eta - 0.5 * signed
        elif link == "poisson":
            mu = np.exp(eta)
            loss = float(np.mean(mu - y * eta))
            d = mu - y
        else:
            loss = 0.5 * float(np.mean((eta - y) ** 2))
            d = eta - y
        w = w - rate * rows.T @ d / len(y)
    return loss


def stepwise(
    loss_of: Callable[[Subset], float],
    widths: tuple[int, int],
    rows: int,
    *,
    direction: str,
    score_name: str,
    max_step: int,
    nvmin: int,
    nvmax: int | None = None,
    approx: bool = False,
) -> Subset:
    """The subset the stepwise selection ends on."""
    k = 2.0 if score_name == "aic" else math.log(rows)
    scores: dict[Subset, float | None] = {}

    def score(subset: Subset) -> float:
        if subset not in scores:
            loss, dfe = loss_of(subset), len(subset[0]) + len(subset[1]) + 1
            scores[subset] = k * dfe + (rows * math.log(2 * loss) if approx else 2 * rows * loss)
        value = scores[subset]
        return math.inf if value is None else value

    full = (tuple(range(widths[0])), tuple(range(widths[1])))
    current: Subset = full if direction in ("backward", "both") else ((), ())
    step = 0
    while step <= max_step:
        candidates: list[Subset] = [current]
        if direction != "forward" and step == 0:
            candidates.append(current)
        elif direction != "forward":
            for side in (0, 1):
                if len(current[side]) > 1:
                    for drop in current[side]:
                        kept = tuple(i for i in current[side] if i != drop)
                        candidates.append((kept, current[1]) if side == 0 else (current[0], kept))
        if direction != "backward":
            if current == ((), ()):
                if step == 0:
                    scores[current] = None  # the intercept-only model is never chosen
                    step += 1
                    continue
                candidates += [((h,), (g,)) for h, g in itertools.product(range(widths[0]), range(widths[1]))]
            else:
                for side in (0, 1):
                    for add in sorted(set(range(widths[side])) - set(current[side])):
                        grown = tuple(sorted((*current[side], add)))
                        candidates.append((grown, current[1]) if side == 0 else (current[0], grown))
        best = min(candidates, key=score)
        previous, current = current, best
        total, before = len(best[0]) + len(best[1]), len(previous[0]) + len(previous[1])
        if step > 0 and (
            best in (previous, full)
            or (total == nvmin and before >= nvmin)
            or (nvmax is not None and total == nvmax and before <= nvmax)
            or step >= max_step
        ):
            break
        step += 1
    return current
