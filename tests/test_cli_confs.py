"""FATE's `-c CONF` for `model deploy|load|bind` and `data download`: conf fields fill missing flags."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from accord.cli import main
from accord.cli.confs import merged


def test_flags_win_over_the_conf_and_nested_fields_are_found() -> None:
    conf = {"job_parameters": {"model_id": "from-conf", "model_version": "v1"}}
    sources = {"model_id": ["job_parameters.model_id"], "model_version": ["job_parameters.model_version"]}
    values = merged({"model_id": "from-flag", "model_version": None}, conf, sources, "model load")
    assert values == {"model_id": "from-flag", "model_version": "v1"}


def test_a_field_missing_from_both_is_refused_naming_flag_and_key(tmp_path: Path) -> None:
    conf = tmp_path / "deploy.json"
    conf.write_text(json.dumps({"model_id": "m", "model_version": "v"}), encoding="utf-8")
    result = CliRunner().invoke(main, ["model", "deploy", "-c", str(conf)])
    assert result.exit_code == 2
    envelope = json.loads(result.output)
    assert envelope["retcode"] == 101
    assert "--cpn-list" in envelope["retmsg"] and "cpn_list" in envelope["retmsg"]
