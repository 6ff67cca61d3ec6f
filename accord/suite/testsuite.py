"""A FATE-Test testsuite file: the tables it needs and the jobs it runs, with paths resolved.

The file is FATE-Test's ``*testsuite.json``: ``data`` entries are upload confs plus a ``role``
(``guest_0``: the site of the first guest) and a ``file`` relative to a base directory (FATE's
``examples/data/...``); ``tasks`` name a DSL and a conf next to the testsuite, and ``deps`` the task
whose model a predict task uses. ``pipeline_tasks`` (FATE's Python pipeline scripts) are listed so they
can be reported as not supported.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from accord.dsl_compiler import read_json_file
from accord.errors import ArgumentError, InputFileError

_ROLE = re.compile(r"^(guest|host|arbiter|local)_(\d+)$")


class DataEntry(BaseModel):
    model_config = ConfigDict(extra="allow")

    file: str
    table_name: str
    namespace: str
    role: str = "guest_0"
    head: int = 1
    partition: int = 4

    @field_validator("role")
    @classmethod
    def _role(cls, value: str) -> str:
        if not _ROLE.match(value):
            raise ValueError("must be ROLE_INDEX, e.g. guest_0 or host_1")
        return value

    def upload_conf(self, file: Path) -> dict[str, Any]:
        """The upload conf the site takes: the entry's own keys, the file resolved, replacing the table."""
        extra = {key: value for key, value in (self.model_extra or {}).items() if key != "role"}
        return {
            "drop": 1,
            **extra,
            "file": str(file),
            "table_name": self.table_name,
            "namespace": self.namespace,
            "head": self.head,
            "partition": self.partition,
        }


class TaskEntry(BaseModel):
    model_config = ConfigDict(extra="allow")

    conf: str
    dsl: str
    deps: str | None = None


class TestsuiteFile(BaseModel):
    model_config = ConfigDict(extra="allow")

    data: list[DataEntry] = Field(default_factory=list)
    tasks: dict[str, TaskEntry] = Field(default_factory=dict)
    pipeline_tasks: dict[str, Any] = Field(default_factory=dict)


@dataclass(frozen=True)
class SuiteTask:
    name: str
    dsl: dict[str, Any]
    conf: dict[str, Any]
    deps: str | None


@dataclass(frozen=True)
class Upload:
    role: str
    conf: dict[str, Any]

    @property
    def table(self) -> tuple[str, str]:
        return str(self.conf["namespace"]), str(self.conf["table_name"])


@dataclass(frozen=True)
class Testsuite:
    path: Path
    uploads: tuple[Upload, ...]
    # In an order where every task comes after the one it depends on.
    tasks: tuple[SuiteTask, ...]
    pipeline_tasks: tuple[str, ...]


def load_testsuite(path: Path, data_base_dir: Path | None) -> Testsuite:
    """Read and check the testsuite: every file it names must exist, every ``deps`` must be a task.

    Without ``data_base_dir`` the tables are taken as uploaded already, and no data file is looked at.
    """
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise InputFileError(
            f"cannot read the testsuite {str(path)!r}: {error.strerror or error}",
            hint="pass a FATE-Test testsuite file with -i",
        ) from None
    except json.JSONDecodeError as error:
        raise InputFileError(
            f"the testsuite {str(path)!r} is not JSON: {error.msg} at line {error.lineno}, "
            f"column {error.colno}",
            hint="fix the JSON syntax at that place",
        ) from None
    try:
        suite = TestsuiteFile.model_validate(raw)
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in item['loc']) or '<file>'}: {item['msg']}" for item in error.errors()
        )
        raise ArgumentError(
            f"the testsuite {str(path)!r} is not a FATE-Test testsuite: {problems}",
            hint="a testsuite has `data` (upload entries with file, table_name, namespace, role) and "
            "`tasks` (name → {dsl, conf, deps})",
        ) from None
    folder = path.parent
    uploads = (
        ()
        if data_base_dir is None
        else tuple(
            Upload(entry.role, entry.upload_conf(_data_file(entry, data_base_dir))) for entry in suite.data
        )
    )
    tasks = [
        SuiteTask(
            name,
            read_json_file(folder / entry.dsl, "dsl"),
            read_json_file(folder / entry.conf, "conf"),
            entry.deps,
        )
        for name, entry in suite.tasks.items()
    ]
    return Testsuite(path, uploads, _dependency_order(tasks), tuple(suite.pipeline_tasks))


def _data_file(entry: DataEntry, base: Path) -> Path:
    file = Path(entry.file).expanduser()
    resolved = (file if file.is_absolute() else base / file).resolve()
    if not resolved.is_file():
        raise InputFileError(
            f"data file {entry.file!r} of table {entry.namespace}.{entry.table_name} is not at {resolved}",
            hint="point --data-base-dir at the folder that holds FATE's examples/ (e.g. ../shared/fate), "
            "or use --skip-data if the tables are uploaded already",
        )
    return resolved


def _dependency_order(tasks: list[SuiteTask]) -> tuple[SuiteTask, ...]:
    by_name = {task.name: task for task in tasks}
    for task in tasks:
        if task.deps is not None and task.deps not in by_name:
            raise ArgumentError(
                f"task {task.name!r} depends on {task.deps!r}, which is not a task of the testsuite",
                hint=f"tasks: {', '.join(by_name)}",
            )
    ordered: list[SuiteTask] = []
    placed: set[str] = set()

    def place(task: SuiteTask, path: tuple[str, ...]) -> None:
        if task.name in placed:
            return
        if task.name in path:
            cycle = " -> ".join((*path, task.name))
            raise ArgumentError(f"the testsuite's deps form a cycle: {cycle}", hint="remove one of the deps")
        if task.deps is not None:
            place(by_name[task.deps], (*path, task.name))
        placed.add(task.name)
        ordered.append(task)

    for task in tasks:
        place(task, ())
    return tuple(ordered)
