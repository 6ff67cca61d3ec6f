"""Accord's persistence: FATE-Flow's data model on SQLAlchemy, migrated with Alembic.

Build one :class:`Database` at an entry point, call :meth:`Database.migrate`, and hand it to the
repositories; reads return frozen records, never live ORM rows. Importing this package has no side
effects: nothing connects until a method is called.
"""

from accord.persistence.database import Database, alembic_config, head_revision
from accord.persistence.records import (
    EngineRecord,
    JobRecord,
    MetricKey,
    MetricRecord,
    ModelRecord,
    ModelVersionRecord,
    NewJob,
    NewModelVersion,
    NewTask,
    TableMeta,
    TaskKey,
    TaskRecord,
)
from accord.persistence.repositories import (
    COMPUTING,
    Clock,
    JobRepository,
    MetricRepository,
    ModelRepository,
    ResourceRepository,
    TableGrant,
    TableGrantRepository,
    TableMetaRepository,
    Tag,
    TagRepository,
    TaskOutputRepository,
    TaskOutputs,
    TaskRepository,
    utc_now,
)

__all__ = [
    "COMPUTING",
    "Clock",
    "Database",
    "EngineRecord",
    "JobRecord",
    "JobRepository",
    "MetricKey",
    "MetricRecord",
    "MetricRepository",
    "ModelRecord",
    "ModelRepository",
    "ModelVersionRecord",
    "NewJob",
    "NewModelVersion",
    "NewTask",
    "ResourceRepository",
    "TableGrant",
    "TableGrantRepository",
    "TableMeta",
    "TableMetaRepository",
    "Tag",
    "TagRepository",
    "TaskKey",
    "TaskOutputRepository",
    "TaskOutputs",
    "TaskRecord",
    "TaskRepository",
    "alembic_config",
    "head_revision",
    "utc_now",
]
