"""A FATE-Test benchmark-quality file: its tables, its cases, and how their metrics are compared.

The file is FATE-Test's ``*_benchmark.json``: ``data`` entries are upload confs whose ``file`` is
relative to the file's own folder (FATE-Test resolves it there), and every other key is a case
("pair" in FATE-Test): named entries, each a ``script`` and a YAML ``conf`` of hyperparameters beside
the file, plus ``compare_setting.relative_tol``. An entry's YAML names its data files (``data_guest``,
``data_host``) relative to FATE's root, as FATE-Test's ``data_base_dir``.

:func:`compare` is FATE-Test's match: the metrics every successful entry reported (``script_metrics``
aside), each entry's value ``math.isclose`` to the first entry's (the local reference, listed first)
within ``relative_tol`` (and the absolute ``tol`` when given).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from accord.errors import ArgumentError, InputFileError
from accord.suite.testsuite import DataEntry

COMPARE_SETTING = "compare_setting"
# FATE-Test leaves the regression scripts' extra statistics out of the match.
SCRIPT_METRICS = "script_metrics"


@dataclass(frozen=True)
class BenchmarkEntry:
    """One job of a case: a local script or a FATE pipeline script, with its YAML's hyperparameters."""

    name: str
    script: str
    params: dict[str, Any]

    def data_files(self) -> tuple[str, ...]:
        """The data files the entry reads, relative to FATE's root (its YAML's ``data_*`` keys)."""
        return tuple(str(self.params[key]) for key in ("data_guest", "data_host") if key in self.params)


@dataclass(frozen=True)
class BenchmarkCase:
    name: str
    # In the file's order: FATE-Test compares every entry to the first, the local reference.
    entries: tuple[BenchmarkEntry, ...]
    relative_tol: float | None


@dataclass(frozen=True)
class BenchmarkSuite:
    path: Path
    data: tuple[DataEntry, ...]
    cases: tuple[BenchmarkCase, ...]

    @property
    def folder(self) -> str:
        """The suite's folder name (``hetero_lr``): FATE's scripts of the same name differ per folder."""
        return self.path.parent.name

    def data_file(self, entry: DataEntry, fate_root: Path) -> Path:
        """Where the entry's file is: beside the benchmark file, else (as FATE-Test) from FATE's root."""
        beside = (self.path.parent / entry.file).resolve()
        return beside if beside.exists() else (fate_root / entry.file).resolve()

    def table_of(self, data_file: str, role: str) -> DataEntry | None:
        """The data entry uploading ``data_file`` (a YAML's path) for ``role``, matched by file name."""
        name = Path(data_file).name
        for entry in self.data:
            if Path(entry.file).name == name and entry.role == role:
                return entry
        return None


def load_benchmark(path: Path) -> BenchmarkSuite:
    """Read the benchmark file and every YAML it names."""
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise InputFileError(f"cannot read the benchmark {str(path)!r}: {error.strerror or error}") from None
    except json.JSONDecodeError as error:
        raise InputFileError(
            f"the benchmark {str(path)!r} is not JSON: {error.msg} at line {error.lineno}, "
            f"column {error.colno}"
        ) from None
    if not isinstance(raw, dict):
        raise ArgumentError(f"the benchmark {str(path)!r} is not a JSON object of data and cases")
    data = tuple(DataEntry.model_validate(entry) for entry in raw.get("data") or [])
    cases = tuple(
        _case(path.parent, name, body)
        for name, body in raw.items()
        if name != "data" and isinstance(body, dict)
    )
    return BenchmarkSuite(path, data, cases)


def _case(folder: Path, name: str, body: Mapping[str, Any]) -> BenchmarkCase:
    setting = body.get(COMPARE_SETTING) or {}
    if not isinstance(setting, dict):
        raise ArgumentError(f"case {name!r}: compare_setting must be an object, got {type(setting).__name__}")
    entries = tuple(
        BenchmarkEntry(entry, str(job["script"]), _yaml(folder / str(job["conf"])) if job.get("conf") else {})
        for entry, job in body.items()
        if entry != COMPARE_SETTING
    )
    tolerance = setting.get("relative_tol")
    return BenchmarkCase(name, entries, None if tolerance is None else float(tolerance))


def _yaml(path: Path) -> dict[str, Any]:
    try:
        loaded = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise InputFileError(f"cannot read {str(path)!r}: {error.strerror or error}") from None
    except yaml.YAMLError as error:
        raise InputFileError(f"{str(path)!r} is not YAML: {error}") from None
    if not isinstance(loaded, dict):
        raise ArgumentError(f"{str(path)!r} does not hold a mapping of hyperparameters")
    return loaded


@dataclass(frozen=True)
class MetricMatch:
    metric: str
    # Entry name -> its value, the reference first.
    values: dict[str, float]
    matched: bool

    def relative_error(self, entry: str) -> float:
        reference = next(iter(self.values.values()))
        value = self.values[entry]
        scale = max(abs(reference), abs(value))
        return 0.0 if scale == 0 else abs(value - reference) / scale


@dataclass(frozen=True)
class Comparison:
    """What FATE-Test's match found: the shared metrics and whether each is within the tolerance."""

    metrics: tuple[MetricMatch, ...] = ()
    compared: tuple[str, ...] = field(default=())

    @property
    def matched(self) -> bool:
        # FATE-Test counts a case with no shared metric as no match.
        return bool(self.metrics) and all(match.matched for match in self.metrics)


def compare(
    results: Mapping[str, Mapping[str, float]], relative_tol: float | None, absolute_tol: float | None = None
) -> Comparison:
    """FATE-Test's match of ``results`` (entry name -> metrics, the reference first)."""
    if len(results) < 2:
        return Comparison(compared=tuple(results))
    shared = set.intersection(*(set(metrics) for metrics in results.values())) - {SCRIPT_METRICS}
    first = next(iter(results.values()))
    names = sorted(name for name in shared if all(_is_number(metrics[name]) for metrics in results.values()))
    matches = []
    for metric in names:
        values = {entry: float(metrics[metric]) for entry, metrics in results.items()}
        reference = float(first[metric])
        matched = all(_close(value, reference, relative_tol, absolute_tol) for value in values.values())
        matches.append(MetricMatch(metric, values, matched))
    return Comparison(tuple(matches), tuple(results))


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _close(value: float, reference: float, relative_tol: float | None, absolute_tol: float | None) -> bool:
    # FATE-Test passes only the tolerances it was given: math.isclose's own defaults fill the rest.
    tolerances: dict[str, float] = {}
    if relative_tol is not None:
        tolerances["rel_tol"] = relative_tol
    if absolute_tol is not None:
        tolerances["abs_tol"] = absolute_tol
    return math.isclose(value, reference, **tolerances)


def missing_files(entries: Sequence[BenchmarkEntry], fate_root: Path) -> list[str]:
    """The data files the entries read that are not under ``fate_root`` (file names, once each)."""
    missing: dict[str, None] = {}
    for entry in entries:
        for data_file in entry.data_files():
            if not (fate_root / data_file).is_file():
                missing[Path(data_file).name] = None
    return list(missing)
