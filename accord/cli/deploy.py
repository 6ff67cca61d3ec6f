"""``accord model deploy | get-predict-dsl | get-predict-conf`` (FATE-Flow's deploy and its predict files)."""

from __future__ import annotations

import json
from pathlib import Path

import click

from accord.cli.confs import conf_option, merged, read_conf
from accord.cli.job import _api, remote, server_option
from accord.cli.root import emit

_model_id = click.option("--model-id", required=True, help="as the training job printed it")
_model_version = click.option(
    "--model-version", required=True, help="the training job id, or a deployed version"
)
_output = click.option(
    "-o", "--output", type=click.Path(path_type=Path, dir_okay=False), help="write the file here instead"
)


@click.command("deploy")
@click.option("--model-id", help="as the training job printed it")
@click.option("--model-version", help="the training job id")
@click.option("--cpn-list", help="the components to deploy, comma separated: reader_0,hetero_lr_0")
@conf_option("deploy")
@server_option
@remote
def deploy(
    model_id: str | None,
    model_version: str | None,
    cpn_list: str | None,
    conf_path: Path | None,
    server: str | None,
) -> None:
    """A new model version of the listed components, on every party of the model."""
    sources = {"model_id": ["model_id"], "model_version": ["model_version"], "cpn_list": ["cpn_list"]}
    given = {"model_id": model_id, "model_version": model_version, "cpn_list": cpn_list}
    body = merged(given, read_conf(conf_path, "deploy conf"), sources, "model deploy")
    if isinstance(body["cpn_list"], list):  # FATE's conf may list the components
        body["cpn_list"] = ",".join(str(c) for c in body["cpn_list"])
    with _api(server) as api:
        emit(api.call("/v1/model/deploy", body))


def _predict_file(name: str, path: str, doc: str) -> click.Command:
    @_model_id
    @_model_version
    @_output
    @server_option
    @remote
    def command(model_id: str, model_version: str, output: Path | None, server: str | None) -> None:
        with _api(server) as api:
            reply = api.call(path, {"model_id": model_id, "model_version": model_version})
        if output is None:
            emit(reply)
            return
        output.write_text(json.dumps(reply["data"], indent=4) + "\n", encoding="utf-8")
        emit({"retcode": 0, "retmsg": "success", "data": {"path": str(output)}})

    command.__doc__ = doc
    return click.command(name)(command)


get_predict_dsl = _predict_file(
    "get-predict-dsl", "/v1/model/get/predict/dsl", "The predict DSL of a deployed model version."
)
get_predict_conf = _predict_file(
    "get-predict-conf",
    "/v1/model/get/predict/conf",
    "A predict conf for a deployed model version (parties, model, the training readers' tables).",
)

DEPLOY_COMMANDS = [deploy, get_predict_dsl, get_predict_conf]
