"""HeteroLR on block tables: what is computed a partition at a time adds up to the whole-batch result.

The encrypted gradient X^T·[[d]] summed over partitions decrypts to exactly what the whole-batch dot
(EncryptedVector.dot, the computation before the port) gives; a model trained on many partitions
equals the one trained on a single partition to 1e-12; rows whose partition boundaries differ
between parties are refused on every party.
"""

from __future__ import annotations

import copy
import itertools
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from accord.components.hetero_lr import encoded
from accord.crypto import generate_keypair
from accord.errors import DataFormatError, DataMismatchError

from .breast import breast_parties
from .harness import ComponentHarness
from .test_hetero_lr import DSL, conf, partitioned, plant, train


@pytest.mark.parametrize("precision", [23, None])
def test_partial_dots_add_up_to_the_whole_batch_dot(precision: int | None) -> None:
    public_key, private_key = generate_keypair(512)
    rng = np.random.default_rng(11)
    x = rng.normal(size=(60, 4)) * np.array([1.0, 1e-3, 250.0, 1.0])
    x[:, 3] = 0.0
    x[:25, 1] = 0.0  # all zero in the first partition only
    d = rng.normal(size=60)
    whole = private_key.decrypt(public_key.encrypt(d).dot(x, precision))
    bounds = [0, 25, 40, 60]
    stats = None
    for a, b in itertools.pairwise(bounds):
        stats = encoded.merge_stats(stats, encoded.column_stats(x[a:b]))
    assert stats is not None
    parts = [
        encoded.dot(public_key.encrypt(d[a:b]), x[a:b], stats, precision).to_bytes()
        for a, b in itertools.pairwise(bounds)
    ]
    assert private_key.decrypt(encoded.total(parts, public_key)).tolist() == whole.tolist()


def test_packed_sections_round_trip_and_refuse_other_layouts() -> None:
    x = np.arange(6.0).reshape(2, 3)
    sections: dict[str, np.ndarray | bytes] = {"x": x, "index": np.array([4]), "blob": b"\x00\x01"}
    back = encoded.unpack(encoded.pack(sections))
    assert np.array_equal(encoded.array(back, "x"), x)
    assert encoded.data(back, "blob") == b"\x00\x01" and int(encoded.array(back, "index")[0]) == 4
    with pytest.raises(DataFormatError):
        encoded.unpack(b"nope" + bytes(8))


__all__ = ["partitioned"]  # a fixture the tests here use


@pytest.fixture
def harnesses() -> Any:
    made: list[ComponentHarness] = []
    yield made
    for harness in made:
        harness.close()


@pytest.mark.parametrize(
    "lr",
    [
        {"batch_size": 200},
        {"batch_size": 100, "batch_strategy": "random", "optimizer": "adam", "learning_rate": 0.05},
    ],
)
@pytest.mark.usefixtures("partitioned")
def test_many_partitions_train_the_model_one_partition_trains(
    tmp_path: Path, harnesses: list[ComponentHarness], lr: dict[str, Any]
) -> None:
    job = conf(max_iter=4, encrypt_param={"key_length": 512}, **lr)
    job["component_parameters"]["common"]["hetero_lr_0"]["init_param"]["random_seed"] = 2
    whole = train(tmp_path / "whole", harnesses, copy.deepcopy(job))
    split = train(tmp_path / "split", harnesses, copy.deepcopy(job), row_group=70)
    for role, party in (("guest", 9999), ("host", 10000), ("arbiter", 10000)):
        expected = whole.model(role, party, "hetero_lr_0")["param"]
        got = split.model(role, party, "hetero_lr_0")["param"]
        for name, value in expected.get("weight", {}).items():
            assert got["weight"][name] == pytest.approx(value, rel=1e-12, abs=1e-15)
        for key in ("intercept", "iters"):
            if key in expected:
                assert got[key] == pytest.approx(expected[key], rel=1e-12)
        if "loss_history" in expected:
            np.testing.assert_allclose(got["loss_history"], expected["loss_history"], rtol=1e-12)
    scores = [h.output("guest", 9999, "hetero_lr_0").column("predict_score") for h in (whole, split)]
    np.testing.assert_allclose(scores[1], scores[0], rtol=1e-12)


@pytest.mark.usefixtures("partitioned")
def test_other_partition_boundaries_are_refused_on_every_party(
    tmp_path: Path, harnesses: list[ComponentHarness]
) -> None:
    harness = ComponentHarness(tmp_path, DSL, conf(encrypt_param={"key_length": 512}, max_iter=1))
    harnesses.append(harness)
    harness.transfer_timeout_s = 10
    guest, host = breast_parties(limit=120)
    plant(harness, "guest", 9999, guest, 40)
    plant(harness, "host", 10000, host, 60)  # the same ids in the same order, cut elsewhere
    errors = harness.run("hetero_lr_0")
    assert all(isinstance(error, DataMismatchError) for error in errors.values()), errors
    assert "partitions" in str(errors[next(p for p in errors if p.role == "host")])
