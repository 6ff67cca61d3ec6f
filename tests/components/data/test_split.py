"""HeteroDataSplit / HomoDataSplit against scikit-learn's train_test_split called as FATE 1.11 calls it.

FATE sorts the ids, splits train from the rest, then the rest into validate and test, each time with
``train_test_split(random_state=..., stratify=labels or None)``. With the same seed the parts here hold
exactly the same ids; sizes follow FATE's rules for None, ints (counts) and floats (shares).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow.parquet as pq
import pytest
from sklearn.model_selection import train_test_split

from accord.components.data.split.params import DataSplitParam
from accord.components.data.split.sizes import assign, resolve, second_split_sizes
from accord.components.sdk import Dataset, layout
from accord.components.sdk.context import validate_parameters
from accord.components.sdk.dataset import with_meta
from accord.computing.table import Engine
from accord.errors import ComponentParameterError, DataFormatError

from ..breast import breast_parties
from ..harness import ComponentHarness
from ..test_feature_scale import HOMO_GUEST, HOMO_HOST, breast

GUEST, HOST = 9999, 10000
OUTPUTS = ("train_data", "validate_data", "test_data")


def dsl(module: str) -> dict[str, Any]:
    return {
        "components": {
            "data_transform_0": {"module": "DataTransform", "output": {"data": ["data"]}},
            "split_0": {
                "module": module,
                "input": {"data": {"data": ["data_transform_0.data"]}},
                "output": {"data": list(OUTPUTS)},
            },
        }
    }


def conf(**split: Any) -> dict[str, Any]:
    return {
        "dsl_version": 2,
        "initiator": {"role": "guest", "party_id": GUEST},
        "role": {"guest": [GUEST], "host": [HOST]},
        "component_parameters": {"common": {"split_0": split}},
    }


def fate_reference(ids: list[str], y: np.ndarray, **given: Any) -> tuple[set[str], set[str], set[str]]:
    """FATE's DataSplitter, with scikit-learn itself doing the splitting."""
    param = DataSplitParam(**given)
    order = sorted(range(len(ids)), key=ids.__getitem__)
    sid = np.asarray(ids, dtype=object)[order]
    labels = np.asarray(y)[order]
    points = param.sorted_split_points()
    if param.stratified and points:
        labels = np.searchsorted(points, labels, side="left")
    sizes = resolve(param, len(sid), "ref")

    def split(x: np.ndarray, z: np.ndarray, test: Any, train: Any) -> tuple[np.ndarray, ...]:
        if test <= 1e-8:
            return x, x[:0], z, z[:0]
        if train <= 1e-8:
            return x[:0], x, z[:0], z
        if not isinstance(test, int):
            train = round(train * len(x))
            test = len(x) - train
        parts: list[np.ndarray] = train_test_split(
            x,
            z,
            test_size=test,
            train_size=train,
            random_state=param.random_state,
            shuffle=param.shuffle,
            stratify=z if param.stratified else None,
        )
        return tuple(parts)

    train, rest, _, rest_y = split(sid, labels, sizes.test + sizes.validate, sizes.train)
    validate_size, test_size = second_split_sizes(sizes.validate, sizes.test)
    validate, test, _, _ = split(rest, rest_y, test_size, validate_size)
    return set(train), set(validate), set(test)


@pytest.fixture
def made() -> Iterator[list[ComponentHarness]]:
    harnesses: list[ComponentHarness] = []
    yield harnesses
    for harness in harnesses:
        harness.close()


def _plant(harness: ComponentHarness, role: str, party_id: int, data: Dataset) -> None:
    # Several row groups: several partitions on the engine.
    path = layout.data_path(harness.party_dir(role, party_id), "data_transform_0", "data")
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(
        data.table.replace_schema_metadata(with_meta(data.table.schema, data.meta())), path, row_group_size=97
    )


def _parts(harness: ComponentHarness, role: str, party_id: int) -> list[Dataset]:
    return [harness.output(role, party_id, "split_0", name) for name in OUTPUTS]


@pytest.mark.parametrize(
    "given",
    [
        {"test_size": 0.3, "validate_size": 0.2, "stratified": True, "random_state": 7},
        {"test_size": 0.3, "validate_size": 0.2, "random_state": 3},
        {"validate_size": 0.2, "stratified": True, "random_state": 11},
    ],
)
def test_homo_split_is_fate_s_split_on_each_party(
    tmp_path: Path, engine: Engine, made: list[ComponentHarness], given: dict[str, Any]
) -> None:
    harness = ComponentHarness(tmp_path, dsl("HomoDataSplit"), conf(**given), engine=engine)
    made.append(harness)
    sources = {GUEST: breast(HOMO_GUEST), HOST: breast(HOMO_HOST)}
    _plant(harness, "guest", GUEST, sources[GUEST])
    _plant(harness, "host", HOST, sources[HOST])
    harness.run_ok("split_0")
    for role, party_id in (("guest", GUEST), ("host", HOST)):
        source = sources[party_id]
        labels = source.labels()
        assert labels is not None
        expected = fate_reference(list(source.ids()), labels, **given)
        parts = _parts(harness, role, party_id)
        assert [set(part.ids()) for part in parts] == list(expected)
        by_id = dict(zip(source.ids(), source.features(), strict=True))
        for part in parts:
            # Rows keep their columns and their input order.
            assert part.header == source.header
            positions = [list(source.ids()).index(sid) for sid in part.ids()]
            assert positions == sorted(positions)
            for sid, row in zip(part.ids(), part.features(), strict=True):
                np.testing.assert_array_equal(row, by_id[sid])
        if given.get("stratified"):
            # Each class keeps its share: per-class counts are scikit-learn's allocation.
            train_labels = parts[0].labels()
            assert train_labels is not None
            assert set(np.unique(train_labels)) == set(np.unique(labels))


def test_hetero_guest_decides_and_the_host_keeps_the_same_ids(
    tmp_path: Path, made: list[ComponentHarness]
) -> None:
    given = {"test_size": 0.3, "validate_size": 0.2, "stratified": True, "random_state": 5}
    harness = ComponentHarness(tmp_path, dsl("HeteroDataSplit"), conf(**given))
    made.append(harness)
    guest, host = breast_parties()
    _plant(harness, "guest", GUEST, guest)
    _plant(harness, "host", HOST, host)
    harness.run_ok("split_0")
    labels = guest.labels()
    assert labels is not None
    expected = fate_reference(list(guest.ids()), labels, **given)
    guest_parts, host_parts = _parts(harness, "guest", GUEST), _parts(harness, "host", HOST)
    for mine, theirs, ids in zip(guest_parts, host_parts, expected, strict=True):
        assert set(mine.ids()) == ids
        assert list(theirs.ids()) == list(mine.ids())  # same ids, same order
        assert theirs.labels() is None
    counts = [len(part) for part in guest_parts]
    # round(0.5 * 569) is 284 (Python rounds halves to even, as FATE does), then 0.4 of the 285 left.
    assert counts == [284, 114, 171] and sum(counts) == len(guest)


def test_continuous_labels_are_stratified_by_split_points() -> None:
    rng = np.random.default_rng(4)
    ids = [f"r{i}" for i in range(400)]
    y = rng.normal(0.1, 0.3, 400)
    given = {"test_size": 0.3, "stratified": True, "split_points": [0.2, 0.0], "random_state": 2}
    got = assign(np.asarray(ids, dtype=object), y, DataSplitParam(**given), "split_0")
    expected = fate_reference(ids, y, **given)
    assert (set(got.train), set(got.validate), set(got.test)) == expected
    assert got.labels is not None and set(np.unique(got.labels[0])) == {0, 1, 2}


def test_counts_and_no_shuffle() -> None:
    ids = np.asarray([str(i) for i in range(50)], dtype=object)
    got = assign(ids, None, DataSplitParam(train_size=30, validate_size=15, test_size=5, random_state=1), "s")
    assert (len(got.train), len(got.validate), len(got.test)) == (30, 15, 5)
    assert (set(got.train), set(got.validate), set(got.test)) == fate_reference(
        list(ids), np.zeros(50), train_size=30, validate_size=15, test_size=5, random_state=1
    )
    ordered = assign(ids, None, DataSplitParam(test_size=0.2, shuffle=False), "s")
    assert list(ordered.train) == sorted(ids)[:40] and list(ordered.test) == sorted(ids)[40:]


@pytest.mark.parametrize(
    ("given", "count", "expected"),
    [
        ({}, 10, (0.8, 0.2, 0.0)),
        ({"test_size": 0.3}, 10, (0.7, 0.0, 0.3)),
        ({"validate_size": 0.2}, 10, (0.8, 0.2, 0)),
        ({"train_size": 6}, 10, (6, 4 - 4, 4)),
        ({"train_size": 6, "validate_size": 1}, 10, (6, 1, 3)),
        ({"test_size": 0.25, "train_size": 0.5}, 10, (0.5, 0.25, 0.25)),
    ],
)
def test_sizes_left_none_are_filled_as_fate_fills_them(
    given: dict[str, Any], count: int, expected: tuple[float, float, float]
) -> None:
    sizes = resolve(DataSplitParam(**given), count, "s")
    assert (sizes.train, sizes.validate, sizes.test) == pytest.approx(expected)


def test_bad_sizes_are_refused() -> None:
    with pytest.raises(DataFormatError, match="do not add up"):
        resolve(DataSplitParam(train_size=0.5, test_size=0.2, validate_size=0.2), 10, "s")
    with pytest.raises(ComponentParameterError):
        validate_parameters(DataSplitParam, {"test_size": 1.5}, component="s", module="HeteroDataSplit")
    with pytest.raises(DataFormatError, match="at least 2 rows of each class"):
        assign(
            np.asarray(["a", "b", "c", "d", "e"], dtype=object),
            np.array([0.0, 0.0, 0.0, 1.0, 0.0]),
            DataSplitParam(test_size=0.4, stratified=True),
            "s",
        )


def test_need_run_false_passes_rows_to_train_data(tmp_path: Path, made: list[ComponentHarness]) -> None:
    harness = ComponentHarness(tmp_path, dsl("HomoDataSplit"), conf(need_run=False))
    made.append(harness)
    source = breast(HOMO_GUEST)
    _plant(harness, "guest", GUEST, source)
    _plant(harness, "host", HOST, breast(HOMO_HOST))
    harness.run_ok("split_0")
    train, validate, test = _parts(harness, "guest", GUEST)
    assert list(train.ids()) == list(source.ids()) and len(validate) == len(test) == 0
