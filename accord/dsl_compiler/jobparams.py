"""Job parameters: FATE's defaults, the backend → engine table, range checks and resources."""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import BaseModel, ConfigDict

from accord.dsl_compiler.plan import JobParameters, PartyResources
from accord.errors import JobParameterError


class JobDefaults(BaseModel):
    """A site's defaults for what a conf leaves out (FATE-Flow's job_default_config)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    work_mode: int = 0
    backend: int = 0
    task_cores: int = 4
    task_parallelism: int = 1
    federated_status_collect_type: str = "PUSH"
    timeout: int = 259200
    auto_retries: int = 0
    auto_retry_delay: int = 1
    # Nodes of the site's computing engine; task cores are spread over them.
    computing_nodes: int = 1


# backend → (computing, storage, federation) when work_mode and backend select the engines.
_BACKEND_ENGINES: dict[tuple[int, int], tuple[str, str, str]] = {
    (0, 0): ("STANDALONE", "STANDALONE", "STANDALONE"),
    (1, 0): ("EGGROLL", "EGGROLL", "EGGROLL"),
    (0, 1): ("SPARK", "HDFS", "RABBITMQ"),
    (1, 1): ("SPARK", "HDFS", "RABBITMQ"),
    (0, 2): ("SPARK", "HDFS", "PULSAR"),
    (1, 2): ("SPARK", "HDFS", "PULSAR"),
}
# Storage and federation that go with a computing engine named on its own.
_ENGINE_COMPANIONS: dict[str, tuple[str, str]] = {
    "STANDALONE": ("STANDALONE", "STANDALONE"),
    "EGGROLL": ("EGGROLL", "EGGROLL"),
    "SPARK": ("HDFS", "RABBITMQ"),
    "LINKIS_SPARK": ("LINKIS_HIVE", "RABBITMQ"),
}
COMPUTING_ENGINES = frozenset(_ENGINE_COMPANIONS)
STORAGE_ENGINES = frozenset(
    {"STANDALONE", "EGGROLL", "HDFS", "LOCALFS", "HIVE", "LINKIS_HIVE", "MYSQL", "PATH", "API"}
)
FEDERATION_ENGINES = frozenset({"STANDALONE", "EGGROLL", "RABBITMQ", "PULSAR"})
# Roles whose cores FATE does not reserve on these engines: the arbiter only aggregates.
_NO_RESOURCE_ROLES = frozenset({"arbiter"})
_NO_RESOURCE_ENGINES = frozenset({"EGGROLL", "STANDALONE"})

MAX_TIMEOUT = 30 * 24 * 3600
_TYPED_KEYS = frozenset(JobParameters.model_fields) - {"extra", "no_reuse"}
# Parameters FATE-Flow knows that the plan carries unchanged.
_PASSTHROUGH_KEYS = frozenset(
    {
        "engines_address",
        "federation_info",
        "federated_data_exchange_type",
        "dsl_version",
        "adaptation_parameters",
        "assistant_role",
        "map_table_name",
        "map_namespace",
        "inheritance_info",
        "task_memory",
    }
)
KNOWN_KEYS = _TYPED_KEYS | _PASSTHROUGH_KEYS


def unknown_key_warnings(raw: Mapping[str, Any], where: str) -> list[str]:
    warnings = []
    for key in raw:
        if key not in KNOWN_KEYS:
            close = difflib.get_close_matches(key, sorted(KNOWN_KEYS), n=1)
            guess = f" (did you mean '{close[0]}'?)" if close else ""
            warnings.append(f"{where}.{key} is not a job parameter and is ignored{guess}")
    return warnings


def _fail(where: str, key: str, value: Any, expected: str) -> JobParameterError:
    return JobParameterError(
        f"conf: {where}.{key} = {value!r} is out of range", hint=f"{key} must be {expected}", field=key
    )


def _integer(raw: Mapping[str, Any], key: str, default: int, low: int, high: int, where: str) -> int:
    value = raw.get(key)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise _fail(where, key, value, f"an integer from {low} to {high}")
    try:
        number = int(value)
    except ValueError:
        raise _fail(where, key, value, f"an integer from {low} to {high}") from None
    if not low <= number <= high:
        raise _fail(where, key, value, f"an integer from {low} to {high}")
    return number


def _choice(raw: Mapping[str, Any], key: str, default: str, choices: frozenset[str], where: str) -> str:
    value = raw.get(key)
    if value is None:
        return default
    # FATE's engine names are upper case; accept any case as FATE's enums do on comparison.
    if not isinstance(value, str) or value.strip().upper() not in choices:
        raise _fail(where, key, value, "one of " + ", ".join(sorted(repr(c) for c in choices)))
    return value.strip().upper()


def _mapping(raw: Mapping[str, Any], key: str, where: str) -> dict[str, Any]:
    value = raw.get(key) or {}
    if not isinstance(value, dict):
        raise _fail(where, key, value, "an object of engine settings")
    return dict(value)


def _model_field(raw: Mapping[str, Any], key: str, where: str) -> str | None:
    value = raw.get(key)
    if value is None:
        return None
    if not isinstance(value, str | int) or isinstance(value, bool):
        raise _fail(where, key, value, "a string")
    return str(value)


def resolve_job_parameters(raw: Mapping[str, Any], defaults: JobDefaults, where: str) -> JobParameters:
    """Merged job parameters of one party → typed, range-checked parameters with engines."""
    job_type = raw.get("job_type") or "train"
    if job_type not in ("train", "predict"):
        raise _fail(where, "job_type", job_type, "'train' or 'predict'")
    work_mode = _integer(raw, "work_mode", defaults.work_mode, 0, 1, where)
    backend = _integer(raw, "backend", defaults.backend, 0, 2, where)
    computing, storage, federation = _BACKEND_ENGINES[(work_mode, backend)]
    if raw.get("computing_engine") is not None:
        computing = _choice(raw, "computing_engine", computing, COMPUTING_ENGINES, where)
        storage, federation = _ENGINE_COMPANIONS[computing]
    storage = _choice(raw, "storage_engine", storage, STORAGE_ENGINES, where)
    federation = _choice(raw, "federation_engine", federation, FEDERATION_ENGINES, where)
    federated_mode = "SINGLE" if computing == "STANDALONE" else "MULTIPLE"
    federated_mode = _choice(raw, "federated_mode", federated_mode, frozenset({"SINGLE", "MULTIPLE"}), where)
    task_cores = _integer(raw, "task_cores", defaults.task_cores, 1, 4096, where)
    return JobParameters(
        job_type=job_type,
        work_mode=work_mode,
        backend=backend,
        computing_engine=computing,
        storage_engine=storage,
        federation_engine=federation,
        federated_mode=federated_mode,
        task_cores=task_cores,
        task_parallelism=_integer(raw, "task_parallelism", defaults.task_parallelism, 1, 1024, where),
        computing_partitions=_integer(raw, "computing_partitions", task_cores, 1, 65536, where),
        federated_status_collect_type=_choice(
            raw,
            "federated_status_collect_type",
            defaults.federated_status_collect_type,
            frozenset({"PUSH", "PULL"}),
            where,
        ),
        timeout=_integer(raw, "timeout", defaults.timeout, 1, MAX_TIMEOUT, where),
        auto_retries=_integer(raw, "auto_retries", defaults.auto_retries, 0, 100, where),
        auto_retry_delay=_integer(raw, "auto_retry_delay", defaults.auto_retry_delay, 0, 86400, where),
        model_id=_model_field(raw, "model_id", where),
        model_version=_model_field(raw, "model_version", where),
        eggroll_run=_mapping(raw, "eggroll_run", where),
        spark_run=_mapping(raw, "spark_run", where),
        rabbitmq_run=_mapping(raw, "rabbitmq_run", where),
        pulsar_run=_mapping(raw, "pulsar_run", where),
        **_reuse(raw, where),
        extra={k: v for k, v in raw.items() if k in _PASSTHROUGH_KEYS},
    )


def _reuse(raw: Mapping[str, Any], where: str) -> dict[str, Any]:
    """``reuse``: true (the default) or false for the whole job, or {component: bool} per component."""
    value = raw.get("reuse")
    if value is None or isinstance(value, bool):
        return {"reuse": value is not False}
    expected = 'true, false, or an object of component names to true/false (e.g. {"hetero_lr_0": false})'
    if not isinstance(value, dict) or not all(isinstance(v, bool) for v in value.values()):
        raise _fail(where, "reuse", value, expected)
    return {"reuse": True, "no_reuse": tuple(sorted(str(name) for name, on in value.items() if not on))}


def check_reuse_components(params: JobParameters, components: Sequence[str], where: str) -> None:
    """Every component a conf turns reuse off for must be one of the DSL's."""
    for name in params.no_reuse:
        if name not in components:
            close = difflib.get_close_matches(name, list(components), n=1)
            guess = f"did you mean '{close[0]}'? " if close else ""
            raise JobParameterError(
                f"conf: {where}.reuse names {name!r}, which is not a component of the DSL",
                hint=f"{guess}components: {', '.join(components)}",
                field="reuse",
            )


def _positive_setting(settings: Mapping[str, Any], key: str, where: str) -> int:
    value = settings.get(key, 0)
    try:
        number = int(value)
    except (TypeError, ValueError, OverflowError):
        raise _fail(where, key, value, "a whole number") from None
    if number < 0:
        raise _fail(where, key, value, "zero or more")
    return number


def party_resources(params: JobParameters, role: str, computing_nodes: int, where: str) -> PartyResources:
    """Cores a party's tasks run with, and the cores the job reserves on that party."""
    nodes = computing_nodes
    per_node = 0
    if params.computing_engine in ("STANDALONE", "EGGROLL"):
        per_node = _positive_setting(
            params.eggroll_run, "eggroll.session.processors.per.node", f"{where}.eggroll_run"
        )
    else:
        nodes = _positive_setting(params.spark_run, "num-executors", f"{where}.spark_run") or nodes
        per_node = _positive_setting(params.spark_run, "executor-cores", f"{where}.spark_run")
    if per_node <= 0:
        per_node = max(1, params.task_cores // nodes)
    run_cores = per_node * nodes
    exempt = role in _NO_RESOURCE_ROLES and params.computing_engine in _NO_RESOURCE_ENGINES
    return PartyResources(
        task_nodes=nodes,
        task_cores_per_node=per_node,
        task_run_cores=run_cores,
        apply_cores=0 if exempt else run_cores * params.task_parallelism,
    )


# Engines a site runs itself; the others FATE names are accepted and reported as not used.
RUN_FEDERATION_ENGINES = frozenset({"STANDALONE", "EGGROLL"})
RUN_STORAGE_ENGINES = frozenset({"STANDALONE", "EGGROLL"})


def unused_engine_notes(params: JobParameters) -> list[str]:
    """What a party's job parameters ask for that Accord accepts but does not use, one note each.

    FATE's Spark backends pair Spark with a message queue (RabbitMQ, Pulsar) and HDFS storage;
    Accord's parties always exchange through its gRPC federation and read the site's own tables, so
    a FATE conf runs unchanged, and these notes say what was set aside.
    """
    notes = []
    if params.federation_engine not in RUN_FEDERATION_ENGINES:
        notes.append(
            f"federation_engine {params.federation_engine} is not used: parties exchange through "
            "Accord's gRPC federation"
        )
    for key in ("rabbitmq_run", "pulsar_run"):
        if getattr(params, key):
            notes.append(f"{key} is not used: parties exchange through Accord's gRPC federation")
    if params.storage_engine not in RUN_STORAGE_ENGINES:
        notes.append(
            f"storage_engine {params.storage_engine} is not used: components read the site's tables "
            "(Parquet), and Spark keeps its tables under the site's spark table_root"
        )
    return notes
