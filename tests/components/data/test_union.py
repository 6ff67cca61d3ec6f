"""Union against pandas: the rows of the inputs concatenated in DSL order, the first row of an id kept
(``drop_duplicates(keep="first")``), or every row kept under FATE's renamed ids with keep_duplicate."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from accord.components.sdk import Dataset
from accord.computing.table import Engine
from accord.errors import DataFormatError, DataMismatchError

from ..harness import ComponentHarness
from ..test_feature_scale import HETERO_GUEST, breast

GUEST = 9999
INPUTS = ("data_transform_0", "data_transform_1", "data_transform_2")


def dsl(inputs: tuple[str, ...] = INPUTS[:2]) -> dict[str, Any]:
    components: dict[str, Any] = {
        name: {"module": "DataTransform", "output": {"data": ["data"]}} for name in INPUTS
    }
    components["union_0"] = {
        "module": "Union",
        "input": {"data": {"data": [f"{name}.data" for name in inputs]}},
        "output": {"data": ["data"]},
    }
    return {"components": components}


def conf(**union: Any) -> dict[str, Any]:
    return {
        "dsl_version": 2,
        "initiator": {"role": "guest", "party_id": GUEST},
        "role": {"guest": [GUEST]},
        "component_parameters": {"common": {"union_0": union}},
    }


@pytest.fixture
def made() -> Iterator[list[ComponentHarness]]:
    harnesses: list[ComponentHarness] = []
    yield harnesses
    for harness in harnesses:
        harness.close()


def frame(data: Dataset) -> pd.DataFrame:
    result = pd.DataFrame(data.features(), columns=list(data.header))
    result.insert(0, "sid", list(data.ids()))
    labels = data.labels()
    if labels is not None:
        result.insert(1, "label", labels)
    return result


def run(
    tmp_path: Path,
    made: list[ComponentHarness],
    tables: list[Dataset],
    engine: Engine | None = None,
    **union: Any,
) -> Dataset:
    harness = ComponentHarness(tmp_path, dsl(INPUTS[: len(tables)]), conf(**union), engine=engine)
    made.append(harness)
    for name, table in zip(INPUTS, tables, strict=False):
        harness.plant("guest", GUEST, name, table)
    harness.run_ok("union_0")
    return harness.output("guest", GUEST, "union_0")


def overlapping() -> tuple[Dataset, Dataset]:
    whole = breast(HETERO_GUEST)
    first = whole.take(np.arange(0, 400))
    # The second overlaps the first on rows 300..399, with other feature values there.
    second = whole.take(np.arange(300, 569))
    shifted = Dataset.instances(
        second.ids(), second.features() + 1000.0, header=second.header, labels=second.labels(), label_name="y"
    )
    return first, shifted


def test_first_input_wins_an_id_as_pandas_drop_duplicates(
    tmp_path: Path, engine: Engine, made: list[ComponentHarness]
) -> None:
    first, second = overlapping()
    got = frame(run(tmp_path, made, [first, second], engine))
    expected = pd.concat([frame(first), frame(second)]).drop_duplicates("sid", keep="first")
    pd.testing.assert_frame_equal(
        got.sort_values("sid").reset_index(drop=True), expected.sort_values("sid").reset_index(drop=True)
    )


def test_keep_duplicate_renames_every_id(tmp_path: Path, made: list[ComponentHarness]) -> None:
    first, second = overlapping()
    got = run(tmp_path, made, [first, second], keep_duplicate=True)
    renamed = []
    for name, table in zip(INPUTS, (first, second), strict=False):
        part = frame(table)
        part["sid"] = [f"{sid}_{name}.data.0" for sid in part["sid"]]
        renamed.append(part)
    expected = pd.concat(renamed)
    pd.testing.assert_frame_equal(
        frame(got).sort_values("sid").reset_index(drop=True),
        expected.sort_values("sid").reset_index(drop=True),
    )
    assert got.header == first.header and got.label_name == "y"


def test_output_order_is_the_same_on_every_run(tmp_path: Path, made: list[ComponentHarness]) -> None:
    first, second = overlapping()
    one = run(tmp_path / "a", made, [first, second])
    two = run(tmp_path / "b", made, [second, first])
    # Same ids (the winners differ), in the same order: parties running Union agree on the row order.
    assert list(one.ids()) == list(two.ids())


def test_raw_tables_and_empty_inputs(tmp_path: Path, made: list[ComponentHarness]) -> None:
    def raw(ids: list[str]) -> Dataset:
        table = pa.table({"sid": ids, "c1": [f"v{sid}" for sid in ids]})
        return Dataset(table, "raw", header=("x",), sid_name="id", extra={"delimiter": ","})

    got = run(tmp_path, made, [raw(["1", "2"]), raw([]), raw(["2", "3"])])
    assert got.kind == "raw" and sorted(got.ids()) == ["1", "2", "3"]
    assert dict(zip(got.ids(), got.column("c1"), strict=True))["2"] == "v2"


def test_mismatched_inputs_are_refused(tmp_path: Path, made: list[ComponentHarness]) -> None:
    first, _ = overlapping()
    unlabelled = Dataset.instances(first.ids(), first.features(), header=first.header)
    with pytest.raises(AssertionError) as failed:
        run(tmp_path / "a", made, [first, unlabelled])
    assert isinstance(failed.value.__cause__, DataMismatchError)
    renamed = Dataset.instances(
        first.ids(),
        first.features(),
        header=[f"z{i}" for i in range(len(first.header))],
        labels=first.labels(),
    )
    with pytest.raises(AssertionError) as failed:
        run(tmp_path / "b", made, [first, renamed])
    assert isinstance(failed.value.__cause__, DataMismatchError)
    with pytest.raises(AssertionError) as failed:
        run(tmp_path / "c", made, [first])
    assert isinstance(failed.value.__cause__, DataFormatError)
