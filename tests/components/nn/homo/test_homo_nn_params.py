"""HomoNN's parameters: FATE's confs pass; what Accord does not run is refused at submit, naming the field."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from accord.components.nn.homo import HomoNN
from accord.components.nn.homo.model import NNScorer
from accord.components.sdk import layout
from accord.components.sdk.checkpoint import list_checkpoints, load_checkpoint
from accord.errors import AccordError
from tests.components.breast import DATA
from tests.components.harness import ComponentHarness

from . import support
from .support import BCE, MLP

EXAMPLES = DATA.parent / "dsl" / "v2" / "homo_nn"


def check(params: dict[str, Any]) -> None:
    HomoNN().check_parameters(params, component="nn_0", module="HomoNN")


def refusal(params: dict[str, Any]) -> AccordError:
    with pytest.raises(AccordError) as caught:
        check(params)
    return caught.value


@pytest.mark.parametrize("name", ["binary", "multi", "regression", "aggregate_n_epoch"])
def test_fate_example_confs_pass(name: str) -> None:
    file = (
        "homo_nn_aggregate_n_epoch_conf.json"
        if name == "aggregate_n_epoch"
        else f"homo_nn_train_{name}_conf.json"
    )
    conf = json.loads((EXAMPLES / file).read_text())
    check(conf["component_parameters"]["common"]["nn_0"])


def with_layer(spec: dict[str, Any]) -> dict[str, Any]:
    define = copy.deepcopy(MLP)
    define["1-1"] = spec
    return support.nn_params(define, BCE)


@pytest.mark.parametrize(
    ("params", "code", "named"),
    [
        (with_layer({"layer": "CustModel", "module_name": "evil"}), 10127, "nn_define['1-1']"),
        (with_layer({"layer": "Linear", "in_feature": 8, "out_features": 8}), 10126, "in_feature"),
        (
            {**support.nn_params(MLP, BCE), "trainer": {"trainer_name": "local_trainer"}},
            10127,
            "trainer_name",
        ),
        ({**support.nn_params(MLP, BCE), "trainer": {"param": {"epochs": 1}}}, 10126, "trainer.trainer_name"),
        (support.nn_params(MLP, BCE, cuda=0), 10127, "trainer.param.cuda"),
        (support.nn_params(MLP, BCE, epoch=3), 10126, "did you mean 'epochs'"),
        (support.nn_params(MLP, BCE, collate_fn="DataCollatorWithPadding"), 10127, "collate_fn"),
        (support.nn_params(MLP, BCE, task_type="causal_lm"), 10127, "task_type"),
        (support.nn_params(MLP, BCE, early_stop="weight_diff"), 10126, "early_stop"),
        (support.nn_params(MLP, {"loss_fn": "CustLoss"}), 10127, "loss.loss_fn"),
        ({**support.nn_params(MLP, BCE), "optimizer": {"optimizer": "LBFGS"}}, 10127, "optimizer.optimizer"),
        (
            {**support.nn_params(MLP, BCE), "dataset": {"dataset_name": "image"}},
            10127,
            "dataset.dataset_name",
        ),
        ({**support.nn_params(MLP, BCE), "dataset": {"param": {"label_col": "x3"}}}, 10127, "label_col"),
        ({**support.nn_params(MLP, BCE), "server_init": True}, 10127, "server_init"),
        ({**support.nn_params(MLP, BCE), "ds_config": {"zero": 3}}, 10127, "ds_config"),
        ({**support.nn_params(MLP, BCE), "nn_define": None}, 10126, "nn_define"),
    ],
)
def test_refusals_name_the_field(params: dict[str, Any], code: int, named: str) -> None:
    error = refusal(params)
    assert error.code == code, error.retmsg
    assert named in error.retmsg


def test_features_must_match_across_clients(tmp_path: Path, harnesses: list[ComponentHarness]) -> None:
    data = support.pair("breast_homo")
    guest = data[support.GUEST]
    data[support.GUEST] = type(guest)(guest.table, guest.kind, (*guest.header[:-1], "other"), "id", "y")
    harness = support.start(tmp_path, harnesses, support.nn_params(MLP, BCE, epochs=1), data)
    errors = harness.run("nn_0")
    assert all(error is not None and "features differ" in str(error) for error in errors.values())


def test_online_scorer_scores_like_training(tmp_path: Path, harnesses: list[ComponentHarness]) -> None:
    data = support.pair("breast_homo")
    harness = support.start(tmp_path, harnesses, support.nn_params(MLP, BCE, epochs=3), data)
    harness.run_ok("nn_0")
    model = harness.model("host", 10000, "nn_0")
    scorer = HomoNN().scorer(model, role="host", component="nn_0")
    host = data[support.HOST]
    scores, labels = scorer.outcome(scorer.partial(host.features()))
    output = harness.output("host", 10000, "nn_0")
    by_id = dict(zip(output.ids(), output.column("predict_score").astype(np.float64), strict=True))
    expected = np.array([by_id[sid] for sid in host.ids()])
    np.testing.assert_allclose(scores, expected, atol=1e-6)
    assert set(labels) <= {0, 1}
    assert isinstance(NNScorer(model, "nn_0").header, tuple)
    with pytest.raises(AccordError):
        HomoNN().scorer(model, role="arbiter", component="nn_0")


def test_checkpoints_every_n_epochs(tmp_path: Path, harnesses: list[ComponentHarness]) -> None:
    params = support.nn_params(MLP, BCE, epochs=4, checkpoint_save_freqs=2)
    harness = support.start(tmp_path, harnesses, params, support.pair("breast_homo"))
    harness.run_ok("nn_0")
    folder = layout.task_dir(harness.party_dir("guest", 9999), "nn_0", 0) / "checkpoints"
    saved = list_checkpoints(folder)
    assert [entry["step_index"] for entry in saved] == [1, 3]
    final = harness.model("guest", 9999, "nn_0")
    assert load_checkpoint(folder, 3)["param"]["state"] == final["param"]["state"]


def test_warm_start_is_refused(tmp_path: Path, harnesses: list[ComponentHarness]) -> None:
    dsl = copy.deepcopy(support.DSL)
    dsl["components"]["nn_1"] = {
        "module": "HomoNN",
        "input": {"data": {"train_data": ["data_transform_0.data"]}, "model": ["nn_0.model"]},
        "output": {"data": ["data"], "model": ["model"]},
    }
    params = support.nn_params(MLP, BCE, epochs=1)
    harness = support.start(tmp_path, harnesses, params, support.pair("breast_homo"), dsl=dsl)
    harness.run_ok("nn_0")
    errors = harness.run("nn_1")
    assert all(
        isinstance(e, AccordError) and e.code == 10127 and "warm start" in e.retmsg for e in errors.values()
    )


def test_site_without_torch_refuses_at_submit(monkeypatch: pytest.MonkeyPatch) -> None:
    from accord.components.nn import define

    monkeypatch.setattr(define, "torch_installed", lambda: False)
    error = refusal(support.nn_params(MLP, BCE))
    assert error.code == 10127 and "PyTorch" in error.retmsg and "accord[nn]" in str(error.hint)
