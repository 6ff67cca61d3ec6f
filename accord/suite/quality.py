"""FATE-Test's benchmark-quality run against a site: each case's local reference beside its FATE jobs.

For each case of a :class:`~accord.suite.benchmark.BenchmarkSuite`: the local entry runs in this
process with scikit-learn (:mod:`accord.suite.quality_reference`), each FATE pipeline entry runs as a
job on the site (:mod:`accord.suite.quality_jobs`; uploaded, submitted and followed by
:class:`~accord.suite.runner.SuiteRunner`), the guest's Evaluation summary is read as FATE's pipeline
reads it, and the metrics are matched as FATE-Test matches them. A case whose data files are not on
this machine is reported as "no data", one naming a script this module does not know as "not
supported"; neither runs.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from accord.components.evaluation.result import EVALUATION_SUMMARY
from accord.errors import AccordError
from accord.suite.benchmark import (
    BenchmarkCase,
    BenchmarkEntry,
    BenchmarkSuite,
    Comparison,
    compare,
    missing_files,
)
from accord.suite.quality_jobs import EVALUATION, GUEST, Tables, build_job, is_pipeline_script
from accord.suite.quality_reference import is_local_script, run_local
from accord.suite.runner import Outcome, SiteApi, SuiteRunner
from accord.suite.testsuite import SuiteTask, Testsuite, Upload


class CaseStatus(StrEnum):
    PASS = "pass"
    FAIL = "fail"
    NO_DATA = "no data"
    NOT_SUPPORTED = "not supported"


@dataclass
class EntryResult:
    entry: str
    outcome: Outcome
    metrics: dict[str, float] = field(default_factory=dict)
    job_id: str | None = None
    elapsed_s: float | None = None
    message: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "entry": self.entry,
            "status": self.outcome.value,
            "metrics": self.metrics,
            "job_id": self.job_id,
            "elapsed_s": None if self.elapsed_s is None else round(self.elapsed_s, 3),
            "message": self.message,
        }


@dataclass
class CaseResult:
    case: str
    status: CaseStatus
    relative_tol: float | None
    entries: list[EntryResult] = field(default_factory=list)
    comparison: Comparison = field(default_factory=Comparison)
    message: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "case": self.case,
            "status": self.status.value,
            "relative_tol": self.relative_tol,
            "message": self.message,
            "entries": [entry.to_dict() for entry in self.entries],
            "metrics": [
                {"metric": match.metric, "values": match.values, "match": match.matched}
                for match in self.comparison.metrics
            ],
        }


def evaluation_summary(metrics: Mapping[str, Any]) -> dict[str, dict[str, dict[str, Any]]]:
    """Evaluation's summary (model -> split -> metric -> value) from its tracked metrics: the
    ``EVALUATION_SUMMARY`` metric of each split is named after the model and holds its single values."""
    summary: dict[str, dict[str, dict[str, Any]]] = {}
    for split, by_name in metrics.items():
        for model, metric in (by_name or {}).items():
            if isinstance(metric, Mapping) and metric.get("metric_type") == EVALUATION_SUMMARY:
                points = [point for point in metric.get("data") or [] if len(point) == 2]
                summary.setdefault(model, {})[split] = {str(name): value for name, value in points}
    return summary


def evaluation_metrics(summary: Mapping[str, Any]) -> dict[str, float]:
    """FATE-Test's ``parse_summary_result``: the first evaluated model's validate metrics, else its train
    metrics (numbers only)."""
    for splits in summary.values():
        if not isinstance(splits, Mapping):
            continue
        chosen = splits.get("validate", splits.get("train")) or {}
        return {
            name: float(value)
            for name, value in chosen.items()
            if isinstance(value, int | float) and not isinstance(value, bool)
        }
    return {}


class QualityRunner:
    """``site(role)`` gives the API of the site hosting e.g. ``guest_0``; data files are under
    ``fate_root`` (FATE-Test's ``data_base_dir``)."""

    def __init__(
        self,
        site: Callable[[str], SiteApi],
        fate_root: Path,
        *,
        timeout_s: float = 3600.0,
        progress: Callable[[str], None] = lambda line: None,
    ) -> None:
        self._site = site
        self._fate_root = fate_root
        self._progress = progress
        self._jobs = SuiteRunner(site, timeout_s=timeout_s, progress=progress)
        self._uploaded: set[tuple[str, str, str]] = set()

    def run(self, suite: BenchmarkSuite, only: Collection[str] = ()) -> list[CaseResult]:
        return [self.run_case(suite, case) for case in suite.cases if not only or case.name in only]

    def run_case(self, suite: BenchmarkSuite, case: BenchmarkCase) -> CaseResult:
        unknown = [
            entry.script
            for entry in case.entries
            if not (
                is_local_script(suite.folder, entry.script) or is_pipeline_script(suite.folder, entry.script)
            )
        ]
        if unknown:
            return CaseResult(
                case.name,
                CaseStatus.NOT_SUPPORTED,
                case.relative_tol,
                message=f"scripts {', '.join(unknown)}",
            )
        missing = missing_files(case.entries, self._fate_root)
        uploads = self._uploads(suite, case)
        missing += [name for name in uploads if isinstance(name, str) and name not in missing]
        if missing:
            return CaseResult(case.name, CaseStatus.NO_DATA, case.relative_tol, message=", ".join(missing))
        self._upload(suite, [upload for upload in uploads if isinstance(upload, Upload)])
        results = [
            self._local(suite, entry) for entry in case.entries if is_local_script(suite.folder, entry.script)
        ]
        results += self._pipelines(
            suite, [e for e in case.entries if is_pipeline_script(suite.folder, e.script)]
        )
        order = [entry.name for entry in case.entries]
        results.sort(key=lambda result: order.index(result.entry))
        comparison = compare(
            {result.entry: result.metrics for result in results if result.outcome == Outcome.SUCCESS},
            case.relative_tol,
        )
        failed = [result.entry for result in results if result.outcome != Outcome.SUCCESS]
        passed = comparison.matched and not failed
        message = f"did not succeed: {', '.join(failed)}" if failed else ""
        if not failed and not comparison.metrics:
            message = "no metric shared by every entry"
        status = CaseStatus.PASS if passed else CaseStatus.FAIL
        return CaseResult(case.name, status, case.relative_tol, results, comparison, message)

    def _uploads(self, suite: BenchmarkSuite, case: BenchmarkCase) -> list[Upload | str]:
        """The uploads the case's FATE entries read, or the file name of each one missing."""
        found: list[Upload | str] = []
        for entry in case.entries:
            if not is_pipeline_script(suite.folder, entry.script):
                continue
            for key, role in (("data_guest", "guest_0"), ("data_host", "host_0")):
                data = suite.table_of(str(entry.params.get(key, "")), role)
                if data is None:
                    found.append(f"{entry.params.get(key)} (no {role} table in the benchmark)")
                    continue
                source = suite.data_file(data, self._fate_root)
                found.append(Upload(role, data.upload_conf(source)) if source.is_file() else source.name)
        return found

    def _upload(self, suite: BenchmarkSuite, uploads: list[Upload]) -> None:
        fresh: dict[tuple[str, str, str], Upload] = {}
        for upload in uploads:
            key = (upload.role, *upload.table)
            if key not in self._uploaded:
                fresh[key] = upload
        if fresh:
            self._jobs.upload(Testsuite(suite.path, tuple(fresh.values()), (), ()))
            self._uploaded.update(fresh)

    def _local(self, suite: BenchmarkSuite, entry: BenchmarkEntry) -> EntryResult:
        self._progress(f"{entry.name}: scikit-learn reference")
        started = time.monotonic()
        try:
            metrics = run_local(suite.folder, entry.script, entry.params, self._fate_root)
        except (AccordError, ValueError) as error:
            # scikit-learn refuses what it cannot fit with ValueError.
            return EntryResult(entry.name, Outcome.FAILED, message=f"{type(error).__name__}: {error}")
        return EntryResult(entry.name, Outcome.SUCCESS, metrics, elapsed_s=time.monotonic() - started)

    def _pipelines(self, suite: BenchmarkSuite, entries: list[BenchmarkEntry]) -> list[EntryResult]:
        tasks = []
        for entry in entries:
            guest = suite.table_of(str(entry.params["data_guest"]), "guest_0")
            host = suite.table_of(str(entry.params["data_host"]), "host_0")
            assert guest is not None and host is not None  # checked by _uploads
            tables = Tables(guest.table_name, host.table_name, guest.namespace)
            dsl, conf = build_job(suite.folder, entry.script, entry.params, tables)
            tasks.append(SuiteTask(entry.name, dsl, conf, None))
        results = []
        for task in self._jobs.run(Testsuite(suite.path, (), tuple(tasks), ())):
            result = EntryResult(task.task, task.outcome, {}, task.job_id, task.elapsed_s, task.message)
            if task.outcome == Outcome.SUCCESS and task.job_id is not None:
                result.metrics = self._evaluation(task.job_id)
            results.append(result)
        return results

    def _evaluation(self, job_id: str) -> dict[str, float]:
        body = {"job_id": job_id, "role": "guest", "party_id": GUEST, "component_name": EVALUATION}
        metrics = self._site("guest_0").call("/v1/tracking/component/metric/all", body)["data"]
        return evaluation_metrics(evaluation_summary(metrics if isinstance(metrics, Mapping) else {}))
