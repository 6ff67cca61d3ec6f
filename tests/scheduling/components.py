"""Components for scheduling tests only: sleep, fail on demand, count calls, iterate. Not shipped."""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from accord.components import ComponentRegistry, TaskContext
from accord.components.sdk import ComponentBase, ComponentContext
from accord.dsl_compiler.catalog import make_spec

ROLES = "guest host arbiter"
IO = "data train_data test_data model"


def _calls_file(ctx: TaskContext) -> Path:
    # One file per job and component, shared by its parties, so a test can count every run.
    root = Path(os.environ.get("ACCORD_TEST_CALLS", ctx.work_dir.parents[2]))
    root.mkdir(parents=True, exist_ok=True)
    return root / f"{ctx.job_id}.{ctx.component}.calls"


def _count(ctx: TaskContext) -> int:
    """Record this run and return how many runs of this component's party came before it."""
    calls = _calls_file(ctx)
    mine = f"{ctx.party.role}:{ctx.party.party_id}:v{ctx.task_version}"
    previous = calls.read_text().splitlines() if calls.exists() else []
    with calls.open("a") as out:
        out.write(mine + "\n")
    return sum(1 for line in previous if line.startswith(f"{ctx.party.role}:{ctx.party.party_id}:"))


class SleepParam(BaseModel):
    model_config = ConfigDict(extra="ignore")

    seconds: float = 0


class FailParam(BaseModel):
    model_config = ConfigDict(extra="ignore")

    fail_roles: list[str] = ["guest", "host", "arbiter"]
    times: int = 1_000_000


class Sleep(ComponentBase[SleepParam]):
    """Sleeps ``seconds`` (default 0), waking up at once when stopped."""

    params = SleepParam
    # Runs are counted and timed by the tests: each must really run.
    reusable = False

    def fit(self, ctx: ComponentContext[SleepParam]) -> None:
        _count(ctx.task)
        ctx.task.sleep(ctx.params.seconds)

    predict = fit


class Fail(ComponentBase[FailParam]):
    """Fails on the roles in ``fail_roles`` (default all) for its first ``times`` runs (default always)."""

    params = FailParam
    # Runs are counted and timed by the tests: each must really run.
    reusable = False

    def fit(self, ctx: ComponentContext[FailParam]) -> None:
        earlier = _count(ctx.task)
        if ctx.role in ctx.params.fail_roles and earlier < ctx.params.times:
            raise RuntimeError(f"asked to fail (run {earlier + 1} of {ctx.role})")

    predict = fit


class IterateParam(BaseModel):
    model_config = ConfigDict(extra="ignore")

    max_iter: int = 3
    seconds: float = 0.0
    fail_at: int | None = None
    message_bytes: int = 0


class Iterate(ComponentBase[IterateParam]):
    """Runs ``max_iter`` iterations of ``seconds``, logging and reporting each with a made-up loss.

    With ``fail_at`` it raises in that iteration, with a message of ``message_bytes`` more bytes.
    """

    params = IterateParam
    # Runs are counted and timed by the tests: each must really run.
    reusable = False

    def fit(self, ctx: ComponentContext[IterateParam]) -> None:
        total = ctx.params.max_iter
        for iteration in range(1, total + 1):
            if iteration == ctx.params.fail_at:
                raise RuntimeError(f"asked to fail in iteration {iteration}" + "x" * ctx.params.message_bytes)
            ctx.task.sleep(ctx.params.seconds)
            loss = 1.0 / (iteration + 1)
            ctx.log.info("iteration %d/%d: loss %.4f", iteration, total, loss)
            ctx.progress(iteration, total, f"loss {loss:.4f}")

    predict = fit


def register(registry: ComponentRegistry) -> None:
    registry.register("TestSleep", Sleep, make_spec("TestSleep", ROLES, IO, "data model"))
    registry.register("TestFail", Fail, make_spec("TestFail", ROLES, IO, "data model"))
    registry.register("TestIterate", Iterate, make_spec("TestIterate", ROLES, IO, "data model"))
