"""ModelLoader on a real standalone site (Temporal, gRPC federation on loopback, SQLite), with FATE's
``model_loader`` examples unchanged but for the ids FATE leaves empty.

Reference for the selection: FATE's IV filters of the example (threshold 0.03 on the guest and 0.15 on
the host, then the top 15 of both parties' columns together, then the top ceil(0.7·n)) applied in plain
Python to the IVs of the binning model the earlier job stored. Exact: the same numbers are compared.
"""

from __future__ import annotations

import copy
import math
from typing import Any

import pytest

from accord.components.sdk import layout
from accord.components.sdk.checkpoint import list_checkpoints, load_checkpoint
from accord.errors import ComponentParameterError
from tests.pipeline.test_hetero_lr_examples import upload_breast
from tests.scheduling.harness import RunningSite

from .support import GUEST, HOST, example, model_of, succeeded, task_error

pytestmark = pytest.mark.asyncio(loop_scope="session")

BINNING = "hetero_feature_binning_0"
LOADER = "model_loader_0"


def _top(values: dict[Any, float], k: int) -> set[Any]:
    # A stable sort of the values, highest first: FATE's argsort ranks ties by position.
    ranked = sorted(values, key=lambda name: values[name], reverse=True)
    return set(ranked[:k])


def reference_selection(guest_bin: dict[str, Any], host_bin: dict[str, Any]) -> tuple[list[str], list[str]]:
    """The example's iv_filter on the binning model's IVs: kept guest columns, kept host columns."""
    guest = {("guest", name): float(result["iv"]) for name, result in guest_bin["results"].items()}
    anonymous = guest_bin["host_results"][str(HOST)]
    host_header = list(host_bin["header"])
    host = {("host", name): float(anonymous[f"host_{HOST}_{i}"]["iv"]) for i, name in enumerate(host_header)}
    first = {key for key, iv in guest.items() if iv >= 0.03} | {key for key, iv in host.items() if iv >= 0.15}
    both = {key: value for key, value in (guest | host).items() if key in first}
    second = _top(both, 15)
    third = _top({key: both[key] for key in second}, math.ceil(0.7 * len(second)))
    return (
        [name for name in guest_bin["header"] if ("guest", name) in third],
        [name for name in host_header if ("host", name) in third],
    )


def loader_job(model_id: str, version: str, **params: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    dsl, conf = example("model_loader", "model_loader_dsl", "model_loader_conf")
    conf["component_parameters"]["common"][LOADER].update(model_id=model_id, model_version=version, **params)
    return dsl, conf


async def test_the_example_selects_columns_on_the_binning_model_of_the_earlier_job(site: RunningSite) -> None:
    upload_breast(site)
    train_id = await succeeded(site, *example("model_loader", "binning_train_dsl", "binning_train_conf"))
    model_id = site.jobs.get(train_id, "guest", GUEST).model_id
    assert model_id is not None
    # As a FATE user fills them in: the training job's model id, and its job id as model_version.
    loaded_id = await succeeded(site, *loader_job(model_id, train_id))

    for role, party_id in (("guest", GUEST), ("host", HOST)):
        binning = model_of(site, train_id, role, party_id, BINNING)
        assert model_of(site, loaded_id, role, party_id, LOADER) == binning
    guest_bin = model_of(site, train_id, "guest", GUEST, BINNING)
    want_guest, want_host = reference_selection(guest_bin, model_of(site, train_id, "host", HOST, BINNING))
    # 30 columns, at least 15 pass the thresholds: the top 15, then the top 11 of them.
    assert len(want_guest) + len(want_host) == math.ceil(0.7 * 15)
    for role, party_id, want in (("guest", GUEST, want_guest), ("host", HOST, want_host)):
        selection = model_of(site, loaded_id, role, party_id, "hetero_feature_selection_0")
        assert selection["left_cols"] == want, role
    # A deployed version of the training job loads the same model; model_alias names its model output.
    assert site.site.deployment is not None
    cpn_list = f"reader_0,data_transform_0,intersection_0,{BINNING}"
    deployed = await site.site.deployment.deploy(model_id, train_id, cpn_list)
    again = await succeeded(site, *loader_job(model_id, deployed.model_version, model_alias="model"))
    assert model_of(site, again, "host", HOST, LOADER) == model_of(site, train_id, "host", HOST, BINNING)
    summary = layout.output_dir(layout.party_dir(site.settings.home, loaded_id, "host", HOST), LOADER)
    assert (summary / "summary.json").is_file()

    # Ids the site cannot resolve for this party fail the loader with a coded error naming the field.
    missing = await task_error(site, *loader_job(model_id, "202001010000000000000"), LOADER, "guest", GUEST)
    assert "(40401)" in missing and "model_version '202001010000000000000'" in missing
    unknown = loader_job(model_id, train_id, component_name="hetero_feature_binning_9")
    error = await task_error(site, *unknown, LOADER, "guest", GUEST)
    assert "(40401)" in error and "component_name 'hetero_feature_binning_9'" in error and BINNING in error
    alias = loader_job(model_id, train_id, model_alias="data")
    error = await task_error(site, *alias, LOADER, "guest", GUEST)
    assert "(40401)" in error and "model_alias 'data'" in error
    no_step = loader_job(model_id, train_id, step_index=3)
    error = await task_error(site, *no_step, LOADER, "host", HOST)
    assert "(40401)" in error and "saved no checkpoint" in error
    # Another party's model: host 10001 took no part in the training job, so it has no model to load.
    other_dsl, other_conf = loader_job(model_id, train_id)
    other_conf["role"]["host"] = [10001]
    error = await task_error(site, other_dsl, other_conf, LOADER, "host", 10001)
    assert "(40401)" in error and "host 10001" in error and "only its own models" in error


@pytest.mark.parametrize(
    ("params", "named"),
    [
        ({}, "model_id"),  # the example as FATE ships it: the ids are empty strings
        ({"model_id": "m"}, "model_version"),
        ({"model_id": "m", "model_version": "1", "component_name": None}, "component_name"),
        (
            {"model_id": "m", "model_version": "1", "step_index": 1, "step_name": "x"},
            "step_index and step_name",
        ),
    ],
)
async def test_missing_empty_or_conflicting_ids_are_refused_at_submit(
    site: RunningSite, params: dict[str, Any], named: str
) -> None:
    dsl, conf = example("model_loader", "model_loader_dsl", "model_loader_conf")
    conf["component_parameters"]["common"][LOADER].update(params)
    with pytest.raises(ComponentParameterError) as caught:
        await site.submit(dsl, conf)
    assert caught.value.code == 10126 and named in caught.value.retmsg and LOADER in caught.value.retmsg
    assert site.jobs.list_jobs() == []


async def test_a_checkpoint_is_loaded_by_step_index_or_step_name(site: RunningSite) -> None:
    upload_breast(site)
    train_dsl, train_conf = example(
        "hetero_logistic_regression", "hetero_lr_normal_dsl", "hetero_lr_normal_conf"
    )
    lr = train_conf["component_parameters"]["common"]["hetero_lr_0"]
    lr.update(max_iter=3, callback_param={"callbacks": ["ModelCheckpoint"], "save_freq": 1})
    lr["encrypt_param"] = {"key_length": 512}
    train_id = await succeeded(site, train_dsl, train_conf)
    model_id = site.jobs.get(train_id, "guest", GUEST).model_id
    assert model_id is not None
    folder = layout.task_dir(
        layout.party_dir(site.settings.home, train_id, "arbiter", 10000), "hetero_lr_0", 0
    )
    saved = list_checkpoints(folder / "checkpoints")
    assert [entry["step_index"] for entry in saved] == [0, 1, 2]

    dsl = {"components": {LOADER: {"module": "ModelLoader", "output": {"model": ["model"]}}}}
    base = copy.deepcopy(train_conf)
    base["component_parameters"] = {"common": {LOADER: {"model_id": model_id, "model_version": train_id}}}
    selectors: list[tuple[dict[str, Any], dict[str, Any]]] = [
        ({"component_name": "hetero_lr_0", "step_index": 1}, load_checkpoint(folder / "checkpoints", 1)),
        (
            {"component_name": "hetero_lr_0", "step_name": "hetero_lr_0"},
            load_checkpoint(folder / "checkpoints"),
        ),
        ({"component_name": "hetero_lr_0"}, model_of(site, train_id, "arbiter", 10000, "hetero_lr_0")),
    ]
    for params, want in selectors:
        conf = copy.deepcopy(base)
        conf["component_parameters"]["common"][LOADER].update(params)
        loaded_id = await succeeded(site, dsl, conf)
        assert model_of(site, loaded_id, "arbiter", 10000, LOADER) == want, params
    conf = copy.deepcopy(base)
    conf["component_parameters"]["common"][LOADER].update(component_name="hetero_lr_0", step_index=7)
    error = await task_error(site, dsl, conf, LOADER, "guest", GUEST)
    assert "step_index 7" in error and "0 (hetero_lr_0), 1 (hetero_lr_0), 2 (hetero_lr_0)" in error
