"""Raw rows as the Reader hands them over, and small two-party jobs around DataTransform."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pyarrow as pa

from accord.components.sdk import Dataset
from tests.components.harness import ComponentHarness
from tests.corpus import FATE_ROOT

DATA = FATE_ROOT / "examples" / "data"
GUEST = ("guest", 9999)
HOST = ("host", 10000)


def raw_from_lines(
    lines: list[str], *, delimiter: str = ",", head: bool = True, extend_sid: bool = False
) -> Dataset:
    """What the Reader outputs for an uploaded file: the ids, then every value field as text.

    The store cuts every line by the upload delimiter; with ``extend_sid`` the ids are generated and
    the whole line is the values, as FATE's extend_sid upload does.
    """
    fields = [line.split(delimiter) for line in lines]
    names = fields[0] if head else []
    rows = fields[1:] if head else fields
    if extend_sid:
        ids = [str(i) for i in range(len(rows))]
        values, header, sid_name = rows, names, "extend_sid"
    else:
        ids = [row[0] for row in rows]
        values, header, sid_name = [row[1:] for row in rows], names[1:], (names[0] if names else "id")
    width = len(values[0]) if values else len(header)
    columns = {"sid": pa.array(ids, type=pa.string())}
    for j in range(width):
        columns[f"c{j + 1}"] = pa.array([row[j] for row in values], type=pa.string())
    return Dataset(
        pa.table(columns), "raw", header=tuple(header), sid_name=sid_name, extra={"delimiter": delimiter}
    )


def raw_from_file(path: Path, **options: Any) -> Dataset:
    return raw_from_lines(path.read_text().splitlines(), **options)


def transform_job(
    guest: Mapping[str, Any] | None,
    host: Mapping[str, Any] | None,
    *,
    module: str = "DataTransform",
    with_predict: bool = False,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """reader_0 -> data_transform_0 on guest 9999 and host 10000; with_predict adds reader_1 ->
    data_transform_1, which applies data_transform_0's model."""
    components: dict[str, Any] = {
        "reader_0": {"module": "Reader", "output": {"data": ["data"]}},
        "data_transform_0": {
            "module": module,
            "input": {"data": {"data": ["reader_0.data"]}},
            "output": {"data": ["data"], "model": ["model"]},
        },
    }
    if with_predict:
        components["reader_1"] = {"module": "Reader", "output": {"data": ["data"]}}
        components["data_transform_1"] = {
            "module": module,
            "input": {"data": {"data": ["reader_1.data"]}, "model": ["data_transform_0.model"]},
            "output": {"data": ["data"], "model": ["model"]},
        }
    role_params: dict[str, Any] = {}
    for role, params in (("guest", guest), ("host", host)):
        section: dict[str, Any] = {
            "reader_0": {"table": {"name": f"{role}_table", "namespace": "experiment"}}
        }
        if with_predict:
            section["reader_1"] = {"table": {"name": f"{role}_predict", "namespace": "experiment"}}
        if params is not None:
            section["data_transform_0"] = dict(params)
        role_params[role] = {"0": section}
    conf = {
        "dsl_version": 2,
        "initiator": {"role": "guest", "party_id": GUEST[1]},
        "role": {"guest": [GUEST[1]], "host": [HOST[1]]},
        "component_parameters": {"role": role_params},
    }
    return {"components": components}, conf


@contextmanager
def harness(home: Path, dsl: Mapping[str, Any], conf: Mapping[str, Any]) -> Iterator[ComponentHarness]:
    running = ComponentHarness(home, dsl, conf)
    try:
        yield running
    finally:
        running.close()


def run_transform(
    home: Path,
    guest: tuple[Dataset, Mapping[str, Any]],
    host: tuple[Dataset, Mapping[str, Any]],
    *,
    module: str = "DataTransform",
) -> tuple[Dataset, Dataset, dict[str, Any], dict[str, Any]]:
    """Fit DataTransform on both parties: their outputs, then their models."""
    dsl, conf = transform_job(guest[1], host[1], module=module)
    with harness(home, dsl, conf) as running:
        running.plant(*GUEST, "reader_0", guest[0])
        running.plant(*HOST, "reader_0", host[0])
        running.run_ok("data_transform_0")
        return (
            running.output(*GUEST, "data_transform_0"),
            running.output(*HOST, "data_transform_0"),
            running.model(*GUEST, "data_transform_0"),
            running.model(*HOST, "data_transform_0"),
        )


def run_failing(
    home: Path, guest: tuple[Dataset, Mapping[str, Any]], host: tuple[Dataset, Mapping[str, Any]]
) -> dict[str, BaseException | None]:
    """Fit on both parties; each party's error (None where it succeeded), keyed by role."""
    dsl, conf = transform_job(guest[1], host[1])
    with harness(home, dsl, conf) as running:
        running.plant(*GUEST, "reader_0", guest[0])
        running.plant(*HOST, "reader_0", host[0])
        return {party.role: error for party, error in running.run("data_transform_0").items()}
