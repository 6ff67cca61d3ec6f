"""A HeteroLR model really trained (in-process harness), moved party by party to a fresh site home."""

from __future__ import annotations

from pathlib import Path

from accord.model_store import ModelKey, ModelService, ModelStore
from accord.persistence import Database, JobRepository, ModelRepository, NewJob
from accord.status import JobStatus
from tests.components.breast import breast_parties
from tests.components.harness import JOB_ID, ComponentHarness
from tests.components.test_hetero_lr import DSL, conf

from .support import federation_signing


def test_each_partys_trained_model_survives_export_and_import(tmp_path: Path) -> None:
    job_conf = conf(max_iter=2, batch_size=-1, encrypt_param={"key_length": 512})
    harness = ComponentHarness(tmp_path / "trained", DSL, job_conf)
    try:
        guest, host = breast_parties(limit=60)
        harness.plant("guest", 9999, "intersection_0", guest)
        harness.plant("host", 10000, "intersection_0", host)
        harness.run_ok("hetero_lr_0")
        jobs = JobRepository(harness.database)
        plan = harness.plan
        for party in plan.parties:
            jobs.create(
                NewJob(
                    job_id=JOB_ID,
                    role=party.role,
                    party_id=party.party_id,
                    initiator_role="guest",
                    initiator_party_id=9999,
                    dsl=DSL,
                    runtime_conf=job_conf,
                    plan=plan.model_dump(mode="json"),
                    model_id=plan.model_id,
                    model_version=JOB_ID,
                )
            )
            jobs.update_status(JOB_ID, party.role, party.party_id, JobStatus.RUNNING)
            jobs.update_status(JOB_ID, party.role, party.party_id, JobStatus.SUCCESS)
        # Two sites of one federation: each signs with its federation key and trusts the other's.
        signing = federation_signing(tmp_path / "trained", tmp_path / "ca", "trained")
        trained = ModelService(harness.models, jobs, signing=signing)
        archives = {
            (p.role, p.party_id): trained.export(
                plan.model_id, JOB_ID, p.role, p.party_id, tmp_path / f"{p.role}-{p.party_id}.zip"
            )
            for p in plan.parties
        }

        with Database(f"sqlite:///{tmp_path / 'fresh.db'}") as fresh:
            fresh.migrate()
            store = ModelStore(tmp_path / "fresh" / "models", ModelRepository(fresh))
            fresh_signing = federation_signing(tmp_path / "fresh", tmp_path / "ca", "fresh")
            service = ModelService(store, JobRepository(fresh), signing=fresh_signing)
            for (role, party_id), archive in archives.items():
                imported = service.import_(archive)
                assert imported.signer is not None and "CN=trained" in imported.signer.subject
                component = ModelKey(plan.model_id, JOB_ID, role, party_id, "hetero_lr_0")
                assert store.load(component) == harness.models.load(component)
                assert store.read(component) == harness.models.read(component)
                [entry] = service.query(plan.model_id, JOB_ID, role, party_id)
                party_plan = plan.party(role, party_id).model_dump(mode="json")
                assert entry["party_plan"] == party_plan and "hetero_lr_0" in party_plan["components"]
                assert entry["train_runtime_conf"] == job_conf and imported.job_type == "train"
            # Each party's archive holds only that party's part: 10 guest features, 20 host features.
            guest_lr = store.load(ModelKey(plan.model_id, JOB_ID, "guest", 9999, "hetero_lr_0"))
            host_lr = store.load(ModelKey(plan.model_id, JOB_ID, "host", 10000, "hetero_lr_0"))
            assert (len(guest_lr["param"]["weight"]), len(host_lr["param"]["weight"])) == (10, 20)
            assert len(service.list_models()) == len(plan.parties)
    finally:
        harness.close()
