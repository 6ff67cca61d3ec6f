"""Runs a component on every one of its parties in-process, with the real data plane.

No Temporal here: each party's task runs in its own thread, exactly as a worker would run it, and
values travel over a real gRPC data-plane server on loopback into a real mailbox, through the worker's
own implementations of the SDK's services. Upstream outputs are planted as datasets, so each component
is tested on its own against a plain reference. Components on block tables compute on ``engine`` (a
session engine of tests/engines.py, or a one-process local engine by default).
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import grpc

from accord.activities.services import FederatedExchange, RepositoryMetrics, SiteTables, StoredModels
from accord.components import ComponentRegistry, TaskContext
from accord.components.sdk import Dataset, TaskServices, layout
from accord.computing import Engine, LocalEngine
from accord.dsl_compiler.compiler import CompileOptions, compile_job
from accord.dsl_compiler.plan import JobPlan
from accord.federation.client import FederationClient
from accord.federation.dataplane import DataPlaneServicer
from accord.federation.mailbox import Mailbox, TransferKey
from accord.federation.proto import federation_pb2_grpc as pb_grpc
from accord.federation.routes import RouteTable
from accord.identity import Party
from accord.model_store import ModelKey, ModelStore
from accord.persistence import Database, MetricRepository, ModelRepository, TableMetaRepository
from accord.storage import TableStore

JOB_ID = "202611220000000000001"


class ComponentHarness:
    def __init__(
        self,
        home: Path,
        dsl: Mapping[str, Any],
        conf: Mapping[str, Any],
        *,
        registry: ComponentRegistry | None = None,
        engine: Engine | None = None,
    ) -> None:
        home.mkdir(parents=True, exist_ok=True)
        self.home = home
        self.registry = registry or ComponentRegistry.discover()
        options = CompileOptions(job_id=JOB_ID, extra_modules=self.registry.extra_specs())
        self.plan: JobPlan = compile_job(dsl, conf, options)
        self.database = Database(f"sqlite:///{home / 'accord.db'}")
        self.database.migrate()
        self.mailbox = Mailbox(home / "transfer")
        self.metrics = MetricRepository(self.database)
        self.models = ModelStore(home / "models", ModelRepository(self.database))
        self.tables = TableStore(home / "tables", TableMetaRepository(self.database))
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._thread.start()
        self._server, port = self._call(self._start_server())
        self.client = FederationClient(RouteTable(default=f"127.0.0.1:{port}"), timeout_s=10)
        self.transfer_timeout_s = 60.0
        self._own_engine = engine is None
        self.engine: Engine = engine or LocalEngine(cores=1, partitions=4, work_dir=home / "computing")

    def _call(self, coroutine: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result()

    async def _start_server(self) -> tuple[grpc.aio.Server, int]:
        server = grpc.aio.server()
        pb_grpc.add_FederationDataServicer_to_server(  # type: ignore[no-untyped-call]
            DataPlaneServicer(self.mailbox, lambda _party: True), server
        )
        port = server.add_insecure_port("127.0.0.1:0")
        await server.start()
        return server, port

    def close(self) -> None:
        self._call(self.client.close())
        self._call(self._server.stop(None))
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)
        self.database.dispose()
        if self._own_engine:
            self.engine.close()

    # ---- planting inputs and reading outputs -----------------------------------------------------

    def party_dir(self, role: str, party_id: int) -> Path:
        return layout.party_dir(self.home, JOB_ID, role, party_id)

    def plant(self, role: str, party_id: int, component: str, dataset: Dataset, output: str = "data") -> None:
        dataset.save(layout.data_path(self.party_dir(role, party_id), component, output))

    def output(self, role: str, party_id: int, component: str, output: str = "data") -> Dataset:
        return Dataset.load(layout.data_path(self.party_dir(role, party_id), component, output))

    def model(self, role: str, party_id: int, component: str) -> dict[str, Any]:
        key = ModelKey(self.plan.model_id, self.plan.model_version or JOB_ID, role, party_id, component)
        return self.models.load(key)

    def parties(self, component: str) -> Iterator[Party]:
        for party in self.plan.parties:
            if component in party.components:
                yield Party(role=party.role, party_id=party.party_id)

    # ---- running ----------------------------------------------------------------------------------

    def _services(self) -> TaskServices:
        def send(key: TransferKey, data: bytes, request_id: str) -> Future[None]:
            return asyncio.run_coroutine_threadsafe(
                self.client.push_value(key, data, request_id=request_id), self._loop
            )

        return TaskServices(
            tables=SiteTables(self.tables),
            exchange=FederatedExchange(self.mailbox, send),
            metrics=RepositoryMetrics(self.metrics),
            models=StoredModels(self.models),
            transfer_timeout_s=self.transfer_timeout_s,
            engines=SharedEngine(self.engine),
        )

    def context(self, party: Party, component: str, task_version: int = 0) -> TaskContext:
        spec = self.plan.component(component)
        party_plan = self.plan.party(party.role, party.party_id)
        work_dir = layout.task_dir(self.party_dir(party.role, party.party_id), component, task_version)
        work_dir.mkdir(parents=True, exist_ok=True)
        return TaskContext(
            job_id=JOB_ID,
            party=party,
            component=component,
            module=spec.module,
            task_version=task_version,
            parameters=party_plan.component_parameters.get(component, {}),
            work_dir=work_dir,
            plan=self.plan,
            services=self._services(),
        )

    def run(self, component: str, task_version: int = 0) -> dict[Party, BaseException | None]:
        """Run ``component`` on all its parties at once; each party's exception (or None)."""
        module = self.plan.component(component).module
        parties = list(self.parties(component))
        with ThreadPoolExecutor(max_workers=len(parties)) as pool:
            futures = {
                party: pool.submit(
                    self.registry.create(module).run, self.context(party, component, task_version)
                )
                for party in parties
            }
        return {party: future.exception() for party, future in futures.items()}

    def run_ok(self, component: str, task_version: int = 0) -> None:
        failures = {party: error for party, error in self.run(component, task_version).items() if error}
        if failures:
            party, error = next(iter(failures.items()))
            raise AssertionError(f"{component} failed on {party}: {failures}") from error


class SharedEngine:
    """Hands every task the harness's engine, whatever the job asks, and leaves it open after."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def open(
        self,
        computing_engine: str,
        *,
        cores: int,
        partitions: int,
        spark_run: Mapping[str, Any],
        app_name: str,
    ) -> Engine:
        return self.engine

    def close(self, engine: Engine) -> None:
        """The engine outlives the task (the test closes it)."""
