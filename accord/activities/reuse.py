"""The task activity's side of reusing finished components (see :mod:`accord.site.reuse`).

Recording is best effort: a task whose fingerprint or digests cannot be taken still succeeds, it just
cannot be reused later. Adoption is not: a task told to reuse an earlier run either takes its outputs,
checked against their digests, or fails with :class:`~accord.errors.ReuseUnavailable` so the job runs it.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from accord.components import TaskContext
from accord.dsl_compiler.plan import JobPlan
from accord.errors import ReuseUnavailable
from accord.identity import ReuseCandidate
from accord.persistence import TaskKey
from accord.site.reuse import ReuseService

log = logging.getLogger(__name__)
task_log = logging.getLogger("accord.component.task")


class TaskReuse:
    """Fingerprints before a run, digests after it, and adoption instead of it; None: none of them."""

    def __init__(self, service: ReuseService | None) -> None:
        self._service = service

    async def fingerprint(self, plan: JobPlan, key: TaskKey) -> str | None:
        """Taken before the task runs, so it names the inputs the run actually read."""
        if self._service is None:
            return None
        try:
            return await asyncio.to_thread(self._service.fingerprint, plan, key)
        except Exception:
            log.warning("no fingerprint for %s: it will not be reused", key, exc_info=True)
            return None

    async def record(self, plan: JobPlan, key: TaskKey, fingerprint: str | None) -> None:
        """Kept before the task's success is reported: downstream fingerprints read these digests."""
        if self._service is None:
            return
        try:
            await asyncio.to_thread(self._service.record_success, plan, key, fingerprint)
        except Exception:
            log.warning("outputs of %s not recorded: it will not be reused", key, exc_info=True)

    def adoption(self, plan: JobPlan, key: TaskKey, source: ReuseCandidate) -> Adoption:
        return Adoption(self._service, plan, key, source)


class Adoption:
    """Runs in the component's place (and thread, with its task log): takes ``source``'s outputs."""

    def __init__(
        self, service: ReuseService | None, plan: JobPlan, key: TaskKey, source: ReuseCandidate
    ) -> None:
        self._service = service
        self._plan = plan
        self._key = key
        self._source = source

    def run(self, ctx: TaskContext) -> Any:
        task_log.info(
            "task %s v%d of job %s on %s reused from job %s component %s (version %d)",
            ctx.component,
            ctx.task_version,
            ctx.job_id,
            ctx.party,
            self._source.job_id,
            self._source.component,
            self._source.task_version,
        )
        if self._service is None:
            raise ReuseUnavailable(
                f"{ctx.component} was to reuse {self._source}, but this worker keeps no reuse records",
                hint="the job runs the task instead",
            )
        self._service.adopt(self._plan, self._key, self._source)
