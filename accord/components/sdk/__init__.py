"""The component SDK: what a module implementation subclasses and receives."""

from accord.components.sdk.base import ComponentBase
from accord.components.sdk.context import ComponentContext, validate_parameters
from accord.components.sdk.dataset import Dataset
from accord.components.sdk.services import TaskServices
from accord.components.sdk.tracker import Tracker
from accord.components.sdk.transfer import Transfer

__all__ = [
    "ComponentBase",
    "ComponentContext",
    "Dataset",
    "TaskServices",
    "Tracker",
    "Transfer",
    "validate_parameters",
]
