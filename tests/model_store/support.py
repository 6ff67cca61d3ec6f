"""A site home and the small builders the model tests share."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from accord.model_store import ArchiveSigning, ModelKey, ModelService, ModelStore
from accord.persistence import Database, JobRepository, NewJob
from accord.security.certs import CA_CERT_NAME, create_ca, create_site_certificate
from accord.settings import Settings
from accord.status import JobStatus

MODEL_ID = "arbiter-10000#guest-9999#host-10000#model"
VERSION = "202612010000000000001"
DSL: dict[str, Any] = {
    "components": {
        "reader_0": {"module": "Reader", "output": {"data": ["data"]}},
        "hetero_lr_0": {"module": "HeteroLR", "input": {"data": {"train_data": ["reader_0.data"]}}},
    }
}
CONF: dict[str, Any] = {
    "dsl_version": 2,
    "initiator": {"role": "guest", "party_id": 9999},
    "role": {"guest": [9999], "host": [10000], "arbiter": [10000]},
    "job_parameters": {"common": {"job_type": "train"}},
}


@dataclass
class Home:
    root: Path
    database: Database
    jobs: JobRepository
    store: ModelStore
    service: ModelService
    signing: ArchiveSigning


def federation_signing(root: Path, ca_dir: Path, name: str, party_id: int = 9999) -> ArchiveSigning:
    """A site's archive signing as in cluster mode: its federation key, trusting the federation's CA.

    The CA is made in ``ca_dir`` on first use, so every home of a test shares one federation.
    """
    if not (ca_dir / CA_CERT_NAME).exists():
        create_ca(ca_dir)
    cert = create_site_certificate(ca_dir, root / "tls", site=name, party_ids=[party_id])
    settings = Settings(
        home=root, tls_ca_file=ca_dir / CA_CERT_NAME, tls_cert_file=cert.cert, tls_key_file=cert.key
    )
    return ArchiveSigning.for_site(settings)


def key(component: str = "hetero_lr_0", role: str = "guest", party_id: int = 9999, **kw: str) -> ModelKey:
    return ModelKey(kw.get("model_id", MODEL_ID), kw.get("version", VERSION), role, party_id, component)


def add_job(home: Home, status: JobStatus, *, role: str = "guest", party_id: int = 9999) -> None:
    """The training job's row of one party, moved to ``status`` the way the scheduler moves it."""
    plan = {
        "job_type": "train",
        "parties": [{"role": role, "party_id": party_id, "components": ["reader_0", "hetero_lr_0"]}],
    }
    home.jobs.create(
        NewJob(
            job_id=VERSION,
            role=role,
            party_id=party_id,
            initiator_role="guest",
            initiator_party_id=9999,
            dsl=DSL,
            runtime_conf=CONF,
            plan=plan,
            model_id=MODEL_ID,
            model_version=VERSION,
        )
    )
    set_status(home, status, role=role, party_id=party_id)


def set_status(home: Home, status: JobStatus, *, role: str = "guest", party_id: int = 9999) -> None:
    current = home.jobs.get(VERSION, role, party_id).status
    path = {
        JobStatus.RUNNING: [JobStatus.RUNNING],
        JobStatus.SUCCESS: [JobStatus.RUNNING, JobStatus.SUCCESS],
        JobStatus.WAITING: [JobStatus.WAITING],
    }[status]
    for step in path:
        if step != current:
            home.jobs.update_status(VERSION, role, party_id, step)
            current = step


def rewrite(archive: bytes, change: Callable[[dict[str, bytes]], None]) -> bytes:
    """The archive with its members changed by ``change`` (member name → bytes), zipped again."""
    with zipfile.ZipFile(io.BytesIO(archive)) as source:
        members = {name: source.read(name) for name in source.namelist()}
    change(members)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as target:
        for name, body in members.items():
            target.writestr(name, body)
    return out.getvalue()
