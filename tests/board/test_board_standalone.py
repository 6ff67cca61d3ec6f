"""The board in a real browser on a real standalone stack, with FATE's hetero-LR example.

``accord up`` (Temporal dev server, server and worker processes, SQLite); the tables uploaded with the
CLI; jobs submitted with the CLI, whose ``board_url`` opens the board without a login step. Chromium
runs offline: only the site answers (tests/board/browser.py).
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from accord.settings import Settings
from accord.standalone.stack import Stack
from tests.board.browser import artifacts, chart_series, chromium_page
from tests.chaos.site import START_TIMEOUT_S
from tests.lifecycle.test_cli_end_to_end import Cli, upload_conf
from tests.pipeline.test_hetero_lr_examples import LR_EXAMPLES
from tests.support import local_credential

COMPONENTS = ["reader_0", "data_transform_0", "intersection_0", "hetero_lr_0", "evaluation_0"]
JOB_TIMEOUT_MS = 300_000


@pytest.fixture(scope="module")
def cli(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cli]:
    tmp_path = tmp_path_factory.mktemp("board")
    cli = Cli(tmp_path, tmp_path / "accord")
    try:
        cli.run("up", "--detach", "--json", timeout_s=4 * START_TIMEOUT_S)
        for side in ("guest", "host"):
            cli.run("data", "upload", "-c", str(upload_conf(tmp_path, side)), "--no-progress")
        yield cli
    finally:
        Stack(Settings(home=cli.home)).down()


def submit(cli: Cli, tmp_path: Path, conf: dict[str, Any] | None = None) -> dict[str, Any]:
    dsl = LR_EXAMPLES / "hetero_lr_normal_dsl.json"
    conf_path = LR_EXAMPLES / "hetero_lr_normal_conf.json"
    if conf is not None:
        conf_path = tmp_path / "conf.json"
        conf_path.write_text(json.dumps(conf))
    return cli.run("job", "submit", "-d", str(dsl), "-c", str(conf_path))


def example_conf() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((LR_EXAMPLES / "hetero_lr_normal_conf.json").read_text())
    return copy.deepcopy(loaded)


def api(cli: Cli, path: str, body: dict[str, Any]) -> Any:
    headers = local_credential(Settings(home=cli.home))
    reply = httpx.post(f"{cli.server}{path}", json=body, headers=headers, timeout=30)
    envelope = reply.json()
    assert envelope["retcode"] == 0, envelope
    return envelope["data"]


def node(component: str, status: str | None = None) -> str:
    selector = f'#dag .node[data-component="{component}"]'
    return f'{selector}[data-status="{status}"]' if status else selector


def test_hetero_lr_job_on_the_board(cli: Cli, tmp_path: Path) -> None:
    shots = artifacts(tmp_path)
    submitted = submit(cli, tmp_path)
    job_id = submitted["jobId"]
    board_url = submitted["data"]["board_url"]
    assert "?token=" in board_url and board_url.endswith(f"#/job/{job_id}"), board_url
    assert submitted["data"]["workflow_url"].endswith(f"/workflows/{job_id}")

    with chromium_page() as page:
        page.goto(board_url)
        # No login step, and the credential leaves the address bar once it is a cookie.
        page.wait_for_selector(node("reader_0"))
        assert "token" not in page.url
        assert page.locator("#dag .node").count() == len(COMPONENTS)
        # Live: the page is never reloaded while the components turn green.
        for component in COMPONENTS:
            page.wait_for_selector(node(component, "success"), timeout=JOB_TIMEOUT_MS)
        page.wait_for_selector('#job-head .badge[data-status="success"]')
        page.screenshot(path=str(shots / "job_success.png"), full_page=True)

        # HeteroLR: the arbiter logs the loss, one point per iteration.
        page.click(node("hetero_lr_0"))
        loss_selector = 'section[data-role="arbiter"] .chart[data-metric="loss"]'
        page.wait_for_selector(loss_selector)
        stored_loss = api(
            cli,
            "/v1/tracking/component/metric/all",
            {"job_id": job_id, "role": "arbiter", "party_id": 10000, "component_name": "hetero_lr_0"},
        )["train"]["loss"]["data"]
        drawn = chart_series(page, loss_selector)[0]
        assert len(drawn) == len(stored_loss) > 1
        assert [point[0] for point in drawn] == [point[0] for point in stored_loss]
        assert drawn == [[x, y] for x, y in stored_loss]
        page.screenshot(path=str(shots / "hetero_lr_loss.png"), full_page=True)

        # The output data: the first 100 rows of the guest's predictions.
        page.click('#component-tabs button[data-tab="data"]')
        page.wait_for_selector('table.output-data[data-role="guest"] tbody tr')
        assert page.locator('table.output-data[data-role="guest"] tbody tr').count() == 100

        # Evaluation: ROC and K-S drawn with the stored values.
        page.click(node("evaluation_0"))
        roc = 'section[data-role="guest"] .chart[data-metric-type="ROC_EVALUATION"]'
        ks = 'section[data-role="guest"] .chart[data-metric-type="KS_EVALUATION"]'
        page.wait_for_selector(roc)
        page.wait_for_selector(ks)
        metrics = api(
            cli,
            "/v1/tracking/component/metric/all",
            {"job_id": job_id, "role": "guest", "party_id": 9999, "component_name": "evaluation_0"},
        )["train"]
        stored_roc = metrics["hetero_lr_0_roc"]
        stored_ks = metrics["hetero_lr_0_ks"]
        assert chart_series(page, roc)[0] == stored_roc["data"]
        ks_series = chart_series(page, ks)
        assert ks_series[0] == stored_ks["data"]
        assert [y for _, y in ks_series[1]] == stored_ks["meta"]["fpr"]
        drawn_ks = max(tpr - fpr for (_, tpr), (_, fpr) in zip(ks_series[0], ks_series[1], strict=True))
        assert drawn_ks == pytest.approx(dict(metrics["hetero_lr_0"]["data"])["ks"], abs=0.02)
        page.screenshot(path=str(shots / "evaluation.png"), full_page=True)

        # The job list shows the job's parties.
        page.goto(f"{cli.server}/board/#/jobs")
        page.wait_for_selector(f'#jobs tr[data-job-id="{job_id}"]')
        assert page.locator(f'#jobs tr[data-job-id="{job_id}"]').count() == 3
        page.fill('#job-filters input[name="component"]', "hetero_lr_0")
        page.select_option('#job-filters select[name="role"]', "guest")
        page.click('#job-filters button[type="submit"]')
        page.wait_for_selector(f'#jobs tr[data-job-id="{job_id}"][data-role="guest"]')
        assert page.locator(f'#jobs tr[data-job-id="{job_id}"]').count() == 1
        page.screenshot(path=str(shots / "jobs.png"), full_page=True)

        # /docs works offline: Swagger UI comes from the site.
        page.goto(f"{cli.server}/docs")
        page.wait_for_selector(".swagger-ui .info .title")
        assert "Accord" in page.inner_text(".swagger-ui .info .title")


def test_failing_job_shows_its_error_on_the_component(cli: Cli, tmp_path: Path) -> None:
    # A label column the guest's table does not have: the job is accepted and fails when it reads it.
    conf = example_conf()
    guest = conf["component_parameters"]["role"]["guest"]["0"]
    guest["data_transform_0"]["label_name"] = "no_such_label"
    job_id = submit(cli, tmp_path, conf)["jobId"]
    with chromium_page() as page:
        page.goto(f"{cli.server}/board/?token={_token(cli)}#/job/{job_id}")
        page.wait_for_selector(node("data_transform_0", "failed"), timeout=JOB_TIMEOUT_MS)
        page.click(node("data_transform_0"))
        error = page.wait_for_selector("#component-error")
        assert error is not None and "no_such_label" in error.inner_text()
        page.screenshot(path=str(artifacts(tmp_path) / "job_failed.png"), full_page=True)


def test_stop_from_the_page(cli: Cli, tmp_path: Path) -> None:
    conf = example_conf()
    lr = conf["component_parameters"]["common"]["hetero_lr_0"]
    lr.update(max_iter=500, early_stop="weight_diff", tol=0)
    job_id = submit(cli, tmp_path, conf)["jobId"]
    with chromium_page() as page:
        page.on("dialog", lambda dialog: dialog.accept())
        page.goto(f"{cli.server}/board/?token={_token(cli)}#/job/{job_id}")
        page.wait_for_selector(node("hetero_lr_0", "running"), timeout=JOB_TIMEOUT_MS)
        page.click("#stop")
        page.wait_for_selector('#job-head .badge[data-status="canceled"]', timeout=JOB_TIMEOUT_MS)
        # The running component is stopped too (canceled, or failed where the stop cut its exchange).
        page.wait_for_selector(f'{node("hetero_lr_0")}:not([data-status="running"])')
        assert page.get_attribute(node("hetero_lr_0"), "data-status") in ("canceled", "failed")
        assert page.is_disabled("#stop")
        page.screenshot(path=str(artifacts(tmp_path) / "job_stopped.png"), full_page=True)
    rows = api(cli, "/v1/job/query", {"job_id": job_id})
    assert {row["f_status"] for row in rows} == {"canceled"}


def _token(cli: Cli) -> str:
    return (cli.home / "local_token").read_text().strip()
