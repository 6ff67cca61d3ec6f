"""ModelService: list and query, export and import between site homes, tampering, overwrite, delete."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

from accord.errors import (
    ConflictError,
    DataFormatError,
    JobStateError,
    PartyNotHosted,
    RecordNotFound,
)
from accord.model_store import ModelService, ModelStore
from accord.model_store.storage import LocalDirectoryStorage
from accord.status import JobStatus

from .conftest import HomeFactory
from .support import CONF, DSL, MODEL_ID, VERSION, Home, add_job, key, rewrite

LR = {"param": {"weight": {"x0": 0.25}, "intercept": -0.5}}
TRANSFORM = {"header": ["x0"], "missing_fill": False}


def trained(home: Home) -> None:
    """A succeeded training job's models on guest and host, as its tasks would have saved them."""
    for role, party_id in (("guest", 9999), ("host", 10000)):
        add_job(home, JobStatus.RUNNING, role=role, party_id=party_id)
        home.store.save(key("data_transform_0", role, party_id), TRANSFORM)
        home.store.save(key("hetero_lr_0", role, party_id), {**LR, "role": role})
        add_job(home, JobStatus.SUCCESS, role=role, party_id=party_id)


def nothing_in(home: Home) -> None:
    assert home.service.list_models() == []
    assert LocalDirectoryStorage(home.root / "models").list() == []


def test_list_and_query_filter_by_model_version_role_and_party(home: Home) -> None:
    trained(home)
    home.store.save(key(version="202612020000000000009"), LR)  # a second version, no job here
    versions = home.service.list_models()
    # Newest first.
    assert [(v.key.model_version, v.key.role) for v in versions] == [
        ("202612020000000000009", "guest"),
        (VERSION, "host"),
        (VERSION, "guest"),
    ]
    assert {(v.key.role, v.key.party_id) for v in home.service.list_models(model_version=VERSION)} == {
        ("guest", 9999),
        ("host", 10000),
    }
    [host] = home.service.list_models(MODEL_ID, VERSION, role="host")
    assert [c.component_name for c in host.components] == ["data_transform_0", "hetero_lr_0"]
    stored = home.store.records.get(MODEL_ID, VERSION, "host", 10000, "hetero_lr_0")
    assert host.components[1].sha256 == stored.checksum
    assert (host.job_id, host.job_status, host.job_type, host.imported) == (
        VERSION,
        "success",
        "train",
        False,
    )
    assert home.service.list_models(party_id=10000) == [host]
    assert home.service.list_models(model_id="other#model") == []

    [entry] = home.service.query(MODEL_ID, VERSION, "guest", 9999, with_models=True)
    assert entry["train_dsl"] == DSL and entry["train_runtime_conf"] == CONF
    assert entry["party_plan"]["role"] == "guest" and entry["job_status"] == "success"
    assert entry["models"]["hetero_lr_0"] == {**LR, "role": "guest"}
    assert len(home.service.query(MODEL_ID, VERSION)) == 2
    with pytest.raises(RecordNotFound, match="no model"):
        home.service.query(MODEL_ID, "209901010000000000000")


def test_export_then_import_into_a_fresh_site_gives_identical_models(
    make_home: HomeFactory, tmp_path: Path
) -> None:
    source, target = make_home("source"), make_home("target")
    trained(source)
    archive = source.service.export(MODEL_ID, VERSION, "guest", 9999, tmp_path / "out" / "guest.zip")
    with zipfile.ZipFile(archive) as opened:
        assert sorted(opened.namelist()) == [
            "manifest.json",
            "manifest.sha256",
            "models/data_transform_0.json",
            "models/hetero_lr_0.json",
            "signature.json",
            "signer.pem",
        ]
        manifest = json.loads(opened.read("manifest.json"))
    assert (manifest["model_id"], manifest["model_version"], manifest["role"], manifest["party_id"]) == (
        MODEL_ID,
        VERSION,
        "guest",
        9999,
    )
    assert manifest["train_dsl"] == DSL and manifest["party_plan"]["party_id"] == 9999

    imported = target.service.import_(archive)
    assert imported.imported and imported.job_status == "success" and imported.job_id is None
    [before] = source.service.list_models(role="guest")
    assert [(c.component_name, c.sha256) for c in imported.components] == [
        (c.component_name, c.sha256) for c in before.components
    ]
    for component in ("data_transform_0", "hetero_lr_0"):
        assert target.store.load(key(component)) == source.store.load(key(component))
    [entry] = target.service.query(MODEL_ID, VERSION)
    assert entry["train_dsl"] == DSL and entry["train_runtime_conf"] == CONF and entry["job_type"] == "train"
    assert imported.signer is not None and "CN=source" in imported.signer.subject
    assert imported.signer.trusted_by.startswith("the federation CA")
    # The manifest and models are a function of the version alone: exported again from the new site,
    # byte for byte; only the signature is the new site's.
    again = _members(target.service.export_bytes(MODEL_ID, VERSION, "guest", 9999))
    first = _members(archive.read_bytes())
    assert {n: b for n, b in again.items() if not n.startswith("signat") and n != "signer.pem"} == {
        n: b for n, b in first.items() if not n.startswith("signat") and n != "signer.pem"
    }
    assert again["signer.pem"] != first["signer.pem"]
    # Imported versions are final, like those whose job succeeded.
    with pytest.raises(ConflictError, match="is final"):
        target.store.save(key(), LR)


def _members(archive: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(archive)) as opened:
        return {name: opened.read(name) for name in opened.namelist()}


def _drop(name: str) -> Callable[[dict[str, bytes]], None]:
    def change(members: dict[str, bytes]) -> None:
        del members[name]

    return change


def _edit(name: str, old: bytes, new: bytes) -> Callable[[dict[str, bytes]], None]:
    def change(members: dict[str, bytes]) -> None:
        assert old in members[name]
        members[name] = members[name].replace(old, new, 1)

    return change


@pytest.mark.parametrize(
    ("change", "named"),
    [
        (_edit("models/hetero_lr_0.json", b"0.25", b"0.35"), "hetero_lr_0"),
        (
            _edit("manifest.json", b'"guest"', b'"host"'),
            r"manifest.json in .* does not match manifest.sha256",
        ),
        (_drop("models/data_transform_0.json"), "lacks the model of data_transform_0"),
        (_drop("manifest.sha256"), "has no manifest.sha256"),
        (lambda members: members.update({"models/extra.json": b"{}"}), "models/extra.json"),
    ],
    ids=["model-byte", "manifest", "missing-model", "missing-checksum", "extra-file"],
)
def test_a_tampered_archive_is_refused_and_nothing_is_imported(
    make_home: HomeFactory, change: Callable[[dict[str, bytes]], None], named: str
) -> None:
    source, target = make_home("source"), make_home("target")
    trained(source)
    tampered = rewrite(source.service.export_bytes(MODEL_ID, VERSION, "guest", 9999), change)
    with pytest.raises(DataFormatError, match=named) as refused:
        target.service.import_bytes(tampered)
    assert refused.value.code == DataFormatError.code and refused.value.hint
    nothing_in(target)


def test_not_an_archive_and_a_newer_format_are_refused(home: Home, tmp_path: Path) -> None:
    with pytest.raises(DataFormatError, match="not a zip file"):
        home.service.import_bytes(b"PK definitely not a zip")
    newer = io.BytesIO()
    with zipfile.ZipFile(newer, "w") as archive:
        body = json.dumps({"format": "accord-model", "format_version": 99}).encode()
        archive.writestr("manifest.json", body)
        archive.writestr("manifest.sha256", f"{hashlib.sha256(body).hexdigest()}  manifest.json\n")
    with pytest.raises(DataFormatError, match="format 99"):
        home.service.import_bytes(newer.getvalue())
    nothing_in(home)


def test_a_failed_write_during_import_leaves_nothing_behind(make_home: HomeFactory) -> None:
    source, target = make_home("source"), make_home("target")
    trained(source)
    archive = source.service.export_bytes(MODEL_ID, VERSION, "guest", 9999)

    class FullDisk(LocalDirectoryStorage):
        def put(self, key: str, data: bytes) -> None:
            if key.endswith("hetero_lr_0.json"):
                raise OSError(28, "No space left on device")
            super().put(key, data)

    failing = ModelStore(FullDisk(target.root / "models"), target.store.records)
    with pytest.raises(OSError, match="No space"):
        ModelService(failing, target.jobs, signing=target.signing).import_bytes(archive)
    nothing_in(target)


def test_an_existing_version_is_replaced_only_with_force(make_home: HomeFactory) -> None:
    first, second, target = make_home("first"), make_home("second"), make_home("target")
    trained(first)
    second.store.save(key("hetero_lr_0"), {"param": {"weight": {"x0": 9.0}}})  # same version, other model
    target.service.import_bytes(first.service.export_bytes(MODEL_ID, VERSION, "guest", 9999))
    replacement = second.service.export_bytes(MODEL_ID, VERSION, "guest", 9999)

    with pytest.raises(ConflictError, match="already on this site") as refused:
        target.service.import_bytes(replacement)
    assert "--force" in (refused.value.hint or "")
    assert target.store.load(key("hetero_lr_0")) == {**LR, "role": "guest"}

    replaced = target.service.import_bytes(replacement, force=True)
    assert [c.component_name for c in replaced.components] == ["hetero_lr_0"]
    assert target.store.load(key("hetero_lr_0")) == {"param": {"weight": {"x0": 9.0}}}
    # The component the new version lacks is gone, file and row.
    assert [k.rsplit("/", 1)[-1] for k in LocalDirectoryStorage(target.root / "models").list()] == [
        "hetero_lr_0.json"
    ]
    [entry] = target.service.query(MODEL_ID, VERSION)
    assert entry["train_dsl"] is None  # the second site had no job for it


def test_import_is_refused_for_a_party_the_site_does_not_host(make_home: HomeFactory) -> None:
    source, target = make_home("source"), make_home("target")
    trained(source)
    archive = source.service.export_bytes(MODEL_ID, VERSION, "host", 10000)
    guest_only = ModelService(
        target.store, target.jobs, signing=target.signing, hosts_party=lambda party_id: party_id == 9999
    )
    with pytest.raises(PartyNotHosted, match="10000"):
        guest_only.import_bytes(archive)
    nothing_in(target)


def test_a_version_whose_job_runs_is_neither_exported_nor_deleted_nor_replaced(home: Home) -> None:
    add_job(home, JobStatus.RUNNING)
    home.store.save(key(), LR)
    with pytest.raises(JobStateError, match="running"):
        home.service.export_bytes(MODEL_ID, VERSION, "guest", 9999)
    with pytest.raises(JobStateError, match="running"):
        home.service.delete(MODEL_ID, VERSION)
    assert home.store.load(key()) == LR


def test_delete_removes_files_and_rows_of_the_chosen_parties(home: Home) -> None:
    trained(home)
    deleted = home.service.delete(MODEL_ID, VERSION, role="host")
    assert [(v.key.role, v.key.party_id) for v in deleted] == [("host", 10000)]
    assert [v.key.role for v in home.service.list_models()] == ["guest"]
    assert all("/host_10000/" not in k for k in LocalDirectoryStorage(home.root / "models").list())
    with pytest.raises(RecordNotFound):
        home.store.load(key("hetero_lr_0", "host", 10000))
    with pytest.raises(RecordNotFound, match="no model"):
        home.service.delete(MODEL_ID, VERSION, role="host")
    home.service.delete(MODEL_ID, VERSION)
    nothing_in(home)
