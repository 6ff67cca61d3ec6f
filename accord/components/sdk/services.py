"""What the worker lends every task: small protocols the SDK owns and the worker implements.

The SDK names what a component needs (a place for metrics, one for models, a way to exchange values
with peers, the site's tables, a computing engine) and nothing of how a site provides it, so a
component package imports neither the database layer, nor gRPC, nor Temporal. The worker's
implementations are in :mod:`accord.activities.services`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from accord.identity import Party

if TYPE_CHECKING:
    from accord.computing import Engine


@dataclass(frozen=True)
class MetricRef:
    """One metric of one run of a task (FATE's metric namespace and name)."""

    job_id: str
    component: str
    role: str
    party_id: int
    task_version: int
    namespace: str
    name: str


class MetricSink(Protocol):
    def log(self, key: MetricRef, points: Sequence[Sequence[Any]], *, metric_type: str, task_id: str) -> None:
        """Append ``[x, y]`` points to the metric, creating it on first use."""
        ...

    def set_meta(self, key: MetricRef, meta: Mapping[str, Any], *, metric_type: str, task_id: str) -> None:
        """Replace the metric's meta."""
        ...


@dataclass(frozen=True)
class ModelRef:
    """The model one component of one party saved under a model id and version."""

    model_id: str
    model_version: str
    role: str
    party_id: int
    component: str


class ModelSink(Protocol):
    def save(self, key: ModelRef, model: Mapping[str, Any]) -> object:
        """Store ``model`` (JSON-able); saving again while the job runs replaces it."""
        ...

    def load(self, key: ModelRef) -> dict[str, Any]: ...


@dataclass(frozen=True)
class LoadedModel:
    """A model an earlier job left, and where it came from as FATE's ModelLoader records it
    (``model_alias``, or the checkpoint's ``step_index``, ``step_name`` and ``create_time``)."""

    model: dict[str, Any]
    origin: dict[str, Any]


class EarlierJobs(Protocol):
    """What the site's earlier jobs left for the asking party (ModelLoader, CacheLoader).

    Every lookup is for one party (the task's own role and party id) and by ids the site checks against
    its records before it reads a file: a component names a model, a job, a component, never a path.
    Unknown ids are refused with a coded error naming the FATE field (model_id, job_id, ...).
    """

    def model(self, key: ModelRef, *, alias: str | None) -> LoadedModel:
        """The model ``key.component`` saved under that model id and version (``alias``: one of its model
        output names), or its latest checkpoint when it saved none."""
        ...

    def checkpoint(self, key: ModelRef, *, step_index: int | None, step_name: str | None) -> LoadedModel:
        """A checkpoint of ``key.component``: by step index, by step name (the last saved under it), or
        the latest when both are None."""
        ...

    def link_cache(
        self, job_id: str, party: Party, component: str, cache_name: str | None, target: Path
    ) -> str:
        """Make ``target`` the cache output ``cache_name`` (None: the component's only one) that
        ``component`` of ``job_id`` left on ``party``; returns the cache output's name."""
        ...


@dataclass(frozen=True)
class ExchangeKey:
    """Where one value travels: job, component, task version, tag, from and to which party."""

    job_id: str
    component: str
    task_version: int
    tag: str
    source: Party
    destination: Party


class ValueExchange(Protocol):
    """The data plane as a component sees it: values in, values out (the encoding is the site's)."""

    def send(self, keys: Sequence[ExchangeKey], value: Any) -> None:
        """Deliver ``value`` under each key; returns once every destination holds it."""
        ...

    def receive(self, key: ExchangeKey, *, timeout_s: float, sleep: Callable[[float], None]) -> Any:
        """The value sent under ``key``, waiting up to ``timeout_s`` (``sleep`` wakes on a stop)."""
        ...


@dataclass(frozen=True)
class SiteTable:
    """An uploaded table of the site: where its rows are and how its file was laid out.

    ``file`` is one Parquet file: column 0 the ids, then the value columns as text, as the uploaded
    file had them, in row groups an engine reads one partition each.
    """

    namespace: str
    name: str
    file: str
    count: int
    header: tuple[str, ...]
    sid: str
    delimiter: str
    # FATE 1.9+ upload meta (with_meta uploads), which DataTransform reads.
    meta: Any = None


class TableSource(Protocol):
    def open(self, namespace: str, name: str) -> SiteTable:
        """The table (RecordNotFound if the site has none by that name)."""
        ...


class EngineSource(Protocol):
    def open(
        self,
        computing_engine: str,
        *,
        cores: int,
        partitions: int,
        spark_run: Mapping[str, Any],
        app_name: str,
    ) -> Engine:
        """The engine a task's job parameters name; handed back to :meth:`close` when the task ends."""
        ...

    def close(self, engine: Engine) -> None: ...


@dataclass(frozen=True)
class TaskServices:
    tables: TableSource
    exchange: ValueExchange
    metrics: MetricSink
    models: ModelSink
    # How long a component waits for a value from a peer before its task fails.
    transfer_timeout_s: float
    # Block-table engines; None where the worker offers none (components then use datasets only).
    engines: EngineSource | None = None
    # The site's earlier jobs, as ModelLoader and CacheLoader read them; None where the worker has none.
    earlier: EarlierJobs | None = None
