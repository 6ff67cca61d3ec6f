"""WOE and IV per bin from event and non-event counts, as FATE 1.11's IvCalculator computes them.

With ``E`` the events and ``N`` the non-events over all bins (each taken as 1 when 0), a bin with
``e`` events and ``n`` non-events has event rate ``e/E`` and non-event rate ``n/N``; a bin with no
events or no non-events counts ``e + a`` and ``n + a`` instead (``a``: adjustment_factor), so its
WOE stays finite. ``woe = ln(event_rate / non_event_rate)``, the bin's IV
``(event_rate - non_event_rate)·woe`` and the column's IV their sum.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from typing import Any

import numpy as np


def woe_iv(
    events: Sequence[float] | np.ndarray, non_events: Sequence[float] | np.ndarray, adjustment_factor: float
) -> dict[str, Any]:
    """The per-bin statistics of one column (the keys of the model's ColResult, split points aside)."""
    event = np.asarray(events, dtype=np.float64)
    non_event = np.asarray(non_events, dtype=np.float64)
    event_total = float(event.sum()) or 1.0
    non_event_total = float(non_event.sum()) or 1.0
    adjusted = (event == 0) | (non_event == 0)
    shift = np.where(adjusted, adjustment_factor, 0.0)
    event_rate = (event + shift) / event_total
    non_event_rate = (non_event + shift) / non_event_total
    woe = np.log(event_rate / non_event_rate)
    iv_array = (event_rate - non_event_rate) * woe
    woe_list = [float(w) for w in woe]
    return {
        "iv": float(math.fsum(iv_array)),
        "iv_array": [float(v) for v in iv_array],
        "woe": woe_list,
        "event_count": [round(v) for v in event],
        "non_event_count": [round(v) for v in non_event],
        "count": [round(a + b) for a, b in zip(event, non_event, strict=True)],
        "event_rate": [float(v) for v in event_rate],
        "non_event_rate": [float(v) for v in non_event_rate],
        "is_woe_monotonic": is_woe_monotonic(woe_list),
    }


def is_woe_monotonic(woe: Sequence[float]) -> bool:
    """Whether the WOE never decreases or never increases from bin to bin."""
    pairs = list(itertools.pairwise(woe))
    return all(a <= b for a, b in pairs) or all(a >= b for a, b in pairs)
