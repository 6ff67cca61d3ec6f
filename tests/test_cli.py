"""The ``accord dsl`` commands, run as a user runs them: exit codes, JSON errors, never a traceback."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from accord.cli import main
from tests.corpus import DSL_V2

LR = DSL_V2 / "hetero_logistic_regression"
DSL = str(LR / "hetero_lr_normal_dsl.json")
CONF = str(LR / "hetero_lr_normal_conf.json")
ACCORD = str(Path(sys.executable).with_name("accord"))


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([ACCORD, *args], capture_output=True, text=True, timeout=60, check=False)


def test_validate_prints_plan_summary() -> None:
    result = run("dsl", "validate", "-d", DSL, "-c", CONF)
    assert result.returncode == 0, result.stderr
    assert "stage 3" in result.stdout and "hetero_lr_0" in result.stdout
    assert "guest 9999: computing STANDALONE" in result.stdout
    assert result.stdout.rstrip().endswith("valid")


def test_validate_json() -> None:
    result = run("dsl", "validate", "-d", DSL, "-c", CONF, "--json")
    assert result.returncode == 0
    body = json.loads(result.stdout)
    assert body["retcode"] == 0
    order = ["reader_0", "data_transform_0", "intersection_0", "hetero_lr_0", "evaluation_0"]
    assert body["data"]["order"] == order
    assert body["data"]["model_id"] == "arbiter-10000#guest-9999#host-10000#model"


@pytest.mark.parametrize(
    ("content", "code"),
    [
        (b'{"components": {', 10101),
        (b"", 10101),
        (b"\x89PNG\r\n\x1a\n\x00\x00", 10101),
        (b"null", 10101),
        (b'{"components": []}', 10102),
        (b'{"components": {"a": {"module": "Nope"}}}', 10104),
        (b'{"components": {"a": {"module": "Reader", "input": {"data": {"data": "x.data"}}}}}', 10102),
    ],
)
def test_malformed_dsl_exits_2_with_coded_json(tmp_path: Path, content: bytes, code: int) -> None:
    bad = tmp_path / "dsl.json"
    bad.write_bytes(content)
    result = run("dsl", "validate", "-d", str(bad), "-c", CONF)
    assert result.returncode == 2
    body = json.loads(result.stdout)
    assert body["retcode"] == code
    assert body["retmsg"]
    assert "Traceback" not in result.stdout + result.stderr


def test_missing_file_is_coded() -> None:
    result = run("dsl", "validate", "-d", "/nonexistent/dsl.json", "-c", CONF)
    assert result.returncode == 2
    assert json.loads(result.stdout)["retcode"] == 10122


def test_predict_writes_file(tmp_path: Path) -> None:
    out = tmp_path / "predict.json"
    result = CliRunner().invoke(
        main, ["dsl", "predict", "-d", DSL, "--cpn-list", "reader_0,data_transform_0", "-o", str(out)]
    )
    assert result.exit_code == 0, result.output
    written = json.loads(out.read_text())
    assert written["components"]["data_transform_0"]["input"]["model"] == ["pipeline.data_transform_0.model"]


def test_predict_missing_upstream_exits_2() -> None:
    result = CliRunner().invoke(main, ["dsl", "predict", "-d", DSL, "--cpn-list", "hetero_lr_0"])
    assert result.exit_code == 2
    body = json.loads(result.output)
    assert body["retcode"] == 10121
    assert "intersection_0" in body["retmsg"]


def test_usage_error_has_no_traceback() -> None:
    result = run("dsl", "validate", "-d", DSL)
    assert result.returncode == 2
    assert "Missing option" in result.stderr
    assert "Traceback" not in result.stderr
