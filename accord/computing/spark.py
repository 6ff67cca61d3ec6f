"""The Spark engine (computing engine SPARK, backends 1 and 2): block tables as Spark RDDs.

A table is an RDD with exactly one element per partition, ``(partition index, block bytes)``
(:func:`accord.computing.block.encode`: an Arrow IPC stream, or a ciphertext blob). Python workers
decode a block once per partition and work on it column-wise, as ``mapInArrow`` does, with no
per-row pickling; one element per partition is what lets ``RDD.zip`` pair co-partitioned blocks,
which the DataFrame API cannot. The classic API is used throughout: Spark Connect has no RDDs.

Transformations stay lazy; Spark runs a job only for a count, an aggregate, a write or a
collection, and :meth:`SparkTable.persist` caches (memory, then disk). The driver never holds a
table: tables come from files the executors read, and ``blocks``/``send`` fetch one partition at
a time (``toLocalIterator``). Tables live under the site's ``spark_table_root``, a local path for
``local[N]`` or a location every executor reaches (``hdfs://``) for a cluster.

pyspark is imported only here, and this module only when a job asks for SPARK, so a site runs
without the Spark extra installed.
"""

from __future__ import annotations

import contextlib
import functools
import importlib.util
import os
import re
import shutil
import sys
import tempfile
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeVar, cast

from accord.computing import block as blocks_
from accord.computing import layout
from accord.computing.block import Block
from accord.computing.spooled import SpooledEngine
from accord.computing.table import BlockTable, PartitionFn, Sender, ZipFn, check_partitions
from accord.errors import AccordError, ArgumentError, EngineUnavailable, error_from_code

if TYPE_CHECKING:
    from pyspark import RDD
    from pyspark.sql import SparkSession

T = TypeVar("T")
Item = tuple[int, bytes]

# spark-submit's options (FATE-Flow passes spark_run's keys to spark-submit as --<key>=<value>)
# and the Spark properties they set.
SUBMIT_OPTIONS = {
    "num-executors": "spark.executor.instances",
    "executor-cores": "spark.executor.cores",
    "executor-memory": "spark.executor.memory",
    "driver-memory": "spark.driver.memory",
    "driver-cores": "spark.driver.cores",
    "total-executor-cores": "spark.cores.max",
    "queue": "spark.yarn.queue",
    "name": "spark.app.name",
}


def spark_conf(
    spark_run: Mapping[str, Any],
    *,
    master: str,
    app_name: str,
    site_conf: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """The Spark properties of a job's ``spark_run`` on a site whose master is ``master``.

    Keys are spark-submit's options (``num-executors`` …), ``conf`` (a mapping of properties, as
    FATE-Flow takes it) or ``spark.*`` properties themselves. The master is the site's, not the job's;
    ``site_conf`` (the site's ``spark.conf``) gives defaults the job's ``spark_run`` may override.
    """
    conf = {
        "spark.master": master,
        "spark.app.name": app_name,
        # Executors run this interpreter (or the operator's PYSPARK_PYTHON), so they import the
        # same accord and pyarrow.
        "spark.pyspark.python": os.environ.get("PYSPARK_PYTHON", sys.executable),
        "spark.pyspark.driver.python": sys.executable,
    }
    for name, setting in (site_conf or {}).items():
        conf[_property(str(name), f"the site's spark.conf.{name}")] = _text(setting)
    for key, value in spark_run.items():
        if key == "conf":
            if not isinstance(value, Mapping):
                raise ArgumentError(
                    "spark_run.conf must be a mapping of Spark properties",
                    hint='write it as {"spark.executor.memory": "2g", ...}',
                )
            for name, setting in value.items():
                conf[_property(str(name), f"spark_run.conf.{name}")] = _text(setting)
        elif key == "deploy-mode":
            if value != "client":
                raise ArgumentError(
                    f"spark_run.deploy-mode {value!r} is not supported",
                    hint="use client (the task's worker is the driver), as FATE-Flow does",
                )
        elif key in SUBMIT_OPTIONS:
            conf[SUBMIT_OPTIONS[key]] = _text(value)
        else:
            conf[_property(key, f"spark_run.{key}")] = _text(value)
    return conf


def _property(name: str, where: str) -> str:
    if name == "spark.master":
        raise ArgumentError(
            f"{where}: a job cannot choose the Spark master",
            hint="the site's config names it (spark.master in the site file); remove it from spark_run",
        )
    if not name.startswith("spark."):
        known = ", ".join(sorted(SUBMIT_OPTIONS))
        raise ArgumentError(
            f"{where}: {name!r} is neither a spark-submit option nor a Spark property",
            hint=f"use one of {known}, conf, or a spark.* property",
        )
    return name


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def check_runtime() -> None:
    """Raise EngineUnavailable, naming the fix, if this process cannot start a Spark driver.

    A driver needs pyspark and a Java runtime, found as spark-class finds it: ``$JAVA_HOME/bin/java``
    when JAVA_HOME is set, else ``java`` on the PATH. Checked at submit, so a site without Spark
    refuses a Spark job before it starts, and again when a task opens the engine.
    """
    if importlib.util.find_spec("pyspark") is None:
        raise EngineUnavailable(
            "computing engine SPARK (backend 1 or 2) needs pyspark, which is not installed on this site",
            hint="install accord with the spark extra (pip install 'accord[spark]') on the site's "
            "server and workers, or submit with backend 0",
        )
    java_home = os.environ.get("JAVA_HOME")
    java = os.path.join(java_home, "bin", "java") if java_home else shutil.which("java")
    if java is None or not os.access(java, os.X_OK):
        where = f"JAVA_HOME={java_home} has no bin/java" if java_home else "no java on the PATH"
        raise EngineUnavailable(
            f"computing engine SPARK (backend 1 or 2) needs a Java runtime, and this site has none ({where})",
            hint="install a Java 17+ runtime on the site's server and workers (Debian: apt-get install "
            "openjdk-17-jre-headless) or set JAVA_HOME to one, or submit with backend 0",
        )


def start_session(conf: Mapping[str, str]) -> SparkSession:
    """A SparkSession with ``conf`` (or the process's existing one: one per process)."""
    check_runtime()
    from pyspark import SparkConf
    from pyspark.sql import SparkSession

    # A SparkContext made in a running interpreter takes its workers' Python from the environment
    # only, not from spark.pyspark.python.
    os.environ["PYSPARK_PYTHON"] = conf.get("spark.pyspark.python", sys.executable)
    spark_conf_ = SparkConf().setAll(list(conf.items()))
    try:
        return SparkSession.builder.config(conf=spark_conf_).getOrCreate()
    except RuntimeError as error:
        # pyspark's "Java gateway process exited before sending its port number": the JVM did not
        # start (its reason went to this process's stderr).
        if "Java gateway" not in str(error):
            raise
        raise EngineUnavailable(
            f"the Spark driver's JVM did not start: {error}",
            hint="check the worker's log for the JVM's own message (a Java 17+ runtime, "
            "SPARK_HOME, memory) and the site's spark settings",
        ) from None


# ---- what executors run (module level: pickled by name) -----------------------------------

# Spark hands a worker's exception to the driver as text; an Accord error crosses as this marker,
# and the driver raises the same coded error from it (see _surfaced).
_MARK = re.compile(r"\[accord-error (\d+)\] ([^\n]*)")
# An executor whose Python lacks accord (or a module a component uses) fails to unpickle the task.
_MISSING_MODULE = re.compile(r"(?:ModuleNotFoundError|ImportError): No module named '([^']+)'")
F = TypeVar("F", bound=Callable[..., Any])


def _coded(fn: F) -> F:
    @functools.wraps(fn)
    def run(*arguments: Any) -> Any:
        try:
            return fn(*arguments)
        except AccordError as error:
            raise RuntimeError(f"[accord-error {error.code}] {error.retmsg}") from None

    return cast(F, run)


@contextlib.contextmanager
def _surfaced() -> Iterator[None]:
    """Run a Spark action; an Accord error an executor raised is raised here with its code."""
    try:
        yield
    except Exception as error:
        text = str(error)
        found = _MARK.search(text)
        if found is not None:
            raise error_from_code(int(found.group(1)), found.group(2)) from None
        missing = _MISSING_MODULE.search(text)
        if missing is not None:
            raise EngineUnavailable(
                f"a Spark executor cannot import {missing.group(1)!r}: its Python lacks the packages "
                "Accord's tasks run (accord, pyarrow, numpy and the installed components)",
                hint="install the same accord[spark] (and component plug-ins) on every executor, with "
                "PYSPARK_PYTHON naming that interpreter, or ship them with spark.submit.pyFiles / "
                "spark.archives in the site's spark.conf or the job's spark_run",
            ) from None
        raise


@_coded
def _map_item(fn: PartitionFn, item: Item) -> Item:
    index, data = item
    return index, blocks_.encode(fn(index, blocks_.decode(data)))


@_coded
def _zip_item(fn: ZipFn, pair: tuple[Item, Item]) -> Item:
    (index, mine), (_, theirs) = pair
    return index, blocks_.encode(fn(blocks_.decode(mine), blocks_.decode(theirs)))


@_coded
def _split_item(partitions: int, item: Item) -> list[Item]:
    batch = blocks_.require_batch(blocks_.decode(item[1]), "repartition_by_sid")
    pieces = blocks_.split_by_sid(batch, partitions)
    return [(target, blocks_.encode(piece)) for target, piece in enumerate(pieces)]


def _target(key: int) -> int:
    return key


@_coded
def _gather(index: int, items: Iterable[Item]) -> Iterator[Item]:
    pieces = [blocks_.require_batch(blocks_.decode(data), "shuffle") for _, data in items]
    yield index, blocks_.encode(blocks_.concat_batches(pieces, pieces[0].schema))


@_coded
def _partial_item(partial: Callable[[Block], T], item: Item) -> T:
    return partial(blocks_.decode(item[1]))


@_coded
def _write_item(location: str, item: Item) -> layout.Kind:
    return layout.write_block(location, item[0], blocks_.decode(item[1]))


@_coded
def _read_item(location: str, kind: layout.Kind, index: int) -> Item:
    return index, blocks_.encode(layout.read_block(location, index, kind))


@_coded
def _read_group(file: str, index: int) -> Item:
    return index, blocks_.encode(layout.read_row_group(file, index))


# ---- the engine ---------------------------------------------------------------------------


class SparkEngine(SpooledEngine):
    """Block tables on a Spark session; ``stop_session`` if closing the engine ends the session."""

    def __init__(
        self,
        session: SparkSession,
        *,
        partitions: int,
        table_root: str | None = None,
        stop_session: bool = False,
    ) -> None:
        self.session = session
        self.partitions = check_partitions(partitions, "spark engine")
        master = str(session.sparkContext.master)
        if table_root is None and not master.startswith("local"):
            raise ArgumentError(
                f"the Spark master {master} needs a table location every executor reaches",
                hint="set spark.table_root in the site config (a shared path or hdfs://...)",
            )
        self._own_root = table_root is None
        root = table_root if table_root is not None else tempfile.mkdtemp(prefix="accord-spark-")
        self.root = f"{root.rstrip('/')}/scratch-{uuid.uuid4().hex}"
        self._stop_session = stop_session

    @property
    def context(self) -> Any:
        return self.session.sparkContext

    def scratch(self, name: str) -> str:
        return f"{self.root}/{name}-{uuid.uuid4().hex}"

    def table(self, rdd: RDD[Item], sid_partitioned: bool) -> SparkTable:
        return SparkTable(self, rdd, sid_partitioned)

    def parallelize(self, blocks: Sequence[Block]) -> BlockTable:
        count = check_partitions(len(blocks), "parallelize (one block per partition)")
        items = [(index, blocks_.encode(block)) for index, block in enumerate(blocks)]
        return self.table(self.context.parallelize(items, count), sid_partitioned=False)

    def read(self, location: str) -> BlockTable:
        meta = layout.read_meta(location)
        indexes = self.context.parallelize(range(meta.partitions), meta.partitions)
        rdd = indexes.map(functools.partial(_read_item, location, meta.kind))
        return self.table(rdd, meta.sid_partitioned)

    def read_parquet(self, file: str) -> BlockTable:
        groups = check_partitions(layout.row_group_count(file), f"read_parquet({file}): row groups")
        indexes = self.context.parallelize(range(groups), groups)
        return self.table(indexes.map(functools.partial(_read_group, file)), sid_partitioned=False)

    def receive(self, parts: Iterable[tuple[int, bytes]], partitions: int) -> BlockTable:
        location = layout.receive_into(self.scratch("received"), parts, partitions)
        return self.read(location)

    def close(self) -> None:
        with contextlib.suppress(OSError, FileNotFoundError):
            filesystem, path = layout.resolve(self.root)
            filesystem.delete_dir(path)
        if self._own_root:
            shutil.rmtree(self.root.rsplit("/", 1)[0], ignore_errors=True)
        if self._stop_session:
            self.session.stop()


class SparkTable(BlockTable):
    def __init__(self, engine: SparkEngine, rdd: RDD[Item], sid_partitioned: bool) -> None:
        self._engine = engine
        self.rdd = rdd
        self._sid_partitioned = sid_partitioned

    @property
    def partitions(self) -> int:
        return int(self.rdd.getNumPartitions())

    @property
    def sid_partitioned(self) -> bool:
        return self._sid_partitioned

    def map_partitions_with_index(self, fn: PartitionFn, *, preserves_sids: bool = False) -> BlockTable:
        mapped = self.rdd.map(functools.partial(_map_item, fn))
        return self._engine.table(mapped, self._sid_partitioned and preserves_sids)

    def zip_partitions(self, other: BlockTable, fn: ZipFn, *, preserves_sids: bool = False) -> BlockTable:
        if not isinstance(other, SparkTable) or other._engine is not self._engine:
            raise ArgumentError(
                "a Spark table can only be combined with a table of the same Spark engine",
                hint="read or receive the other table through this task's engine",
            )
        if other.partitions != self.partitions:
            raise ArgumentError(
                f"zip_partitions: {self.partitions} partitions against {other.partitions}",
                hint="repartition_by_sid both tables to the same number of partitions first",
            )
        zipped = self.rdd.zip(other.rdd).map(functools.partial(_zip_item, fn))
        keeps = self._sid_partitioned and other._sid_partitioned and preserves_sids
        return self._engine.table(zipped, keeps)

    def repartition_by_sid(self, partitions: int | None = None) -> BlockTable:
        count = check_partitions(partitions or self.partitions, "repartition_by_sid")
        pieces = self.rdd.flatMap(functools.partial(_split_item, count))
        shuffled = pieces.partitionBy(count, _target)
        gathered = shuffled.mapPartitionsWithIndex(_gather, preservesPartitioning=True)
        return self._engine.table(gathered, sid_partitioned=True)

    def aggregate(self, zero: T, partial: Callable[[Block], T], combine: Callable[[T, T], T]) -> T:
        # The partials are small and come back in partition order, so the fold is the local engine's.
        with _surfaced():
            values = self.rdd.map(functools.partial(_partial_item, partial)).collect()
        return functools.reduce(combine, values, zero)

    def blocks(self) -> Iterator[tuple[int, Block]]:
        with _surfaced():
            for index, data in self.rdd.toLocalIterator(prefetchPartitions=False):
                yield index, blocks_.decode(data)

    def send(self, sender: Sender) -> int:
        # The items are encoded blocks already: they go as they are, not decoded and encoded again.
        # Spark computes the next partition while this one is sent (two at most on the driver).
        sent = 0
        with _surfaced():
            for index, data in self.rdd.toLocalIterator(prefetchPartitions=True):
                sender(index, data)
                sent += 1
        return sent

    def persist(self) -> BlockTable:
        from pyspark import StorageLevel

        self.rdd.persist(StorageLevel.MEMORY_AND_DISK)
        return self

    def unpersist(self) -> None:
        self.rdd.unpersist()

    def write(self, location: str) -> None:
        with _surfaced():
            kinds = self.rdd.map(functools.partial(_write_item, location)).collect()
        kind = layout.table_kind(location, kinds)
        layout.write_meta(location, layout.TableMeta(self.partitions, kind, self._sid_partitioned))
