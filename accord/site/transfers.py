"""How long exchanged values stay on a site: until the job ends here, plus ``transfer_retention_s``.

Values under ``<home>/transfer`` are intermediate protocol values (encrypted gradients, masked
aggregates); nothing reads them once every party of the job on this site has ended, so they go then:
at once with a retention of 0, else by the periodic sweep once the retention has passed. The sweep
also removes the values of jobs this site has no row of (a job deleted, or values from before pushes
were checked).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from accord.federation.mailbox import Mailbox
from accord.persistence import JobRepository
from accord.settings import Settings

log = logging.getLogger(__name__)


class TransferJanitor:
    def __init__(
        self,
        settings: Settings,
        jobs: JobRepository,
        mailbox: Mailbox | None = None,
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._retention = timedelta(seconds=settings.transfer_retention_s)
        self._interval_s = settings.reconcile_interval_s
        self._jobs = jobs
        self.mailbox = mailbox or Mailbox(settings.home / "transfer")
        self._clock = clock
        self._task: asyncio.Task[None] | None = None

    async def job_ended(self, job_id: str) -> None:
        """A party of the job ended here: purge now if it was the last and nothing is retained."""
        if self._retention:
            return
        ended = await asyncio.to_thread(self._jobs.ended_at, [job_id])
        if ended.get(job_id) is not None:
            await asyncio.to_thread(self.mailbox.purge, job_id)
            log.info("purged the transfer values of job %s", job_id)

    def sweep(self) -> list[str]:
        """Purge every job whose retention has passed (or that has no row here); the jobs purged."""
        present = self.mailbox.job_ids()
        if not present:
            return []
        ended = self._jobs.ended_at(present)
        cutoff = self._clock() - self._retention
        purged = []
        for job_id in present:
            if job_id in ended:
                end = ended[job_id]
                if end is None or end > cutoff:
                    continue
            self.mailbox.purge(job_id)
            purged.append(job_id)
        if purged:
            log.info("purged the transfer values of %d ended job(s): %s", len(purged), ", ".join(purged))
        return purged

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._sweep_forever(), name="accord.transfer-sweep")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _sweep_forever(self) -> None:
        while True:
            try:
                await asyncio.to_thread(self.sweep)
            except Exception:
                # A sweep that fails (database away, a file in use) is tried again next round.
                log.exception("the transfer sweep failed")
            await asyncio.sleep(self._interval_s)
