"""HomoNN's parameters: the names and defaults of FATE 1.11's HomoNNParam, FedAVGTrainer and TableDataset.

FATE keeps the trainer's and the dataset's own arguments as free dicts (``trainer.param``,
``dataset.param``) handed to the class the name picks. Accord runs one trainer (``fedavg_trainer``) and
one dataset (``table``): their arguments are checked against :class:`FedAvgParam` and
:class:`TableDatasetParam` (FATE's names and defaults) when the job is submitted, and what Accord does
not run is refused there by :func:`check_supported`, naming the field.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, field_validator

from accord.components.nn import define
from accord.components.sdk.context import validate_parameters
from accord.errors import ComponentFeatureUnsupported, ComponentParameterError

MODULE = "HomoNN"
TRAINER = "fedavg_trainer"
DATASET = "table"
TASK_TYPES = ("auto", "binary", "multi", "regression")


class TrainerParam(BaseModel):
    model_config = ConfigDict(extra="forbid")

    trainer_name: str | None = None
    param: dict[str, Any] = {}


class DatasetParam(BaseModel):
    model_config = ConfigDict(extra="forbid")

    dataset_name: str | None = None
    param: dict[str, Any] = {}


class FedAvgParam(BaseModel):
    """FATE's FedAVGTrainer arguments (federatedml/nn/homo/trainer/fedavg_trainer.py)."""

    model_config = ConfigDict(extra="forbid")

    epochs: StrictInt = Field(default=10, gt=0)
    batch_size: StrictInt = 512  # -1: the whole local data in one batch
    early_stop: Literal["diff", "abs"] | None = None
    tol: float = 0.0001
    secure_aggregate: StrictBool = True
    weighted_aggregation: StrictBool = True
    aggregate_every_n_epoch: StrictInt | None = Field(default=None, gt=0)
    cuda: Any = None
    pin_memory: StrictBool = True  # a DataLoader hint for GPU copies: nothing to do on CPU
    shuffle: StrictBool = True
    data_loader_worker: StrictInt = Field(default=0, ge=0)
    validation_freqs: StrictInt | None = Field(default=None, gt=0)
    checkpoint_save_freqs: StrictInt | None = Field(default=None, gt=0)
    task_type: str = "auto"
    save_to_local_dir: StrictBool = False
    collate_fn: Any = None
    collate_fn_params: dict[str, Any] | None = None

    @field_validator("batch_size")
    @classmethod
    def _batch(cls, value: int) -> int:
        if value != -1 and value <= 0:
            raise ValueError("batch_size is a positive int, or -1 for the whole local data")
        return value

    @field_validator("task_type")
    @classmethod
    def _task(cls, value: str) -> str:
        return value.lower()


class TableDatasetParam(BaseModel):
    """FATE's TableDataset arguments (federatedml/nn/dataset/table.py)."""

    model_config = ConfigDict(extra="forbid")

    label_col: str | int | None = None
    feature_dtype: Literal["long", "int", "float", "double"] | None = "float"
    label_dtype: Literal["long", "int", "float", "double"] | None = "float"
    label_shape: list[int] | None = None
    flatten_label: StrictBool = False


class HomoNNParam(BaseModel):
    model_config = ConfigDict(extra="forbid")

    trainer: TrainerParam = TrainerParam()
    dataset: DatasetParam = DatasetParam()
    torch_seed: StrictInt = Field(default=100, ge=0)
    nn_define: dict[str, Any] | None = None
    loss: dict[str, Any] | None = None
    optimizer: dict[str, Any] | None = None
    ds_config: dict[str, Any] | None = None
    server_init: StrictBool = False

    def fedavg(self, component: str) -> FedAvgParam:
        return validate_parameters(
            FedAvgParam, self.trainer.param, component=component, module=f"{MODULE} trainer.param"
        )

    def table(self, component: str) -> TableDatasetParam:
        return validate_parameters(
            TableDatasetParam, self.dataset.param, component=component, module=f"{MODULE} dataset.param"
        )


def _refuse(component: str, field: str, why: str, hint: str) -> ComponentFeatureUnsupported:
    return ComponentFeatureUnsupported(f"{component}: {MODULE}'s {field} {why}", hint=hint, field=field)


def check_supported(param: HomoNNParam, component: str) -> None:
    """Refuse at submit, naming the field, what FATE's HomoNN offers and Accord does not run."""
    define.require_torch(component, MODULE)
    name = param.trainer.trainer_name
    if name is None:
        raise ComponentParameterError(
            f"{component}: {MODULE}'s trainer.trainer_name is required",
            hint=f'give trainer {{"trainer_name": "{TRAINER}", "param": {{...}}}}',
            field="trainer.trainer_name",
        )
    if name != TRAINER:
        raise _refuse(
            component,
            "trainer.trainer_name",
            f"{name!r} is not supported: a trainer is code, and only built-in trainers run",
            f"use trainer_name {TRAINER!r}",
        )
    if param.dataset.dataset_name not in (None, DATASET):
        raise _refuse(
            component,
            "dataset.dataset_name",
            f"{param.dataset.dataset_name!r} is not supported: a dataset class is code",
            f"use dataset_name {DATASET!r} (or leave it null)",
        )
    trainer = param.fedavg(component)
    table = param.table(component)
    refusals: dict[str, tuple[bool, str]] = {
        "ds_config": (bool(param.ds_config), "DeepSpeed does not run here; leave ds_config null"),
        "server_init": (
            param.server_init,
            "the arbiter holds no model; clients start from torch_seed: set false",
        ),
        "trainer.param.cuda": (trainer.cuda is not None, "Accord trains on CPU; leave cuda null"),
        "trainer.param.data_loader_worker": (
            trainer.data_loader_worker != 0,
            "batches are made in the task's process; set 0",
        ),
        "trainer.param.save_to_local_dir": (
            trainer.save_to_local_dir,
            "the model is saved to the model store only (JSON); set false",
        ),
        "trainer.param.collate_fn": (
            trainer.collate_fn is not None or bool(trainer.collate_fn_params),
            "a collate function is code; leave collate_fn and collate_fn_params null",
        ),
        "trainer.param.task_type": (
            trainer.task_type not in TASK_TYPES,
            f"only {', '.join(TASK_TYPES)} are supported (language-model tasks are not)",
        ),
        "dataset.param.label_col": (
            table.label_col not in (None, "label"),
            "the label is the column DataTransform parsed as the label; leave label_col null (or 'label')",
        ),
    }
    for field, (refused, hint) in refusals.items():
        if refused:
            raise _refuse(component, field, "asks for what is not supported", hint)
    define.check_sequential(param.nn_define, "nn_define", component, required=True)
    define.check_loss(param.loss, "loss", component)
    define.check_optimizer(param.optimizer, "optimizer", component)
