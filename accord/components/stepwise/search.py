"""The guest's stepwise search, as FATE 1.11's ``model_selection/stepwise/hetero_stepwise.py`` walks it.

Pure bookkeeping, no data: the masks over the hosts' and the guest's features (a fit is known by its
mask string, host bits then guest bits, FATE's key), the candidates of each step in FATE's order, the
information criterion of each fit from its final loss, the best of a step and FATE's stop rules.

- direction ``backward`` starts from the full model (step 0 fits it), each later step drops one
  feature of one party (never a party's last); ``forward`` starts from no feature (step 0 records the
  intercept-only model, which is never chosen), step 1 fits every pair of one host and one guest
  feature, each later step adds one; ``both`` starts full and examines both moves each step.
- the score is ``k·dfe + 2·n·loss`` (``k·dfe + n·log(2·loss)`` for HeteroLinR, whose loss is half the
  mean squared error), ``k`` 2 (AIC) or ``log(n)`` (BIC), ``dfe`` the features in the model plus one
  for the intercept; a fit made in an earlier step is not fitted again, its score counts again.
- the search stops when the best model of a step is the current one, is the full model, reaches
  ``nvmin`` (or ``nvmax``) features, or the step is ``max_step``; the last step's best is the result.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

import numpy as np

from accord.components.hetero_lr.params import StepwiseParam
from accord.errors import DataFormatError

Criterion = Literal["ic", "ic_approx"]


@dataclass
class Fit:
    """One candidate model: where it was fitted (step, number) and how it scored."""

    key: str
    step: int
    number: int
    loss: float | None = None
    score: float | None = None
    # The intercept-only model of forward step 0 is recorded, never fitted nor chosen (as FATE).
    fitted: bool = True


def mask_key(host: np.ndarray, guest: np.ndarray) -> str:
    return "".join("1" if bit else "0" for bit in np.append(host, guest))


def from_key(key: str, host_width: int) -> tuple[np.ndarray, np.ndarray]:
    mask = np.array([c == "1" for c in key], dtype=bool)
    return mask[:host_width], mask[host_width:]


def _drop_one(mask: np.ndarray) -> Iterator[np.ndarray]:
    for i in np.nonzero(mask)[0]:
        new = mask.copy()
        new[i] = False
        if new.any():
            yield new


def _add_one(mask: np.ndarray) -> Iterator[np.ndarray]:
    for i in np.nonzero(~mask)[0]:
        new = mask.copy()
        new[i] = True
        yield new


def information_criterion(criterion: Criterion, k: float, rows: int, dfe: int, loss: float) -> float:
    if criterion == "ic_approx":
        if loss <= 0:
            return -math.inf
        return k * dfe + rows * math.log(2 * loss)
    return k * dfe + 2 * rows * loss


class Search:
    def __init__(
        self,
        setting: StepwiseParam,
        *,
        host_width: int,
        guest_width: int,
        rows: int,
        fit_intercept: bool,
        criterion: Criterion,
    ) -> None:
        self.setting = setting
        self.host_width = host_width
        self.rows = rows
        self.fit_intercept = fit_intercept
        self.criterion = criterion
        self.backward = setting.direction in ("backward", "both")
        self.forward = setting.direction in ("forward", "both")
        self.k = 2.0 if setting.score_name.lower() == "aic" else math.log(rows)
        start = np.ones if self.backward else np.zeros
        self.host: np.ndarray = start(host_width, dtype=bool)
        self.guest: np.ndarray = start(guest_width, dtype=bool)
        self.step = 0
        self.fits: dict[str, Fit] = {}
        self.step_models: list[str] = []

    @property
    def current(self) -> str:
        return mask_key(self.host, self.guest)

    @property
    def intercept_only_step(self) -> bool:
        """FATE's forward step 0: the intercept-only model, recorded without a fit."""
        return self.setting.direction == "forward" and self.step == 0

    def _moves(self) -> list[tuple[np.ndarray, np.ndarray]]:
        host, guest = self.host, self.guest
        moves: list[tuple[np.ndarray, np.ndarray]] = []
        if self.backward:
            if self.step == 0:
                moves.append((host, guest))
            else:
                moves += [(h, guest) for h in _drop_one(host)] + [(host, g) for g in _drop_one(guest)]
        if self.forward:
            if not host.any() and not guest.any():
                if self.step == 0:
                    moves.append((host, guest))
                else:
                    moves += [(h, g) for h in _add_one(host) for g in _add_one(guest)]
            else:
                moves += [(h, guest) for h in _add_one(host)] + [(host, g) for g in _add_one(guest)]
        return moves

    def plan(self) -> list[tuple[np.ndarray, np.ndarray]]:
        """The masks to fit in this step (in FATE's order), the ones fitted before left out."""
        self.step_models = [self.current]
        new: list[tuple[np.ndarray, np.ndarray]] = []
        for host, guest in self._moves():
            key = mask_key(host, guest)
            if key not in self.step_models:
                self.step_models.append(key)
            if key in self.fits:
                continue
            if self.intercept_only_step:
                self.fits[key] = Fit(key, self.step, -1, fitted=False)
                continue
            self.fits[key] = Fit(key, self.step, len(new))
            new.append((host, guest))
        return new

    def scored(self, key: str, loss: float) -> Fit:
        fit = self.fits[key]
        host, guest = from_key(key, self.host_width)
        dfe = int(host.sum() + guest.sum()) + (1 if self.fit_intercept else 0)
        score = information_criterion(self.criterion, self.k, self.rows, dfe, loss)
        if math.isinf(score) or math.isnan(score):
            raise DataFormatError(
                f"stepwise: the model with {dfe} parameters has loss {loss}, its "
                f"{self.setting.score_name.upper()} is not finite",
                hint="scale the features or lower learning_rate so that training converges",
            )
        fit.loss, fit.score = loss, score
        return fit

    def choose(self) -> bool:
        """Move to the step's best model; True when the search stops there (FATE's check_stop)."""
        best_key, best_score = "", None
        for key in self.step_models:
            fit = self.fits[key]
            if not fit.fitted or fit.score is None:
                continue
            if best_score is None or fit.score < best_score:
                best_key, best_score = key, fit.score
        if best_score is None:
            raise DataFormatError("stepwise: no model of this step has a score", hint="check the loss")
        old_host, old_guest = self.host, self.guest
        self.host, self.guest = from_key(best_key, self.host_width)
        return self._stop(old_host, old_guest)

    def _stop(self, old_host: np.ndarray, old_guest: np.ndarray) -> bool:
        setting = self.setting
        if self.step == 0:
            return False
        if np.array_equal(self.host, old_host) and np.array_equal(self.guest, old_guest):
            return True
        if self.host.all() and self.guest.all():
            return True
        total = int(self.host.sum() + self.guest.sum())
        old_total = int(old_host.sum() + old_guest.sum())
        if total == setting.nvmin and old_total >= setting.nvmin:
            return True
        if setting.nvmax is not None and total == setting.nvmax and old_total <= setting.nvmax:
            return True
        return self.step >= setting.max_step

    def final(self) -> Fit:
        fit = self.fits[self.current]
        if not fit.fitted:
            raise DataFormatError(
                "stepwise ended on the intercept-only model, which has no fitted model",
                hint="raise max_step so that forward selection adds features",
            )
        return fit
