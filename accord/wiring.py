"""The one place a site's stores are opened: the server and the worker both build them here.

Every store and repository of a site works over its one database and its home; opening them in one
factory keeps the two processes agreeing on where tables, models and exchanged values live (and on
the settings each store is bounded by), where two hand-written lists drifted apart before.
"""

from __future__ import annotations

from dataclasses import dataclass

from accord.federation.client import CallMeter, FederationClient
from accord.federation.mailbox import Mailbox
from accord.federation.routes import RouteTable
from accord.federation.tls import TlsMaterial
from accord.model_store import ModelStore
from accord.persistence import (
    Database,
    JobRepository,
    MetricRepository,
    ModelRepository,
    ResourceRepository,
    TableGrantRepository,
    TaskOutputRepository,
    TaskRepository,
)
from accord.settings import Settings
from accord.site.reuse import ReuseService
from accord.storage import TableStore


@dataclass(frozen=True)
class SiteStores:
    """The repositories and file stores of one site, over its database and home."""

    database: Database
    jobs: JobRepository
    tasks: TaskRepository
    resources: ResourceRepository
    metrics: MetricRepository
    model_records: ModelRepository
    grants: TableGrantRepository
    models: ModelStore
    tables: TableStore
    # Values exchanged with peers wait here until their task reads them.
    mailbox: Mailbox
    # What finished tasks made, for later jobs to take instead of running them again.
    reuse: ReuseService

    @classmethod
    def open(cls, settings: Settings, database: Database) -> SiteStores:
        model_records = ModelRepository(database)
        jobs, tasks, metrics = JobRepository(database), TaskRepository(database), MetricRepository(database)
        models = ModelStore(settings.home / "models", model_records)
        tables = TableStore.for_site(settings, database)
        return cls(
            database=database,
            jobs=jobs,
            tasks=tasks,
            resources=ResourceRepository(database),
            metrics=metrics,
            model_records=model_records,
            grants=TableGrantRepository(database),
            models=models,
            tables=tables,
            mailbox=Mailbox(settings.home / "transfer"),
            reuse=ReuseService(
                settings.home,
                jobs=jobs,
                tasks=tasks,
                outputs=TaskOutputRepository(database),
                metrics=metrics,
                models=models,
                tables=tables,
            ),
        )


def federation_client(settings: Settings, *, meter: CallMeter | None = None) -> FederationClient:
    """A client to the other sites, over the routes and TLS material of the settings.

    ``meter`` counts its calls for the site's metrics (an :class:`accord.metrics.ProcessMetrics`).
    """
    return FederationClient(
        RouteTable.from_settings(settings),
        timeout_s=settings.federation_timeout_s,
        attempts=settings.federation_attempts,
        tls=TlsMaterial.from_settings(settings),
        meter=meter,
    )
