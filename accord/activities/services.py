"""The worker's side of the component SDK's protocols (accord.components.sdk.services).

The SDK names what a component needs; these classes give it from the site's parts: metrics and
models through their repositories, values through the federation data plane and the mailbox, tables
from the table store, and engines as the job's computing_engine asks.
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future
from pathlib import Path
from typing import Any

from accord.components.sdk.services import ExchangeKey, MetricRef, ModelRef, SiteTable
from accord.computing import SPARK_ENGINES, Engine, engine_for
from accord.errors import AccordError, DataError
from accord.federation import codec
from accord.federation.mailbox import Mailbox, TransferKey
from accord.model_store import ModelKey, ModelStore
from accord.persistence import MetricRepository, TaskKey, TaskRepository
from accord.persistence.records import MetricKey
from accord.settings import Settings
from accord.storage import ENGINE, TableStore
from accord.storage.model import DATA_FILE

Send = Callable[[TransferKey, bytes, str], "Future[None]"]
# A component may report every iteration; the task row is written at most this often.
PROGRESS_EVERY_S = 1.0

log = logging.getLogger(__name__)


class ProgressRecorder:
    """A task's ``ctx.progress`` into its row: at most one write a second; :meth:`flush` writes the last."""

    def __init__(
        self, tasks: TaskRepository, key: TaskKey, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._tasks = tasks
        self._key = key
        self._clock = clock
        self._last_write: float | None = None
        self._pending: tuple[int, int, str] | None = None
        self._lock = threading.Lock()

    def __call__(self, done: int, total: int, note: str = "") -> None:
        now = self._clock()
        with self._lock:
            self._pending = (max(0, int(done)), max(0, int(total)), str(note))
            if self._last_write is not None and now - self._last_write < PROGRESS_EVERY_S:
                return
            self._last_write = now
        self.flush()

    def flush(self) -> None:
        """Write the latest progress not yet written (the task calls this when it ends)."""
        with self._lock:
            pending, self._pending = self._pending, None
        if pending is None:
            return
        done, total, note = pending
        try:
            self._tasks.set_progress(self._key, min(done, total) if total else done, total, note)
        except AccordError as error:
            # Progress is a convenience: never fail a task for it.
            log.info("progress of %s not recorded: %s", self._key, error.message)


class RepositoryMetrics:
    def __init__(self, metrics: MetricRepository) -> None:
        self._metrics = metrics

    def log(self, key: MetricRef, points: Sequence[Sequence[Any]], *, metric_type: str, task_id: str) -> None:
        self._metrics.log(_metric_key(key), points, metric_type=metric_type, task_id=task_id)

    def set_meta(self, key: MetricRef, meta: Mapping[str, Any], *, metric_type: str, task_id: str) -> None:
        self._metrics.set_meta(_metric_key(key), meta, metric_type=metric_type, task_id=task_id)


def _metric_key(key: MetricRef) -> MetricKey:
    return MetricKey(
        key.job_id, key.component, key.role, key.party_id, key.task_version, key.namespace, key.name
    )


class StoredModels:
    def __init__(self, models: ModelStore) -> None:
        self._models = models

    def save(self, key: ModelRef, model: Mapping[str, Any]) -> str:
        return self._models.save(_model_key(key), model)

    def load(self, key: ModelRef) -> dict[str, Any]:
        return self._models.load(_model_key(key))


def _model_key(key: ModelRef) -> ModelKey:
    return ModelKey(key.model_id, key.model_version, key.role, key.party_id, key.component)


class FederatedExchange:
    """Values encoded by :mod:`accord.federation.codec`, pushed by ``send``, taken from the mailbox."""

    def __init__(self, mailbox: Mailbox, send: Send) -> None:
        self._mailbox = mailbox
        self._send = send

    def send(self, keys: Sequence[ExchangeKey], value: Any) -> None:
        data = codec.encode(value)
        sends = []
        for key in keys:
            transfer = _transfer_key(key)
            # Stable across resends of this value, so the receiving site can tell a repeat.
            request_id = hashlib.sha256(repr(transfer).encode()).hexdigest()[:32]
            sends.append(self._send(transfer, data, request_id))
        for sent in sends:
            sent.result()

    def receive(self, key: ExchangeKey, *, timeout_s: float, sleep: Callable[[float], None]) -> Any:
        return codec.decode(self._mailbox.wait(_transfer_key(key), timeout_s=timeout_s, sleep=sleep))


def _transfer_key(key: ExchangeKey) -> TransferKey:
    # Made here, where the key is checked (one file name per part, never one that climbs out).
    return TransferKey(
        job_id=key.job_id,
        component=key.component,
        task_version=key.task_version,
        tag=key.tag,
        source=key.source,
        destination=key.destination,
    )


class SiteTables:
    def __init__(self, store: TableStore) -> None:
        self.store = store

    def open(self, namespace: str, name: str) -> SiteTable:
        info = self.store.info(namespace, name)
        file = Path(info.address) / DATA_FILE
        if info.engine != ENGINE or not file.is_file():
            raise DataError(
                f"the data of table {namespace}.{name} is not a Parquet file this site can read "
                f"(engine {info.engine}, {file})",
                hint="upload the table again (with drop: 1)",
            )
        return SiteTable(
            namespace=namespace,
            name=name,
            file=str(file),
            count=info.count,
            header=tuple(info.header),
            sid=info.sid or "id",
            delimiter=info.id_delimiter,
            meta=info.schema.get("meta"),
        )


class SiteEngines:
    """Each task's engine, as its job's computing_engine names it; closed when the task ends.

    A process has one Spark session, which every Spark task running in it shares (components of one
    job run at once in one worker). Starting one costs a driver JVM and executors (tens of seconds on
    a cluster), so after its last task ends it is kept ``spark_idle_s`` for the job's next component,
    and reused when that asks for the same Spark settings (the application name aside). A task
    asking for other settings while it idles gets a new session; one that arrives while the session
    is busy shares it, and the difference is logged.
    """

    def __init__(
        self, settings: Settings, work_dir: Path | None = None, *, spark_idle_s: float = 30.0
    ) -> None:
        self._settings = settings
        self._work_dir = work_dir
        self._lock = threading.Lock()
        self._spark_users = 0
        self._spark_idle_s = spark_idle_s
        self._session: Any = None
        self._session_key: tuple[tuple[str, str], ...] = ()
        self._idle: threading.Timer | None = None

    def open(
        self,
        computing_engine: str,
        *,
        cores: int,
        partitions: int,
        spark_run: Mapping[str, Any],
        app_name: str,
    ) -> Engine:
        if computing_engine.upper() not in SPARK_ENGINES:
            return engine_for(
                computing_engine,
                self._settings,
                # A worker process per core at most: more only adds start-up time (each is a fresh
                # interpreter) and memory, whatever task_cores the job reserved.
                cores=max(1, min(cores, os.cpu_count() or 1)),
                partitions=partitions,
                spark_run=spark_run,
                app_name=app_name,
                work_dir=self._work_dir,
            )
        # Imported here: pyspark is an optional extra, needed only by jobs that ask for SPARK.
        from accord.computing.spark import SparkEngine, spark_conf, start_session

        conf = spark_conf(
            spark_run,
            master=self._settings.spark_master,
            app_name=app_name,
            site_conf=self._settings.spark_conf,
        )
        key = tuple(sorted((name, value) for name, value in conf.items() if name != "spark.app.name"))
        with self._lock:
            if self._idle is not None:
                self._idle.cancel()
                self._idle = None
            if self._session is not None and key != self._session_key:
                if self._spark_users == 0:
                    self._session.stop()
                    self._session = None
                else:
                    log.warning("%s shares the running Spark session, started with other settings", app_name)
            if self._session is None:
                self._session = start_session(conf)
                self._session_key = key
            self._spark_users += 1
            session = self._session
        return SparkEngine(
            session, partitions=partitions, table_root=self._settings.spark_table_root, stop_session=False
        )

    def close(self, engine: Engine) -> None:
        engine.close()
        if getattr(engine, "session", None) is None:
            return
        with self._lock:
            self._spark_users -= 1
            if self._spark_users == 0 and self._session is not None:
                self._idle = threading.Timer(self._spark_idle_s, self._stop_idle)
                self._idle.daemon = True
                self._idle.start()

    def _stop_idle(self) -> None:
        with self._lock:
            if self._spark_users == 0 and self._session is not None:
                self._session.stop()
                self._session = None

    def shutdown(self) -> None:
        """Stop a session kept idle; the worker calls this as it exits."""
        with self._lock:
            if self._idle is not None:
                self._idle.cancel()
                self._idle = None
        self._stop_idle()
