"""One repository per aggregate, each built from a :class:`~accord.persistence.Database`."""

from accord.persistence.repositories._base import Clock, utc_now
from accord.persistence.repositories.grants import TableGrant, TableGrantRepository
from accord.persistence.repositories.jobs import JobRepository
from accord.persistence.repositories.metrics import MetricRepository
from accord.persistence.repositories.models import ModelRepository
from accord.persistence.repositories.resources import COMPUTING, ResourceRepository
from accord.persistence.repositories.reuse import TaskOutputRepository, TaskOutputs
from accord.persistence.repositories.tables import TableMetaRepository
from accord.persistence.repositories.tags import Tag, TagRepository
from accord.persistence.repositories.tasks import TaskRepository

__all__ = [
    "COMPUTING",
    "Clock",
    "JobRepository",
    "MetricRepository",
    "ModelRepository",
    "ResourceRepository",
    "TableGrant",
    "TableGrantRepository",
    "TableMetaRepository",
    "Tag",
    "TagRepository",
    "TaskOutputRepository",
    "TaskOutputs",
    "TaskRepository",
    "utc_now",
]
