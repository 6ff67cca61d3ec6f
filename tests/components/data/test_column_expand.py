"""ColumnExpand between the Reader and DataTransform, against pandas' ``assign`` on the same file.

The raw rows get the new columns after their own, the header gets append_header, and DataTransform
then reads them as features with the fill values; a saved model appends the same columns to other rows.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pytest

from accord.components.data.column_expand import ColumnExpand
from accord.components.sdk import Dataset
from accord.computing.table import Engine
from accord.errors import ComponentParameterError, DataFormatError
from tests.components.breast import DATA
from tests.components.feature.support import GUEST, harness, plant

NAME = "column_expand_0"
FILE = DATA / "breast_hetero_guest.csv"
HEADER = ["x_0", "x_1", "x_2", "x_3"]
FILL = [0, 0.2, 0.5, 1]


def raw(rows: slice = slice(None)) -> Dataset:
    """The guest file as the Reader outputs it: sid, then the value columns as text."""
    options = pacsv.ConvertOptions(
        column_types=dict.fromkeys(FILE.read_text().splitlines()[0].split(","), pa.string())
    )
    table = pacsv.read_csv(FILE, convert_options=options).slice(
        rows.start or 0, (rows.stop or 10**9) - (rows.start or 0)
    )
    names = table.column_names
    renamed = table.rename_columns(["sid", *(f"c{i}" for i in range(1, len(names)))])
    return Dataset(renamed, "raw", tuple(names[1:]), names[0], extra={"delimiter": ","})


def job(params: dict[str, Any], predict: bool = False) -> tuple[dict[str, Any], dict[str, Any]]:
    components: dict[str, Any] = {
        "reader_0": {"module": "Reader", "output": {"data": ["data"]}},
        NAME: {
            "module": "ColumnExpand",
            "input": {"data": {"data": ["reader_0.data"]}},
            "output": {"data": ["data"], "model": ["model"]},
        },
        "data_transform_0": {
            "module": "DataTransform",
            "input": {"data": {"data": [f"{NAME}.data"]}},
            "output": {"data": ["data"], "model": ["model"]},
        },
    }
    if predict:
        components["reader_1"] = {"module": "Reader", "output": {"data": ["data"]}}
        components["column_expand_1"] = {
            "module": "ColumnExpand",
            "input": {"data": {"data": ["reader_1.data"]}, "model": [f"{NAME}.model"]},
            "output": {"data": ["data"], "model": ["model"]},
        }
    conf = {
        "dsl_version": 2,
        "initiator": {"role": "guest", "party_id": GUEST},
        "role": {"guest": [GUEST]},
        "component_parameters": {
            "role": {
                "guest": {
                    "0": {
                        "reader_0": {"table": {"name": "t", "namespace": "n"}},
                        "reader_1": {"table": {"name": "t", "namespace": "n"}},
                        NAME: params,
                        "data_transform_0": {"with_label": True, "output_format": "dense"},
                    }
                }
            }
        },
    }
    if not predict:
        del conf["component_parameters"]["role"]["guest"]["0"]["reader_1"]
    return {"components": components}, conf


def test_the_new_columns_reach_data_transform_as_pandas_assigns_them(tmp_path: Path, engine: Engine) -> None:
    job_dsl, job_conf = job(
        {"append_header": HEADER, "method": "manual", "fill_value": FILL, "need_run": True}, True
    )
    running = harness(tmp_path / "home", job_dsl, job_conf, engine)
    try:
        plant(running, "guest", "reader_0", raw())
        plant(running, "guest", "reader_1", raw(slice(0, 100)))
        running.run_ok(NAME)
        out = running.output("guest", GUEST, NAME)
        assert out.kind == "raw" and list(out.header) == [*raw().header, *HEADER]
        assert (
            out.table.column("c12").to_pylist()[:2] == ["0", "0"]
            and out.table.column("c13")[0].as_py() == "0.2"
        )
        running.run_ok("data_transform_0")
        frame = pd.read_csv(FILE).assign(**dict(zip(HEADER, FILL, strict=True)))
        parsed = running.output("guest", GUEST, "data_transform_0")
        want = frame.drop(columns=["id", "y"])
        assert list(parsed.header) == list(want.columns)
        np.testing.assert_allclose(parsed.features(), want.to_numpy(dtype=float))
        model = running.model("guest", GUEST, NAME)
        assert model["fill_value"] == ["0", "0.2", "0.5", "1"] and model["header"] == list(out.header)
        running.run_ok("column_expand_1")
        applied = running.output("guest", GUEST, "column_expand_1")
        assert list(applied.header) == list(out.header) and len(applied) == 100
        assert applied.table.column("c15").to_pylist() == ["1"] * 100
    finally:
        running.close()


def test_one_fill_value_fills_every_new_column_and_no_header_passes_through(tmp_path: Path) -> None:
    job_dsl, job_conf = job({"append_header": ["a", "b"], "fill_value": 7})
    running = harness(tmp_path / "home", job_dsl, job_conf, None)
    try:
        plant(running, "guest", "reader_0", raw())
        running.run_ok(NAME)
        out = running.output("guest", GUEST, NAME)
        assert out.table.column("c12").to_pylist() == out.table.column("c13").to_pylist() == ["7"] * len(out)
    finally:
        running.close()
    job_dsl, job_conf = job({})
    running = harness(tmp_path / "home2", job_dsl, job_conf, None)
    try:
        plant(running, "guest", "reader_0", raw())
        running.run_ok(NAME)
        assert running.output("guest", GUEST, NAME).table.equals(raw().table)
    finally:
        running.close()


def test_instances_input_fails_the_task(tmp_path: Path) -> None:
    job_dsl, job_conf = job({"append_header": ["a"], "fill_value": 1})
    running = harness(tmp_path / "home", job_dsl, job_conf, None)
    try:
        plant(running, "guest", "reader_0", Dataset.instances(["1"], np.zeros((1, 1)), header=["x"]))
        errors = running.run(NAME)
        assert all(isinstance(error, DataFormatError) for error in errors.values())
    finally:
        running.close()


@pytest.mark.parametrize(
    ("params", "words"),
    [
        ({"append_header": ["a", "b"], "fill_value": [1]}, "one value per name"),
        ({"method": "auto"}, "use 'manual'"),
        ({"append_header": "a"}, "append_header"),
        ({"fill_value": True}, "fill_value"),
    ],
)
def test_bad_parameters_are_refused_before_running(params: dict[str, Any], words: str) -> None:
    with pytest.raises(ComponentParameterError, match=words):
        ColumnExpand().check_parameters(params, component=NAME, module="ColumnExpand")
