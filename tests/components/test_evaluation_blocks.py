"""Evaluation on block tables: predictions in many partitions, read on the local engine or on Spark,
record the metrics the whole-table evaluation gives."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq

from accord.components.evaluation.component import Evaluation
from accord.components.evaluation.metrics import EvaluateParam
from accord.components.sdk import Dataset, layout
from accord.components.sdk.dataset import with_meta
from accord.computing.table import Engine

from .harness import JOB_ID, ComponentHarness

GUEST, HOST = 9999, 10000
DSL = {
    "components": {
        "lr_0": {"module": "HeteroLR", "output": {"data": ["data"], "model": ["model"]}},
        "evaluation_0": {"module": "Evaluation", "input": {"data": {"data": ["lr_0.data"]}}},
    }
}
CONF = {
    "dsl_version": 2,
    "initiator": {"role": "guest", "party_id": GUEST},
    "role": {"guest": [GUEST], "host": [HOST]},
    "component_parameters": {"common": {"evaluation_0": {"eval_type": "binary"}}},
}


def _predictions(rows: int) -> Dataset:
    rng = np.random.default_rng(8)
    labels = rng.integers(0, 2, rows).astype(float)
    scores = np.clip(labels * 0.3 + rng.random(rows) * 0.7, 0, 1)
    kinds = np.where(np.arange(rows) % 4 == 0, "validate", "train")
    return Dataset.predictions(
        [f"r{i}" for i in range(rows)],
        labels=labels,
        predict_result=(scores > 0.5).astype(float),
        predict_score=scores,
        predict_detail=[{"0": 1 - s, "1": s} for s in scores],
        data_type=list(kinds),
    )


def test_metrics_over_partitions_equal_the_whole_table(tmp_path: Path, engine: Engine) -> None:
    data = _predictions(700)
    running = ComponentHarness(tmp_path / "home", DSL, CONF, engine=engine)
    try:
        for role, party_id in (("guest", GUEST), ("host", HOST)):
            path = layout.data_path(running.party_dir(role, party_id), "lr_0", "data")
            path.parent.mkdir(parents=True, exist_ok=True)
            table = data.table.replace_schema_metadata(with_meta(data.table.schema, data.meta()))
            if role == "host":
                table = table.slice(0, 0)
            pq.write_table(table, path, row_group_size=53)
        running.run_ok("evaluation_0")
        summary = json.loads(
            (
                layout.output_dir(running.party_dir("guest", GUEST), "evaluation_0") / "summary.json"
            ).read_text()
        )
        param = EvaluateParam.model_validate({"eval_type": "binary"})
        for split in ("train", "validate"):
            rows = data.take(np.flatnonzero(data.column("type") == split))
            expected = {
                name: result.rounded().value
                for name, result in Evaluation._evaluate(param, rows).items()
                if result.rounded().value is not None
            }
            assert summary["lr_0"][split] == expected
        recorded = {
            record.key.metric_name for record in running.metrics.query(JOB_ID, "evaluation_0", "guest", GUEST)
        }
        assert {"lr_0", "lr_0_roc", "lr_0_ks"} <= recorded
        assert not running.metrics.query(JOB_ID, "evaluation_0", "host", HOST)
    finally:
        running.close()
