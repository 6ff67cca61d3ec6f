"""The component SDK: what a module implementation subclasses and receives.

Closed and light: it imports neither Temporal, SQLAlchemy, FastAPI nor gRPC. What a component needs
of its site (metrics, models, the data plane, tables, an engine) it names as protocols in
:mod:`accord.components.sdk.services`, which the worker implements.
"""

from accord.components.sdk.base import ComponentBase, check_roles
from accord.components.sdk.context import ComponentContext, validate_parameters
from accord.components.sdk.dataset import Dataset
from accord.components.sdk.scoring import PartyScorer
from accord.components.sdk.services import (
    EarlierJobs,
    EngineSource,
    ExchangeKey,
    LoadedModel,
    MetricRef,
    MetricSink,
    ModelRef,
    ModelSink,
    TableSource,
    TaskServices,
    ValueExchange,
)
from accord.components.sdk.tables import DataTable
from accord.components.sdk.task import TaskCancelled, TaskContext
from accord.components.sdk.tracker import Tracker
from accord.components.sdk.transfer import Transfer

__all__ = [
    "ComponentBase",
    "ComponentContext",
    "DataTable",
    "Dataset",
    "EarlierJobs",
    "EngineSource",
    "ExchangeKey",
    "LoadedModel",
    "MetricRef",
    "MetricSink",
    "ModelRef",
    "ModelSink",
    "PartyScorer",
    "TableSource",
    "TaskCancelled",
    "TaskContext",
    "TaskServices",
    "Tracker",
    "Transfer",
    "ValueExchange",
    "check_roles",
    "validate_parameters",
]
