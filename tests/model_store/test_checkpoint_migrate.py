"""``accord checkpoint list|get`` and ``accord model migrate`` as a FATE user runs them (issue 18).

A real HeteroLR job (FATE's hetero_lr_normal example with ModelCheckpoint every iteration) on a real
site behind uvicorn; the CLI's envelopes are checked against FATE-Flow 1.11's shapes (checkpoint list:
a list of ``{step_index, step_name, create_time, models}``; get: one of them with its models; migrate:
per role and party its retcode, and ``detail``). The migrated version's predict job must score every
row as the training job did (the reference: the trained model's own scores on the same table, 1e-9).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import pytest_asyncio

from accord.api.app import create_app
from accord.api.flow import FlowServices
from accord.components.sdk import layout
from accord.components.sdk.checkpoint import list_checkpoints, load_checkpoint
from accord.dsl_compiler import read_json_file
from accord.errors import ArgumentError, ConflictError, PartyNotHosted, RecordNotFound
from accord.model_store import ModelKey
from accord.status import JobStatus
from tests.api.helpers import accord
from tests.http_server import serve_http
from tests.lifecycle.test_predict_job import scores_by_id
from tests.pipeline.test_hetero_lr_examples import LR_EXAMPLES, upload_breast
from tests.scheduling.harness import RunningSite

pytestmark = pytest.mark.asyncio(loop_scope="session")

ITERATIONS = 3
NEW_ROLES = {"guest": [99], "host": [100], "arbiter": [100]}
NEW_MODEL_ID = "arbiter-100#guest-99#host-100#model"


@pytest_asyncio.fixture(loop_scope="session")
async def flow_server(site: RunningSite) -> AsyncIterator[str]:
    s = site.site
    app = create_app(
        s.jobs, tracking=s.tracking, deployment=s.deployment, models=s.models, flow=FlowServices.of(s)
    )
    async with serve_http(app, site.settings.http_host, site.settings.http_port) as address:
        yield address


async def train_with_checkpoints(site: RunningSite) -> str:
    upload_breast(site)
    dsl = read_json_file(LR_EXAMPLES / "hetero_lr_normal_dsl.json", "dsl")
    conf = read_json_file(LR_EXAMPLES / "hetero_lr_normal_conf.json", "conf")
    lr = conf["component_parameters"]["common"]["hetero_lr_0"]
    lr["max_iter"] = ITERATIONS
    lr["callback_param"] = {"callbacks": ["ModelCheckpoint"], "save_freq": 1}
    job_id = await site.submit(dsl, conf)
    result = await site.site.jobs.wait(job_id)
    assert result.status == JobStatus.SUCCESS, result
    return job_id


def migrate_conf(model_id: str, version: str, **extra: Any) -> dict[str, Any]:
    """FATE's fate_flow/examples/migrate_model.json, for this model."""
    old = {"guest": [9999], "host": [10000], "arbiter": [10000]}
    return {
        "job_parameters": {"federated_mode": "SINGLE"},
        "role": old,
        "execute_party": old,
        "migrate_initiator": {"role": "guest", "party_id": 99},
        "migrate_role": NEW_ROLES,
        "model_id": model_id,
        "model_version": version,
        **extra,
    }


async def test_checkpoints_and_migrate(site: RunningSite, flow_server: str, tmp_path: Path) -> None:
    train_id = await train_with_checkpoints(site)
    model_id = site.jobs.get(train_id, "guest", 9999).model_id
    assert model_id is not None

    async def run(*args: str) -> tuple[int, dict[str, Any]]:
        done = await accord(*args, server=flow_server, home=tmp_path)
        return done.returncode, done.envelope

    who = ("--model-id", model_id, "--model-version", train_id, "-cpn", "hetero_lr_0")

    # ---- checkpoint list / get -------------------------------------------------------------------
    for role, party_id in (("guest", 9999), ("host", 10000), ("arbiter", 10000)):
        code, listed = await run("checkpoint", "list", "-r", role, "-p", str(party_id), *who)
        assert code == 0 and listed["retcode"] == 0 and listed["retmsg"] == "success", listed
        folder = layout.task_dir(
            layout.party_dir(site.settings.home, train_id, role, party_id), "hetero_lr_0", 0
        )
        on_disk = list_checkpoints(folder / "checkpoints")
        assert (
            [c["step_index"] for c in listed["data"]]
            == list(range(ITERATIONS))
            == [c["step_index"] for c in on_disk]
        )
        for entry in listed["data"]:
            assert set(entry) == {"step_index", "step_name", "create_time", "models"}
            assert entry["step_name"] == "hetero_lr_0"
            datetime.fromisoformat(entry["create_time"])
            assert set(entry["models"]["hetero_lr_0"]) == {"sha256", "format"}

    code, got = await run("checkpoint", "get", "-r", "guest", "-p", "9999", *who, "--step-index", "1")
    assert code == 0 and got["data"]["step_index"] == 1, got
    guest_dir = layout.task_dir(
        layout.party_dir(site.settings.home, train_id, "guest", 9999), "hetero_lr_0", 0
    )
    assert got["data"]["models"]["hetero_lr_0"] == load_checkpoint(guest_dir / "checkpoints", 1)
    # The last checkpoint is the trained model's param: the run ended at its last iteration.
    code, last = await run(
        "checkpoint", "get", "-r", "guest", "-p", "9999", *who, "--step-name", "hetero_lr_0"
    )
    assert code == 0 and last["data"]["step_index"] == ITERATIONS - 1
    final = site.site.models.store.load(ModelKey(model_id, train_id, "guest", 9999, "hetero_lr_0"))
    assert last["data"]["models"]["hetero_lr_0"]["param"]["weight"] == final["param"]["weight"]
    # As FATE: a step not saved answers an empty object; neither or both of the flags is a usage error.
    code, none = await run("checkpoint", "get", "-r", "guest", "-p", "9999", *who, "--step-index", "99")
    assert code == 0 and none["data"] == {}
    done = await accord(
        "checkpoint", "get", "-r", "guest", "-p", "9999", *who, server=flow_server, home=tmp_path
    )
    assert done.returncode == 2 and "--step-index" in done.stderr
    code, refused = await run(
        "checkpoint", "list", "-r", "guest", "-p", "9999", *who[:4], "-cpn", "hetero_lr_9"
    )
    assert code != 0 and refused["retcode"] == RecordNotFound.code and "hetero_lr_0" in refused["retmsg"]

    # ---- migrate the deployed version, then predict with the new parties --------------------------
    deployed = await site.site.deployment.deploy(
        model_id, train_id, "reader_0,data_transform_0,intersection_0,hetero_lr_0"
    )
    conf_file = tmp_path / "migrate_model.json"
    conf_file.write_text(json.dumps(migrate_conf(model_id, deployed.model_version)))
    code, migrated = await run("model", "migrate", "-c", str(conf_file))
    assert code == 0 and migrated["retcode"] == 0, migrated
    new_version = migrated["jobId"]
    assert migrated["data"]["guest"] == {"9999": 0} and migrated["data"]["arbiter"] == {"10000": 0}
    detail = migrated["data"]["detail"]["host"]["10000"]
    assert (
        detail["model_id"] == NEW_MODEL_ID
        and detail["model_version"] == new_version
        and detail["retcode"] == 0
    )
    # The checkpoints of the deployed version are its training job's.
    code, listed = await run(
        "checkpoint", "list", "-r", "host", "-p", "10000", "--model-id", model_id,
        "--model-version", deployed.model_version, "-cpn", "hetero_lr_0",
    )  # fmt: skip
    assert code == 0 and len(listed["data"]) == ITERATIONS
    # The same version again is a conflict, refused before anything is written.
    again = migrate_conf(model_id, deployed.model_version, unify_model_version=new_version)
    conf_file.write_text(json.dumps(again))
    code, taken = await run("model", "migrate", "-c", str(conf_file))
    assert code != 0 and taken["retcode"] == ConflictError.code and "unify_model_version" in taken["retmsg"]

    predict_dsl = read_json_file(LR_EXAMPLES / "hetero_lr_normal_predict_dsl.json", "dsl")
    predict_conf = read_json_file(LR_EXAMPLES / "hetero_lr_normal_predict_conf.json", "conf")
    predict_conf["job_parameters"]["common"].update(model_id=NEW_MODEL_ID, model_version=new_version)
    predict_conf["role"] = NEW_ROLES
    predict_conf["initiator"] = {"role": "guest", "party_id": 99}
    predict_id = await site.submit(predict_dsl, predict_conf)
    result = await site.site.jobs.wait(predict_id)
    assert result.status == JobStatus.SUCCESS, result
    scores = scores_of(site, predict_id, 99)
    np.testing.assert_allclose(scores, scores_by_id(site, train_id), atol=1e-9)
    # The old parties' model is refused for the new parties, and the new one for the old.
    predict_conf["role"] = {"guest": [9999], "host": [10000], "arbiter": [10000]}
    predict_conf["initiator"] = {"role": "guest", "party_id": 9999}
    with pytest.raises(ArgumentError, match="parties"):
        await site.submit(predict_dsl, predict_conf)

    # ---- a training version never deployed migrates too, with FATE's pipeline of every component -----
    conf_file.write_text(json.dumps(migrate_conf(model_id, train_id, unify_model_version="from_training")))
    code, migrated = await run("model", "migrate", "-c", str(conf_file))
    assert code == 0 and migrated["jobId"] == "from_training", migrated
    pipeline = site.site.deployment.pipeline(NEW_MODEL_ID, "from_training")
    assert pipeline["train_runtime_conf"]["role"] == NEW_ROLES
    assert set(pipeline["predict_dsl"]["components"]) == set(predict_dsl["components"]) | {"evaluation_0"}
    for role, old, new in (("guest", 9999, 99), ("host", 10000, 100), ("arbiter", 10000, 100)):
        trained = site.site.models.store.load(ModelKey(model_id, train_id, role, old, "hetero_lr_0"))
        moved = site.site.models.store.load(ModelKey(NEW_MODEL_ID, "from_training", role, new, "hetero_lr_0"))
        assert moved["param"] == trained["param"]


def scores_of(site: RunningSite, job_id: str, guest: int) -> np.ndarray:
    from accord.components.sdk import Dataset

    party = layout.party_dir(site.settings.home, job_id, "guest", guest)
    output = Dataset.load(layout.data_path(party, "hetero_lr_0", "data"))
    order = np.argsort(output.ids().astype(str))
    return np.asarray(output.column("predict_score"))[order]


async def test_refusals(site: RunningSite, flow_server: str, tmp_path: Path) -> None:
    conf_file = tmp_path / "migrate.json"

    async def migrate(conf: dict[str, Any]) -> dict[str, Any]:
        conf_file.write_text(json.dumps(conf))
        done = await accord("model", "migrate", "-c", str(conf_file), server=flow_server, home=tmp_path)
        assert done.returncode != 0
        return done.envelope

    base = migrate_conf("arbiter-10000#guest-9999#host-10000#model", "20990101000000000000000")
    missing = await migrate(base)
    assert missing["retcode"] == RecordNotFound.code
    same = await migrate({**base, "migrate_role": base["role"]})
    assert same["retcode"] == ArgumentError.code and "nothing to migrate" in same["retmsg"]
    unknown = await migrate({**base, "migrate_mode": 1})
    assert "migrate_mode" in unknown["retmsg"]
    params = await migrate({**base, "job_parameters": {"federated_mode": "SINGLE", "work_mode": 1}})
    assert params["retcode"] == 10127 and "job_parameters" in params["retmsg"]
    stray = await migrate({**base, "execute_party": {"guest": [1234]}})
    assert "execute_party.guest" in stray["retmsg"]
    assert PartyNotHosted.code == 10125
