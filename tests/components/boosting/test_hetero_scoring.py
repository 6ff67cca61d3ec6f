"""HeteroSecureBoost's online scorer: a host answers only its decisions at its own nodes, and the guest's
walk of the trees with those answers gives the training job's predict_score and predict_result to 1e-9
(binary, multi-class single and multi output, regression, two hosts, the fast modes, zeros as missing).
The serving stack itself is tested in tests/serving/test_secureboost_serving.py."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from accord.components.boosting.hetero.component import HeteroFastSecureBoost, HeteroSecureBoost
from accord.components.sdk import Dataset
from accord.components.sdk.scoring import AnsweringScorer, CombiningScorer, HostAnswers
from accord.computing.table import Engine
from accord.errors import ArgumentError, DataMismatchError

from .hetero_support import COMPONENT, GUEST, HOST, conf, read_parties, train

TOLERANCE = 1e-9


def _split(host: Dataset) -> list[Dataset]:
    half = len(host.header) // 2
    return [
        Dataset.instances(host.ids(), host.features()[:, :half], header=host.header[:half]),
        Dataset.instances(host.ids(), host.features()[:, half:], header=host.header[half:]),
    ]


def _online(
    harness: Any, module: type[HeteroSecureBoost], guest: Dataset, hosts: list[Dataset], ids: list[int]
) -> tuple[tuple[np.ndarray, np.ndarray], CombiningScorer, dict[int, HostAnswers]]:
    """Scores and labels as serving computes them, from the stored models and the parties' own rows."""
    guest_scorer = module().scorer(
        harness.model("guest", GUEST, COMPONENT), role="guest", component=COMPONENT
    )
    assert isinstance(guest_scorer, CombiningScorer) and guest_scorer.asks_hosts
    answers: dict[int, HostAnswers] = {}
    for party_id, host in zip(ids, hosts, strict=True):
        model = harness.model("host", party_id, COMPONENT)
        scorer = module().scorer(model, role="host", component=COMPONENT)
        assert isinstance(scorer, AnsweringScorer) and scorer.header == tuple(host.header)
        values = scorer.partial(host.features())
        # Decisions only, named by tree and node: no threshold or feature value leaves the host.
        assert set(np.unique(values)) <= {0, 1}
        assert all(column.replace(".", "").isdigit() for column in scorer.columns)
        answers[party_id] = HostAnswers(scorer.columns, values.astype(np.float64))
    return guest_scorer.outcome(guest_scorer.combine(guest.features(), answers)), guest_scorer, answers


@pytest.mark.parametrize(
    ("name", "module", "options", "two_hosts"),
    [
        ("breast", HeteroSecureBoost, {}, False),
        ("breast", HeteroSecureBoost, {"use_missing": True, "zero_as_missing": True}, False),
        ("vehicle_scale", HeteroSecureBoost, {"num_trees": 2}, False),
        ("vehicle_scale", HeteroSecureBoost, {"multi_mode": "multi_output"}, True),
        (
            "student",
            HeteroSecureBoost,
            {"task_type": "regression", "objective_param": {"objective": "lse"}},
            False,
        ),
        ("breast", HeteroFastSecureBoost, {"work_mode": "mix", "tree_num_per_party": 1}, False),
        (
            "vehicle_scale",
            HeteroFastSecureBoost,
            {"work_mode": "layered", "guest_depth": 1, "host_depth": 2},
            False,
        ),
    ],
)
def test_online_scores_equal_the_training_output(
    tmp_path: Path,
    local_engine: Engine,
    name: str,
    module: type[HeteroSecureBoost],
    options: dict[str, Any],
    two_hosts: bool,
) -> None:
    guest, hosts = read_parties(name)
    ids = [HOST]
    if two_hosts:
        hosts, ids = _split(hosts[0]), [HOST, HOST + 1]
    job = conf(hosts=ids, **options)
    harness = train(tmp_path, job, guest, hosts, local_engine, module=module.module_name)
    try:
        out = harness.output("guest", GUEST, COMPONENT)
        (scores, labels), _, _ = _online(harness, module, guest, hosts, ids)
        np.testing.assert_allclose(scores, out.column("predict_score"), rtol=0, atol=TOLERANCE)
        if options.get("task_type") != "regression":
            np.testing.assert_array_equal(labels, out.column("predict_result").astype(np.int64))
    finally:
        harness.close()


def test_answers_that_do_not_match_the_model_are_refused(tmp_path: Path, local_engine: Engine) -> None:
    guest, hosts = read_parties("breast")
    harness = train(tmp_path, conf(num_trees=2), guest, hosts, local_engine)
    try:
        _, scorer, answers = _online(harness, HeteroSecureBoost, guest, hosts, [HOST])
        answer = answers[HOST]
        with pytest.raises(DataMismatchError, match=f"host {HOST} owns split nodes"):
            scorer.combine(guest.features(), {})
        fewer = HostAnswers(answer.columns[1:], answer.values[:, 1:])
        with pytest.raises(DataMismatchError, match="differ"):
            scorer.combine(guest.features(), {HOST: fewer})
        with pytest.raises(DataMismatchError, match="answered 1 rows"):
            scorer.combine(guest.features(), {HOST: HostAnswers(answer.columns, answer.values[:1])})
        with pytest.raises(ArgumentError, match="arbiter"):
            HeteroSecureBoost().scorer(
                harness.model("guest", GUEST, COMPONENT), role="arbiter", component=COMPONENT
            )
    finally:
        harness.close()
