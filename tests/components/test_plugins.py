"""A component from another installed package, found through the ``accord.components`` entry points.

The package here is real as far as Python's packaging is concerned: a module and a ``.dist-info``
directory with ``entry_points.txt`` on ``sys.path``, exactly what ``pip install`` leaves behind.
"""

from __future__ import annotations

import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from accord.components import ComponentRegistry
from accord.components.sdk import Dataset

from .harness import JOB_ID, ComponentHarness

PLUGIN = '''
import numpy as np
from pydantic import BaseModel, ConfigDict

from accord.components.sdk import ComponentBase, ComponentContext, Dataset
from accord.dsl_compiler.catalog import make_spec


class LabelCountParam(BaseModel):
    model_config = ConfigDict(extra="forbid")
    normalize: bool = False


class LabelCount(ComponentBase[LabelCountParam]):
    """Counts each label value of the guest's rows and passes the rows on."""

    params = LabelCountParam
    spec = make_spec("LabelCount", "guest host", "data", "data")

    def fit(self, ctx: ComponentContext[LabelCountParam]) -> None:
        data = ctx.input_dataset("data")
        labels = data.labels()
        if labels is not None:
            values, counts = np.unique(labels, return_counts=True)
            shares = counts / counts.sum() if ctx.params.normalize else counts
            points = [[float(v), float(c)] for v, c in zip(values, shares)]
            ctx.tracker.log_metric("train", "label_count", points, metric_type="LABEL_COUNT")
        ctx.save_data(data)
'''


@pytest.fixture
def installed_plugin(tmp_path: Path) -> Iterator[Path]:
    site = tmp_path / "site-packages"
    (site / "accord_label_count").mkdir(parents=True)
    (site / "accord_label_count" / "__init__.py").write_text(textwrap.dedent(PLUGIN))
    info = site / "accord_label_count-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: accord-label-count\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(
        "[accord.components]\nLabelCount = accord_label_count:LabelCount\n"
    )
    sys.path.insert(0, str(site))
    yield site
    sys.path.remove(str(site))
    sys.modules.pop("accord_label_count", None)


def test_an_installed_package_adds_a_module(installed_plugin: Path, tmp_path: Path) -> None:
    registry = ComponentRegistry.discover()
    assert "LabelCount" in registry.modules() and "LabelCount" in registry.extra_specs()
    dsl = {
        "components": {
            "data_transform_0": {"module": "DataTransform", "output": {"data": ["data"]}},
            "label_count_0": {
                "module": "LabelCount",
                "input": {"data": {"data": ["data_transform_0.data"]}},
                "output": {"data": ["data"]},
            },
        }
    }
    conf = {
        "dsl_version": 2,
        "initiator": {"role": "guest", "party_id": 9999},
        "role": {"guest": [9999], "host": [10000]},
        "component_parameters": {"common": {"label_count_0": {"normalize": True}}},
    }
    harness = ComponentHarness(tmp_path / "home", dsl, conf, registry=registry)
    try:
        labels = np.array([1, 0, 1, 1], dtype=float)
        guest = Dataset.instances(["a", "b", "c", "d"], np.zeros((4, 1)), header=["x"], labels=labels)
        host = Dataset.instances(["a", "b", "c", "d"], np.ones((4, 2)), header=["u", "v"])
        harness.plant("guest", 9999, "data_transform_0", guest)
        harness.plant("host", 10000, "data_transform_0", host)
        harness.run_ok("label_count_0")
        records = harness.metrics.query(JOB_ID, "label_count_0", "guest", 9999)
        assert [list(point) for point in records[0].data] == [[0.0, 0.25], [1.0, 0.75]]
        assert len(harness.output("host", 10000, "label_count_0")) == 4
    finally:
        harness.close()
