"""The component SDK: closed (no Temporal, SQLAlchemy, FastAPI, gRPC), one API, roles declared once,
and the Reader on block tables giving what it gave on datasets, on the local engine and on Spark."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pytest
from pydantic import BaseModel

from accord.components import ComponentRegistry
from accord.components.sdk import ComponentBase, ComponentContext
from accord.computing.table import Engine
from accord.dsl_compiler.catalog import make_spec
from accord.errors import ArgumentError, ComponentNotImplemented, ComponentRolesMismatch
from accord.identity import Party
from accord.storage import UploadConf
from tests.components.harness import ComponentHarness
from tests.components.transform_support import DATA, GUEST, HOST, transform_job

HEAVY = ("temporalio", "sqlalchemy", "fastapi", "grpc")


def test_the_sdk_imports_none_of_the_site_stack() -> None:
    # A fresh interpreter: this one has long imported everything.
    probe = (
        "import json, sys\n"
        "import accord.components.sdk\n"
        # The built-in components are written on the SDK alone too.
        "import accord.components.reader, accord.components.data_transform\n"
        "import accord.components.feature_scale, accord.components.evaluation.component\n"
        "import accord.components.intersection, accord.components.hetero_lr, accord.components.homo_lr\n"
        "import accord.components.loaders.model_loader, accord.components.loaders.cache_loader\n"
        f"print(json.dumps(sorted(m for m in {HEAVY!r} if m in sys.modules)))\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert json.loads(done.stdout) == []


class _NoParam(BaseModel):
    pass


class _Echo(ComponentBase[_NoParam]):
    params = _NoParam

    def fit(self, ctx: ComponentContext[_NoParam]) -> None:
        pass


def test_roles_declared_against_the_spec_are_refused_with_a_code() -> None:
    class Wrong(_Echo):
        roles = frozenset({"guest", "host", "local"})

    registry = ComponentRegistry()
    with pytest.raises(ComponentRolesMismatch, match=r"Wrong declares roles .* 'Reader' runs on") as caught:
        registry.register("Reader", Wrong)
    assert caught.value.code == 10131
    spec = make_spec("Echo", "guest host", "data", "data")
    with pytest.raises(ComponentRolesMismatch, match="arbiter"):
        registry.register("Echo", type("Bad", (_Echo,), {"roles": frozenset({"arbiter"})}), spec)

    class Agrees(_Echo):
        roles = frozenset({"guest", "host"})

    registry.register("Reader", Agrees)
    registry.register("Echo", _Echo, spec)
    assert registry.modules() == {"Reader", "Echo"}


def test_only_component_base_classes_register() -> None:
    class OldStyle:
        def run(self, ctx: Any) -> None: ...

    with pytest.raises(ArgumentError, match="is not a ComponentBase"):
        ComponentRegistry().register("Reader", OldStyle)  # type: ignore[arg-type]


def _expected_reader_output(harness: ComponentHarness, name: str) -> tuple[pa.Table, dict[str, Any]]:
    """What the Reader output before it ran on an engine: the whole table renamed in memory."""
    raw = harness.tables.read("experiment", name)
    columns = raw.table.columns
    names = ["sid", *(f"c{index}" for index in range(1, len(columns)))]
    meta = {
        "header": tuple(raw.header),
        "sid_name": raw.sid or "id",
        "extra": {
            "delimiter": raw.delimiter,
            "table": {"namespace": "experiment", "name": name},
            "meta": raw.info.schema.get("meta"),
        },
    }
    return pa.Table.from_arrays(columns, names=names), meta


def test_reader_on_either_engine_outputs_the_table_as_before(tmp_path: Path, engine: Engine) -> None:
    dsl, conf = transform_job({"with_label": True}, {"with_label": False})
    extra = tmp_path / "no_header.csv"
    extra.write_text("".join(f"id{i};{i * 0.5};word{i}\n" for i in range(3000)))
    running = ComponentHarness(tmp_path / "home", dsl, conf, engine=engine)
    try:
        running.tables.upload(
            UploadConf(
                file=str(DATA / "breast_hetero_guest.csv"), table_name="guest_table", namespace="experiment"
            )
        )
        running.tables.upload(
            UploadConf(
                file=str(extra), table_name="host_table", namespace="experiment", head=0, id_delimiter=";"
            )
        )
        running.run_ok("reader_0")
        for (role, party_id), name in ((GUEST, "guest_table"), (HOST, "host_table")):
            table, meta = _expected_reader_output(running, name)
            output = running.output(role, party_id, "reader_0")
            assert output.kind == "raw"
            assert output.table.combine_chunks().equals(table.combine_chunks())
            assert (output.header, output.sid_name, dict(output.extra)) == (
                meta["header"],
                meta["sid_name"],
                meta["extra"],
            )
    finally:
        running.close()


def test_lr_scorers_score_as_their_offline_predicts() -> None:
    from accord.components.hetero_lr import HeteroLR
    from accord.components.hetero_lr.common import sigmoid
    from accord.components.homo_lr import HomoLR
    from accord.components.homo_lr.component import predict_scores
    from accord.components.sdk import Dataset

    model = {
        "param": {"header": ["a", "b"], "weight": {"a": 0.5, "b": -1.25}, "intercept": 0.75},
        "meta": {"threshold": 0.6},
    }
    rows = np.array([[1.0, 2.0], [0.0, -1.0], [3.5, 0.25]])
    weights = np.array([0.5, -1.25])
    guest = HeteroLR().scorer(model, role="guest", component="lr")
    host = HeteroLR().scorer(model, role="host", component="lr")
    assert guest.header == ("a", "b")
    assert np.array_equal(guest.partial(rows), rows @ weights + 0.75)
    assert np.array_equal(host.partial(rows), rows @ weights)
    scores, labels = guest.outcome(guest.partial(rows) + host.partial(rows))
    assert np.array_equal(scores, sigmoid(rows @ weights + 0.75 + rows @ weights))
    assert labels.tolist() == (scores > 0.6).astype(int).tolist()
    with pytest.raises(ArgumentError, match="arbiter"):
        HeteroLR().scorer(model, role="arbiter", component="lr")
    homo = HomoLR().scorer(model, role="host", component="lr")
    dataset = Dataset.instances(["x", "y", "z"], rows, header=["a", "b"])
    assert np.array_equal(homo.outcome(homo.partial(rows))[0], predict_scores(model, dataset, "lr"))


def test_a_component_without_a_scorer_says_so() -> None:
    with pytest.raises(ComponentNotImplemented, match="cannot score online"):
        _Echo().scorer({}, role="guest", component="echo_0")


class NoParams(BaseModel):
    pass


def test_an_upstream_that_does_not_run_on_a_role_is_no_input_there(tmp_path: Path) -> None:
    # FATE's label_transform example: Evaluation runs on the arbiter too, fed by a guest-and-host module.
    dsl = {
        "components": {
            "data_transform_0": {"module": "DataTransform", "output": {"data": ["data"]}},
            "evaluation_0": {"module": "Evaluation", "input": {"data": {"data": ["data_transform_0.data"]}}},
        }
    }
    conf = {
        "dsl_version": 2,
        "initiator": {"role": "guest", "party_id": 9999},
        "role": {"guest": [9999], "host": [10000], "arbiter": [10000]},
    }
    harness = ComponentHarness(tmp_path, dsl, conf)
    try:
        for role, expected in (("arbiter", []), ("guest", ["data_transform_0"])):
            task = harness.context(
                Party(role=role, party_id=10000 if role == "arbiter" else 9999), "evaluation_0"
            )
            ctx: ComponentContext[NoParams] = ComponentContext(task, harness.plan, None, NoParams())
            assert [ref.component for ref in ctx.inputs("data")] == expected
        # On the arbiter the Evaluation task then runs on nothing, and records nothing.
        harness.registry.create("Evaluation").run(
            harness.context(Party(role="arbiter", party_id=10000), "evaluation_0")
        )
    finally:
        harness.close()
