"""A component run inside another run of itself: one fold of cross validation, one class of one-vs-rest.

:class:`ScopedContext` is a :class:`ComponentContext` a component's own fit / predict runs on
unchanged, while the wrapper that made it decides what that run sees and where what it does goes:

- its data inputs are files the wrapper wrote (a fold's rows, relabelled rows) under ``inputs_root``,
  laid out as a job's outputs are, or the task's own inputs when ``inputs_root`` is the party's dir;
- its outputs (data, model, summary) land under ``outputs_root`` and in :attr:`saved_model` /
  :attr:`summary`, for the wrapper to combine;
- every value it exchanges carries ``tag_prefix``, so that runs of the same task never read each
  other's values (every party wraps the same way, in the same order);
- its metrics are renamed by ``metric_name`` (FATE's ``loss.<fold>``), its progress is a share of
  the task's.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from pydantic import BaseModel

from accord.components.sdk import layout
from accord.components.sdk.context import ComponentContext
from accord.components.sdk.services import ExchangeKey, MetricRef
from accord.components.sdk.tracker import Tracker
from accord.components.sdk.transfer import Transfer
from accord.dsl_compiler.plan import InputRef

if TYPE_CHECKING:
    from accord.computing import Engine

P = TypeVar("P", bound=BaseModel)


class _PrefixedTransfer(Transfer):
    def __init__(self, prefix: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._prefix = prefix

    def _key(self, tag: str, source: Any, destination: Any) -> ExchangeKey:
        return super()._key(f"{self._prefix}{tag}", source, destination)


class _RenamingTracker(Tracker):
    def __init__(self, rename: Callable[[str], str], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._rename = rename
        self.summary: dict[str, Any] = {}

    def _key(self, namespace: str, name: str) -> MetricRef:
        return super()._key(namespace, self._rename(name))

    def set_summary(self, summary: Mapping[str, Any]) -> None:
        # The wrapper gathers each run's summary into the task's own (FATE's fold_<k> / per class).
        self.summary = dict(summary)


class ScopedContext(ComponentContext[P]):
    _tag_prefix: str
    _metric_name: Callable[[str], str]
    _data_inputs: list[InputRef] | None

    def __init__(
        self,
        parent: ComponentContext[P],
        *,
        tag_prefix: str,
        outputs_root: Path,
        inputs_root: Path | None = None,
        data_inputs: Sequence[InputRef] | None = None,
        models: list[dict[str, Any]] | None = None,
        params: P | None = None,
        metric_name: Callable[[str], str] = str,
        share: tuple[int, int] = (0, 1),
    ) -> None:
        # A run inside a run (one class of one fold) inherits what its parent run sees and prefixes.
        outer = parent if isinstance(parent, ScopedContext) else None
        if outer is not None:
            tag_prefix = outer._tag_prefix + tag_prefix
            inner, outer_name = metric_name, outer._metric_name
            metric_name = lambda name: outer_name(inner(name))  # noqa: E731
            if inputs_root is None and data_inputs is None:
                data_inputs = outer._data_inputs
        if inputs_root is None:
            inputs_root = parent.task.work_dir.parent
        on_progress = parent.task.on_progress
        part, parts = share

        def progress(done: int, total: int, note: str) -> None:
            if on_progress is not None and total > 0:
                on_progress(part * total + done, parts * total, note)

        # work_dir's parent is where a context reads its inputs (layout.data_path of the party).
        task = dataclasses.replace(
            parent.task, work_dir=inputs_root / f"{parent.component}_scoped", on_progress=progress
        )
        super().__init__(task, parent.plan, parent._services, params if params is not None else parent.params)
        self.spec = parent.spec
        self.log = parent.log
        self._parent = parent
        self._tag_prefix = tag_prefix
        self._outputs_root = outputs_root
        self._data_inputs = list(data_inputs) if data_inputs is not None else None
        self._models = models
        self._metric_name = metric_name
        self.saved_model: dict[str, Any] | None = None

    @property
    def engine(self) -> Engine:
        return self._parent.engine

    def close(self) -> None:
        """The engine is the task's: its owner closes it."""

    @cached_property
    def transfer(self) -> Transfer:
        parent = self._parent.transfer
        return _PrefixedTransfer(
            self._tag_prefix,
            job_id=self.job_id,
            component=self.component,
            task_version=self.task.task_version,
            party=self.task.party,
            roles=self.plan.roles,
            exchange=self.services.exchange,
            timeout_s=parent.timeout_s,
            sleep=self.task.sleep,
        )

    @cached_property
    def tracker(self) -> _RenamingTracker:
        from accord.identity import task_id

        return _RenamingTracker(
            self._metric_name,
            metrics=self.services.metrics,
            job_id=self.job_id,
            component=self.component,
            role=self.role,
            party_id=self.party_id,
            task_version=self.task.task_version,
            task_id=task_id(self.job_id, self.component),
            summary_path=self._outputs_root / "summary.json",
        )

    @property
    def summary(self) -> dict[str, Any]:
        return self.tracker.summary

    def inputs(self, kind: str) -> list[InputRef]:
        if kind == "data" and self._data_inputs is not None:
            return list(self._data_inputs)
        return super().inputs(kind)

    def _data_path(self, component: str, output: str) -> Path:
        if component == self.component:
            return layout.data_path(self._outputs_root, component, output)
        return super()._data_path(component, output)

    def output_path(self, output: str | None = None) -> Path:
        """Where this run saved its data output."""
        return self._data_path(self.component, self._output_name(output))

    def save_model(self, model: dict[str, Any]) -> None:
        self.saved_model = model

    @property
    def checkpoint_dir(self) -> Path:
        """The task's checkpoints, in a sub-directory per scope (``ovr.1``, ``cv.0.ovr.1``)."""
        root: ComponentContext[Any] = self._parent
        while isinstance(root, ScopedContext):
            root = root._parent
        return root.checkpoint_dir / (self._tag_prefix.strip(".") or "scoped")

    def input_models(self) -> list[dict[str, Any]]:
        return list(self._models) if self._models is not None else self._parent.input_models()


def data_ref(slot: str, name: str) -> InputRef:
    """A data input of a scoped run: the file a wrapper wrote as ``<name>``'s output under its root."""
    return InputRef(kind="data", slot=slot, component=name, output="data")
