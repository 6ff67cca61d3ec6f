"""What a task records about itself: metrics (loss per iteration, evaluation results) and a summary."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from accord.components.sdk.services import MetricRef, MetricSink


class Tracker:
    def __init__(
        self,
        metrics: MetricSink,
        *,
        job_id: str,
        component: str,
        role: str,
        party_id: int,
        task_version: int,
        task_id: str,
        summary_path: Path,
    ) -> None:
        self._metrics = metrics
        self._job_id = job_id
        self._component = component
        self._role = role
        self._party_id = party_id
        self._task_version = task_version
        self._task_id = task_id
        self._summary_path = summary_path

    def _key(self, namespace: str, name: str) -> MetricRef:
        return MetricRef(
            self._job_id, self._component, self._role, self._party_id, self._task_version, namespace, name
        )

    def log_metric(
        self,
        namespace: str,
        name: str,
        points: Sequence[Sequence[Any]],
        *,
        metric_type: str,
        meta: Mapping[str, Any] | None = None,
    ) -> None:
        """Append ``[x, y]`` points to a metric; ``meta`` (if given) replaces the metric's meta."""
        key = self._key(namespace, name)
        if points:
            self._metrics.log(key, points, metric_type=metric_type, task_id=self._task_id)
        if meta is not None:
            self._metrics.set_meta(key, meta, metric_type=metric_type, task_id=self._task_id)

    def set_summary(self, summary: Mapping[str, Any]) -> None:
        self._summary_path.parent.mkdir(parents=True, exist_ok=True)
        self._summary_path.write_text(json.dumps(summary, indent=2, sort_keys=True))
