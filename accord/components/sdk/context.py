"""The context a component's fit / predict receives: its parameters, inputs, outputs and peers."""

from __future__ import annotations

import difflib
import logging
import threading
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from pydantic import BaseModel, ValidationError

from accord.components.sdk import layout
from accord.components.sdk.cache import Cache, load_cache, save_cache
from accord.components.sdk.checkpoint import save_checkpoint
from accord.components.sdk.dataset import Dataset
from accord.components.sdk.services import ModelRef
from accord.components.sdk.tables import DataTable, load_table, save_table
from accord.components.sdk.tracker import Tracker
from accord.components.sdk.transfer import Transfer
from accord.dsl_compiler.plan import ComponentPlan, InputRef, JobPlan, RunMode
from accord.errors import ComponentParameterError, DataFormatError, DataMismatchError, OperatingError
from accord.identity import task_id

if TYPE_CHECKING:
    from accord.components.sdk.services import TaskServices
    from accord.components.sdk.task import TaskContext
    from accord.computing import BlockTable, Engine

P = TypeVar("P", bound=BaseModel)


def validate_parameters(model: type[P], parameters: Any, *, component: str, module: str) -> P:
    """``parameters`` as ``model``, or a coded error naming each bad field and what it accepts."""
    try:
        return model.model_validate(parameters or {})
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in item['loc']) or '<parameters>'}: {item['msg']}"
            + _did_you_mean(model, item)
            for item in error.errors()
        )
        raise ComponentParameterError(
            f"{component} ({module}) has bad parameters: {problems}",
            hint=f"fix them in component_parameters of {component}; "
            f"names and defaults follow FATE's {module}",
            component=component,
        ) from None


def _did_you_mean(model: type[BaseModel], item: Any) -> str:
    """For an unknown parameter (``max_iters``), the nearest one the model accepts there (``max_iter``)."""
    if item.get("type") != "extra_forbidden" or not item.get("loc"):
        return ""
    *parents, unknown = item["loc"]
    fields: type[BaseModel] | None = model
    for part in parents:
        # Walk nested parameter models (e.g. init_param.init_method); anything else has no field list.
        info = fields.model_fields.get(str(part)) if fields is not None else None
        annotation = info.annotation if info is not None else None
        fields = annotation if isinstance(annotation, type) and issubclass(annotation, BaseModel) else None
    if fields is None:
        return ""
    accepted = [name for name in fields.model_fields] + [
        f.alias for f in fields.model_fields.values() if f.alias
    ]
    close = difflib.get_close_matches(str(unknown), accepted, n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


class ComponentContext(Generic[P]):
    def __init__(self, task: TaskContext, plan: JobPlan, services: TaskServices | None, params: P) -> None:
        self.task = task
        self.plan = plan
        self._services = services
        self.params = params
        self.log = logging.getLogger(f"accord.component.{task.module}")
        self._engine: Engine | None = None
        # Cross validation runs folds in threads that may each be first to ask for the engine.
        self._engine_lock = threading.Lock()

    @property
    def services(self) -> TaskServices:
        if self._services is None:
            raise OperatingError(
                f"{self.component} needs the worker's services (tables, data plane, models, metrics)",
                hint="run components through a worker (accord up / accord worker)",
            )
        return self._services

    # ---- the computing engine -------------------------------------------------------------------

    @property
    def engine(self) -> Engine:
        """The task's engine, as the job's computing_engine, task_cores and computing_partitions say.

        Started on first use (a component on datasets alone never starts one) and closed when the
        task ends.
        """
        with self._engine_lock:
            if self._engine is None:
                self._engine = self._open_engine()
        return self._engine

    def _open_engine(self) -> Engine:
        source = self.services.engines
        if source is None:
            raise OperatingError(
                f"{self.component} computes on block tables and this worker offers no engine",
                hint="run the component on a worker (accord worker), which opens the job's engine",
            )
        params = self.plan.party(self.role, self.party_id).job_parameters
        return source.open(
            params.computing_engine,
            cores=params.task_cores,
            partitions=params.computing_partitions,
            spark_run=params.spark_run,
            app_name=f"{self.job_id}_{self.component}_{self.role}_{self.party_id}",
        )

    def close(self) -> None:
        """Release what the task opened (its engine); the SDK calls this when fit / predict returns."""
        engine, self._engine = self._engine, None
        if engine is not None and self._services is not None and self._services.engines is not None:
            self._services.engines.close(engine)

    # ---- who and what ---------------------------------------------------------------------------

    @property
    def job_id(self) -> str:
        return self.task.job_id

    @property
    def role(self) -> str:
        return self.task.party.role

    @property
    def party_id(self) -> int:
        return self.task.party.party_id

    @property
    def component(self) -> str:
        return self.task.component

    @cached_property
    def spec(self) -> ComponentPlan:
        return self.plan.component(self.task.component)

    @property
    def is_predict(self) -> bool:
        return self.spec.mode is RunMode.PREDICT

    def party_ids(self, role: str) -> tuple[int, ...]:
        return self.plan.roles.get(role, ())

    @cached_property
    def party_index(self) -> int:
        return self.party_ids(self.role).index(self.party_id)

    def check_cancelled(self) -> None:
        self.task.check_cancelled()

    def progress(self, done: int, total: int, note: str = "") -> None:
        """Tell the site how far the task is: ``done`` of ``total`` iterations (or trees), and a note.

        The job's progress counts it in, and ``accord job submit --wait`` shows it with the note
        (such as ``loss 0.3121``). Cheap to call every iteration: the worker records at most one a second.
        """
        self.task.progress(done, total, note)

    # ---- peers and records ----------------------------------------------------------------------

    @cached_property
    def transfer(self) -> Transfer:
        return Transfer(
            job_id=self.job_id,
            component=self.component,
            task_version=self.task.task_version,
            party=self.task.party,
            roles=self.plan.roles,
            exchange=self.services.exchange,
            timeout_s=self.services.transfer_timeout_s,
            sleep=self.task.sleep,
        )

    @cached_property
    def tracker(self) -> Tracker:
        return Tracker(
            self.services.metrics,
            job_id=self.job_id,
            component=self.component,
            role=self.role,
            party_id=self.party_id,
            task_version=self.task.task_version,
            task_id=task_id(self.job_id, self.component),
            summary_path=self.output_dir(self.component) / "summary.json",
        )

    # ---- inputs and outputs ---------------------------------------------------------------------

    def output_dir(self, component: str) -> Path:
        return layout.output_dir(self.task.work_dir.parent, component)

    def _data_path(self, component: str, output: str) -> Path:
        return layout.data_path(self.task.work_dir.parent, component, output)

    def inputs(self, kind: str) -> list[InputRef]:
        """The DSL's inputs of ``kind`` that exist on this party.

        An upstream component that does not run on this party's role (a guest-and-host module feeding
        an Evaluation that also runs on the arbiter) leaves nothing here, and FATE reads that as no
        input rather than an error; a model of the deployed job (``pipeline.``) is always looked for.
        """
        here = self.plan.party(self.role, self.party_id).components
        return [
            ref for ref in self.spec.inputs if ref.kind == kind and (ref.external or ref.component in here)
        ]

    def data_slots(self) -> list[str]:
        return list(dict.fromkeys(ref.slot for ref in self.inputs("data")))

    def input_data(self, slot: str = "data") -> list[Dataset]:
        """The datasets wired into ``slot`` (data, train_data, validate_data, test_data), in DSL order."""
        datasets = []
        for ref in self.inputs("data"):
            if ref.slot != slot:
                continue
            datasets.append(Dataset.load(self._input_path(ref)))
        return datasets

    def _input_path(self, ref: InputRef) -> Path:
        path = self._data_path(ref.component, ref.output)
        if not path.exists():
            raise DataFormatError(
                f"{self.component} needs {ref.reference} but {ref.component} left no such output on "
                f"{self.role} {self.party_id}",
                hint=f"check that {ref.component} runs on this role and outputs {ref.output!r}",
            )
        return path

    def input_dataset(self, slot: str = "data") -> Dataset | None:
        found = self.input_data(slot)
        if len(found) > 1:
            raise DataFormatError(f"{self.component} takes one {slot} input, the DSL gives {len(found)}")
        return found[0] if found else None

    def first_dataset(self, *slots: str) -> Dataset | None:
        """The dataset of the first of ``slots`` the DSL wires (e.g. train_data, then data)."""
        for slot in slots:
            found = self.input_dataset(slot)
            if found is not None:
                return found
        return None

    def save_data(self, dataset: Dataset, output: str | None = None) -> None:
        dataset.save(self._data_path(self.component, self._output_name(output)))

    def _output_name(self, output: str | None) -> str:
        return output or (self.spec.data_outputs[0] if self.spec.data_outputs else "data")

    def input_tables(self, slot: str = "data") -> list[DataTable]:
        """The inputs wired into ``slot`` as block tables on the task's engine, in DSL order."""
        return [
            load_table(self.engine, self._input_path(ref)) for ref in self.inputs("data") if ref.slot == slot
        ]

    def input_table(self, slot: str = "data") -> DataTable | None:
        found = self.input_tables(slot)
        if len(found) > 1:
            raise DataFormatError(f"{self.component} takes one {slot} input, the DSL gives {len(found)}")
        return found[0] if found else None

    def first_input(self, *slots: str) -> DataTable:
        """The table of the first of ``slots`` (data, then train_data by default) the DSL wires."""
        for slot in slots or ("data", "train_data"):
            found = self.input_table(slot)
            if found is not None:
                return found
        raise OperatingError(
            f"{self.component} has no input data",
            hint=f'give it one: "input": {{"data": {{"data": ["intersection_0.data"]}}}} (on {self.role})',
        )

    def instances_input(self, doing: str, *slots: str) -> DataTable:
        """:meth:`first_input` of ``slots``, which must hold the parsed rows DataTransform writes.

        ``doing`` says what the component does with them, for the refusal (``"scales parsed feature
        rows"``).
        """
        data = self.first_input(*slots)
        if data.kind != "instances":
            raise DataFormatError(
                f"{self.component} {doing}, but its input holds {data.kind} rows",
                hint=f"put a DataTransform between the Reader and {self.task.module}",
            )
        return data

    @property
    def in_training_job(self) -> bool:
        return self.plan.party(self.role, self.party_id).job_parameters.job_type == "train"

    def save_applied_model(self, model: dict[str, Any]) -> None:
        """A component that applied a model it was given saves it as its own model output in a
        training job, as FATE does (a predict job keeps the deployed one)."""
        if self.in_training_job:
            self.save_model(model)

    def save_table(self, data: DataTable, output: str | None = None) -> int:
        """Save a block table as the component's output (what every downstream component reads)."""
        return save_table(data, self._data_path(self.component, self._output_name(output)))

    @property
    def cache_output_dir(self) -> Path:
        """Where the component's (first) cache output lies, as a downstream cache input reads it."""
        output = self.spec.cache_outputs[0] if self.spec.cache_outputs else "cache"
        return layout.cache_dir(self.task.work_dir.parent, self.component, output)

    def save_cache(self, values: dict[str, Any], tables: dict[str, BlockTable]) -> None:
        """The component's cache output (sdk/cache.py): values (secrets allowed: kept 0600) and tables."""
        save_cache(self.cache_output_dir, values, tables)

    def input_cache(self) -> Cache | None:
        """The cache wired into the component's cache input, or None; more than one is refused."""
        refs = self.inputs("cache")
        if len(refs) > 1:
            raise DataFormatError(
                f"{self.component} takes one cache input, the DSL gives {len(refs)}",
                hint="keep one cache input",
            )
        if not refs:
            return None
        ref = refs[0]
        return load_cache(
            layout.cache_dir(self.task.work_dir.parent, ref.component, ref.output), ref.reference
        )

    def model_key(self, component: str | None = None, *, external: bool = False) -> ModelRef:
        params = self.plan.party(self.role, self.party_id).job_parameters
        if external:
            if not params.model_id or not params.model_version:
                raise OperatingError(
                    f"{self.component} reads a model of the deployed job but the job names none",
                    hint="set job_parameters.common.model_id and model_version",
                )
            model_id, version = params.model_id, params.model_version
        else:
            model_id, version = self.plan.model_id, self.plan.model_version or self.job_id
        return ModelRef(model_id, version, self.role, self.party_id, component or self.component)

    def trained_model(self, doing: str) -> dict[str, Any]:
        """The trained model of this module that the component applies: its model input, or the deployed
        one in a predict job. ``doing`` says how it applies it, for the refusal (``"scales"``)."""
        module = self.task.module
        models = self.input_models()
        if not models:
            raise OperatingError(
                f"{self.component} {doing} with a trained {module} model but was given none",
                hint=f"wire the training {module}'s model into this component's model input",
            )
        model = models[0]
        if "module" in model and model["module"] != module:
            raise DataMismatchError(
                f"{self.component} was given a model that is not a {module} model",
                hint=f"wire in the model output of a {module} component",
            )
        return model

    def save_model(self, model: dict[str, Any]) -> None:
        self.services.models.save(self.model_key(), model)

    @property
    def checkpoint_dir(self) -> Path:
        """Where this run's model checkpoints go (sdk/checkpoint.py): the task's own directory."""
        return self.task.work_dir / "checkpoints"

    def save_checkpoint(self, step_index: int, model: dict[str, Any], step_name: str | None = None) -> Path:
        """Keep ``model`` as it stood at ``step_index`` (FATE's ModelCheckpoint); the final model is
        still what :meth:`save_model` saves."""
        return save_checkpoint(self.checkpoint_dir, step_index, step_name or self.component, model)

    def input_models(self) -> list[dict[str, Any]]:
        """Models wired in through ``model`` or ``isometric_model``; the deployed ones in predict jobs."""
        refs = self.inputs("model") + self.inputs("isometric_model")
        return [
            self.services.models.load(self.model_key(ref.component, external=ref.external)) for ref in refs
        ]
