from __future__ import annotations

import pytest

from accord.errors import ConflictError, RecordNotFound
from accord.persistence import Database, ModelRepository

from .helpers import ManualClock

MODEL_ID = "guest-9999#host-10000#model"


@pytest.fixture
def models(database: Database, clock: ManualClock) -> ModelRepository:
    return ModelRepository(database, clock=clock)


def test_save_and_get(models: ModelRepository, clock: ManualClock) -> None:
    assert models.save(MODEL_ID, "v1", "guest", 9999, "lr_0", storage="file:///m/v1/lr_0", checksum="ab12")
    model = models.get(MODEL_ID, "v1", "guest", 9999, "lr_0")
    assert (model.storage, model.checksum, model.create_time) == ("file:///m/v1/lr_0", "ab12", clock.now)


def test_saving_the_same_model_again_is_idempotent(models: ModelRepository, clock: ManualClock) -> None:
    models.save(MODEL_ID, "v1", "guest", 9999, "lr_0", storage="s", checksum="c")
    first = models.get(MODEL_ID, "v1", "guest", 9999, "lr_0")
    clock.advance(seconds=5)
    assert not models.save(MODEL_ID, "v1", "guest", 9999, "lr_0", storage="s", checksum="c")
    assert models.find(MODEL_ID) == [first]


def test_a_stored_model_version_cannot_be_overwritten(models: ModelRepository) -> None:
    models.save(MODEL_ID, "v1", "guest", 9999, "lr_0", storage="s", checksum="c")
    with pytest.raises(ConflictError) as raised:
        models.save(MODEL_ID, "v1", "guest", 9999, "lr_0", storage="s", checksum="other")
    assert raised.value.code == 10302
    assert models.get(MODEL_ID, "v1", "guest", 9999, "lr_0").checksum == "c"


def test_find_narrows_by_version_role_party_and_component(models: ModelRepository) -> None:
    for version, role, party, component in [
        ("v1", "guest", 9999, "lr_0"),
        ("v1", "guest", 9999, "reader_0"),
        ("v1", "host", 10000, "lr_0"),
        ("v2", "guest", 9999, "lr_0"),
    ]:
        models.save(MODEL_ID, version, role, party, component, storage=f"{version}/{component}", checksum="c")
    models.save("other", "v1", "guest", 9999, "lr_0", storage="x", checksum="c")

    assert len(models.find(MODEL_ID)) == 4
    assert [
        (m.model_version, m.role, m.component_name) for m in models.find(MODEL_ID, model_version="v1")
    ] == [
        ("v1", "guest", "lr_0"),
        ("v1", "guest", "reader_0"),
        ("v1", "host", "lr_0"),
    ]
    assert [m.model_version for m in models.find(MODEL_ID, role="guest", component_name="lr_0")] == [
        "v1",
        "v2",
    ]
    assert [m.role for m in models.find(MODEL_ID, party_id=10000)] == ["host"]
    assert models.find("missing") == []
    with pytest.raises(RecordNotFound):
        models.get(MODEL_ID, "v3", "guest", 9999, "lr_0")
