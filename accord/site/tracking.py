"""What a site can tell about a job's components on one party: metrics, parameters, models, outputs."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from accord.components.sdk import Dataset, layout
from accord.dsl_compiler.plan import JobPlan
from accord.errors import RecordNotFound
from accord.model_store import ModelKey, ModelStore
from accord.persistence import JobRepository, MetricRepository, TaskRepository

# What output-data shows inline; the whole table comes from the download.
PREVIEW_ROWS = 100


class TrackingService:
    def __init__(
        self,
        home: Path,
        jobs: JobRepository,
        tasks: TaskRepository,
        metrics: MetricRepository,
        models: ModelStore,
    ) -> None:
        self._home = home
        self._jobs = jobs
        self._tasks = tasks
        self._metrics = metrics
        self._models = models

    def _plan(self, job_id: str, role: str, party_id: int) -> JobPlan:
        record = self._jobs.get(job_id, role, party_id)
        if record.plan is None:
            raise RecordNotFound(f"job {job_id} has no plan on {role} {party_id}")
        return JobPlan.model_validate(record.plan)

    def _component(self, plan: JobPlan, job_id: str, role: str, party_id: int, component: str) -> None:
        if component not in plan.party(role, party_id).components:
            raise RecordNotFound(
                f"job {job_id} has no component {component!r} on {role} {party_id}",
                hint=f"its components there are {', '.join(plan.party(role, party_id).components)}",
            )

    def components(self, job_id: str, role: str, party_id: int) -> list[dict[str, Any]]:
        plan = self._plan(job_id, role, party_id)
        names = plan.party(role, party_id).components
        return [
            {
                "component_name": cpn.name,
                "module": cpn.module,
                "upstream": list(cpn.upstream),
                "data_outputs": list(cpn.data_outputs),
                "model_outputs": list(cpn.model_outputs),
            }
            for cpn in plan.components
            if cpn.name in names
        ]

    def metric_names(self, job_id: str, role: str, party_id: int, component: str) -> dict[str, list[str]]:
        """FATE's shape: metric namespace → its metric names."""
        self._component(self._plan(job_id, role, party_id), job_id, role, party_id, component)
        names: dict[str, list[str]] = {}
        for record in self._metrics.query(job_id, component, role, party_id):
            names.setdefault(record.key.metric_namespace, [])
            if record.key.metric_name not in names[record.key.metric_namespace]:
                names[record.key.metric_namespace].append(record.key.metric_name)
        return names

    def metrics(
        self,
        job_id: str,
        role: str,
        party_id: int,
        component: str,
        *,
        namespace: str | None = None,
        name: str | None = None,
    ) -> dict[str, dict[str, Any]]:
        """namespace → name → {data, meta, metric_type}; the latest task version's when it ran again."""
        self._component(self._plan(job_id, role, party_id), job_id, role, party_id, component)
        found: dict[str, dict[str, Any]] = {}
        records = self._metrics.query(
            job_id, component, role, party_id, metric_namespace=namespace, metric_name=name
        )
        for record in records:
            found.setdefault(record.key.metric_namespace, {})[record.key.metric_name] = {
                "data": [list(point) for point in record.data],
                "meta": record.meta,
                "metric_type": record.metric_type,
                "task_version": record.key.task_version,
            }
        return found

    def parameters(self, job_id: str, role: str, party_id: int, component: str) -> dict[str, Any]:
        plan = self._plan(job_id, role, party_id)
        self._component(plan, job_id, role, party_id, component)
        return {
            "module": plan.component(component).module,
            "parameters": plan.party(role, party_id).component_parameters.get(component, {}),
        }

    def output_model(self, job_id: str, role: str, party_id: int, component: str) -> dict[str, Any]:
        plan = self._plan(job_id, role, party_id)
        self._component(plan, job_id, role, party_id, component)
        key = ModelKey(plan.model_id, plan.model_version or job_id, role, party_id, component)
        return {"model_id": key.model_id, "model_version": key.model_version, "model": self._models.load(key)}

    def _output(self, job_id: str, role: str, party_id: int, component: str, output: str | None) -> Dataset:
        plan = self._plan(job_id, role, party_id)
        self._component(plan, job_id, role, party_id, component)
        spec = plan.component(component)
        name = output or (spec.data_outputs[0] if spec.data_outputs else "data")
        path = layout.data_path(layout.party_dir(self._home, job_id, role, party_id), component, name)
        if not path.exists():
            raise RecordNotFound(
                f"{component} of job {job_id} has no output data {name!r} on {role} {party_id}",
                hint="the component may not have run yet, or it outputs no data",
            )
        return Dataset.load(path)

    def output_data(
        self, job_id: str, role: str, party_id: int, component: str, *, output: str | None = None
    ) -> dict[str, Any]:
        dataset = self._output(job_id, role, party_id, component, output)
        header, rows = _rows(dataset)
        preview = [row for _, row in zip(range(PREVIEW_ROWS), rows, strict=False)]
        return {"header": header, "data": preview, "total": len(dataset)}

    def output_csv(
        self, job_id: str, role: str, party_id: int, component: str, *, output: str | None = None
    ) -> Iterator[str]:
        dataset = self._output(job_id, role, party_id, component, output)
        header, rows = _rows(dataset)
        yield _csv_line(header)
        for row in rows:
            yield _csv_line(row)


def _rows(dataset: Dataset) -> tuple[list[str], Iterator[list[Any]]]:
    """The dataset as FATE shows an output table: the id, then the label, then the values."""
    ids = dataset.ids()
    if dataset.kind == "instances":
        # Text features (DataTransform's data_type "str") are shown as written.
        features = dataset.text_features() if dataset.is_text else dataset.features()
        show = _text if dataset.is_text else _number
        labels = dataset.labels()
        header = [
            dataset.sid_name,
            *([dataset.label_name or "label"] if labels is not None else []),
            *dataset.header,
        ]

        def instance_rows() -> Iterator[list[Any]]:
            for index, sid in enumerate(ids):
                label = [_number(labels[index])] if labels is not None else []
                yield [sid, *label, *(show(value) for value in features[index])]

        return header, instance_rows()
    columns = [name for name in dataset.table.column_names]
    table = dataset.table

    def plain_rows() -> Iterator[list[Any]]:
        for batch in table.to_batches():
            for row in batch.to_pylist():
                yield [row[name] for name in columns]

    shown = [dataset.sid_name if name == "sid" else name for name in columns]
    return shown, plain_rows()


def _text(value: Any) -> Any:
    return value


def _number(value: float) -> float | int:
    return int(value) if float(value).is_integer() else float(value)


def _csv_line(values: list[Any]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerow(
        [json.dumps(value) if isinstance(value, (dict, list)) else value for value in values]
    )
    return buffer.getvalue()
