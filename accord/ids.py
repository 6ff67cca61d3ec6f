"""Job ids in FATE's form: the submit time to the microsecond, then a per-process counter."""

from __future__ import annotations

import itertools
import threading
from datetime import UTC, datetime

_counter = itertools.count()
_lock = threading.Lock()


def new_job_id(now: datetime | None = None) -> str:
    moment = now or datetime.now(UTC)
    with _lock:
        sequence = next(_counter) % 100
    return f"{moment.strftime('%Y%m%d%H%M%S%f')}{sequence:02d}"
