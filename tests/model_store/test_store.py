"""ModelStore: canonical blobs behind the storage interface, and versions frozen once their job succeeds."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from accord.errors import ArgumentError, ConflictError, DataFormatError, RecordNotFound
from accord.model_store import LocalDirectoryStorage, ModelStorage, ModelStore
from accord.persistence import ModelRepository
from accord.status import JobStatus

from .support import MODEL_ID, VERSION, Home, add_job, key, set_status

MODEL = {"param": {"weight": {"x0": 0.5, "x1": -1.25}, "intercept": 0.1}, "meta": {"max_iter": 3}}


class MemoryStorage:
    """A second backend of the storage interface: blobs in a dict, as an object store would hold them."""

    def __init__(self) -> None:
        self.blobs: dict[str, bytes] = {}

    def put(self, key: str, data: bytes) -> None:
        self.blobs[key] = data

    def get(self, key: str) -> bytes:
        if key not in self.blobs:
            raise RecordNotFound(f"no blob {key}")
        return self.blobs[key]

    def delete(self, key: str) -> bool:
        return self.blobs.pop(key, None) is not None

    def list(self, prefix: str = "") -> list[str]:
        return sorted(k for k in self.blobs if k.startswith(prefix))


def test_save_and_load_a_model_as_canonical_json(home: Home) -> None:
    checksum = home.store.save(key(), MODEL)
    assert home.store.load(key()) == MODEL
    [path] = [p for p in (home.root / "models").rglob("*.json")]
    # Canonical bytes: sorted keys, no spaces, so the checksum identifies the model itself.
    assert (
        path.read_bytes()
        == b'{"meta":{"max_iter":3},"param":{"intercept":0.1,"weight":{"x0":0.5,"x1":-1.25}}}'
    )
    assert checksum == hashlib.sha256(path.read_bytes()).hexdigest()
    assert home.store.records.get(MODEL_ID, VERSION, "guest", 9999, "hetero_lr_0").checksum == checksum
    with pytest.raises(RecordNotFound):
        home.store.load(key("other_0"))


def test_a_model_file_changed_on_disk_is_refused(home: Home) -> None:
    home.store.save(key(), MODEL)
    [path] = list((home.root / "models").rglob("*.json"))
    path.write_bytes(path.read_bytes().replace(b"0.5", b"0.6"))
    with pytest.raises(DataFormatError, match="does not match its checksum"):
        home.store.load(key())


def test_models_that_are_not_plain_json_are_refused(home: Home) -> None:
    with pytest.raises(DataFormatError, match="plain JSON"):
        home.store.save(key(), {"weight": float("nan")})
    assert home.store.records.find(MODEL_ID) == []


def test_a_version_is_final_once_its_job_succeeded(home: Home) -> None:
    add_job(home, JobStatus.RUNNING)
    home.store.save(key(), MODEL)
    # While the job runs, a rerun of the task replaces its model.
    replaced = {**MODEL, "meta": {"max_iter": 4}}
    home.store.save(key(), replaced)
    assert home.store.load(key()) == replaced

    set_status(home, JobStatus.SUCCESS)
    with pytest.raises(ConflictError, match="is final") as refused:
        home.store.save(key(), MODEL)
    assert refused.value.code == ConflictError.code
    with pytest.raises(ConflictError):
        home.store.save(key("new_component_0"), MODEL)
    assert home.store.load(key()) == replaced
    # The same model again changes nothing, so a retried save is not an error.
    home.store.save(key(), replaced)
    # Another party of the same version has no successful job row here, so its part is still open.
    home.store.save(key(role="host", party_id=10000), MODEL)

    # Rerunning the job opens the version again, as FATE-Flow's rerun does.
    set_status(home, JobStatus.WAITING)
    home.store.save(key(), MODEL)
    assert home.store.load(key()) == MODEL


def test_the_store_runs_on_any_storage_backend(home: Home) -> None:
    memory = MemoryStorage()
    assert isinstance(memory, ModelStorage) and isinstance(LocalDirectoryStorage(home.root), ModelStorage)
    store = ModelStore(memory, ModelRepository(home.database))
    store.save(key(), MODEL)
    assert store.load(key()) == MODEL
    [blob] = memory.list()
    assert blob.endswith("/guest_9999/hetero_lr_0.json") and "%23" in blob  # '#' escaped in the model id
    assert not list((home.root / "models").rglob("*.json"))


def test_local_storage_keys_stay_inside_the_root(tmp_path: Path) -> None:
    storage = LocalDirectoryStorage(tmp_path / "models")
    for bad in ("../escape.json", "/etc/passwd", "a//b", ""):
        with pytest.raises(ArgumentError):
            storage.put(bad, b"x")
    storage.put("m/v/guest_1/a.json", b"1")
    storage.put("m/v/guest_1/b.json", b"2")
    assert storage.list("m/v") == ["m/v/guest_1/a.json", "m/v/guest_1/b.json"]
    assert storage.delete("m/v/guest_1/a.json") and not storage.delete("m/v/guest_1/a.json")
    assert storage.delete("m/v/guest_1/b.json")
    # Emptied version folders go with their last blob.
    assert list((tmp_path / "models").iterdir()) == []
    with pytest.raises(RecordNotFound):
        storage.get("m/v/guest_1/a.json")
