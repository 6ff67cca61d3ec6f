"""``accord suite -i TESTSUITE.json``: a FATE-Test testsuite against the site(s), with a table of results."""

from __future__ import annotations

import contextlib
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from accord.cli.job import server_option
from accord.cli.root import coded_errors
from accord.errors import AccordError, ArgumentError

if TYPE_CHECKING:  # the module itself imports httpx only when the command runs
    from accord.cli.transfer import TransferApi


class CheckedApi:
    """The CLI's Api, with a site's refusal raised as the coded error it carries."""

    def __init__(self, api: TransferApi) -> None:
        self._api = api

    def call(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        from accord.cli.http import RemoteError

        try:
            return self._api.call(path, body)
        except RemoteError as failure:
            raise failure.error from None

    def upload(self, conf: dict[str, Any], source: Path) -> dict[str, Any]:
        from accord.cli.http import RemoteError

        try:
            return self._api.upload_file(conf, source)
        except RemoteError as failure:
            raise failure.error from None


def _role_servers(values: tuple[str, ...]) -> dict[str, str]:
    servers: dict[str, str] = {}
    for value in values:
        role, _, url = value.partition("=")
        if not role or not url:
            raise ArgumentError(
                f"--role-server {value!r} is not ROLE_INDEX=URL",
                hint="e.g. --role-server host_0=http://10.0.0.2:9380",
            )
        servers[role.strip()] = url.strip()
    return servers


def _table(rows: list[dict[str, Any]]) -> str:
    headers = ("TASK", "JOB ID", "STATUS", "ELAPSED", "METRICS")
    lines = [
        (
            row["task"],
            row["job_id"] or "-",
            row["status"],
            "-" if row["elapsed_s"] is None else f"{row['elapsed_s']:.1f}s",
            # The first of each metric; --json has the rest (validate data, other models).
            " ".join(f"{key}={value:.4g}" for key, value in row["metrics"].items() if "." not in key)
            or (row["message"][:80] if row["status"] != "success" else ""),
        )
        for row in rows
    ]
    widths = [max(len(str(cells[i])) for cells in [headers, *lines]) for i in range(len(headers) - 1)]
    return "\n".join(
        "  ".join(str(cell).ljust(width) for cell, width in zip(cells[:-1], widths, strict=True))
        + "  "
        + str(cells[-1])
        for cells in [headers, *lines]
    )


@click.command("suite")
@click.option(
    "-i",
    "--input",
    "testsuite",
    required=True,
    type=click.Path(path_type=Path, dir_okay=False),
    help="a FATE-Test testsuite (e.g. examples/dsl/v2/hetero_logistic_regression/*testsuite.json)",
)
@click.option(
    "--data-base-dir",
    type=click.Path(path_type=Path, file_okay=False),
    default=Path("../shared/fate"),
    show_default=True,
    help="where the testsuite's data paths (examples/data/...) start",
)
@click.option("--skip-data", is_flag=True, help="do not upload the testsuite's tables (already there)")
@click.option("--json", "as_json", is_flag=True, help="print the results as JSON instead of a table")
@click.option("--task", "only", multiple=True, help="run only this task (repeatable; deps are run too)")
@click.option("--parallel", type=click.IntRange(1, 64), default=1, show_default=True, help="tasks at once")
@click.option("--timeout", type=float, default=3600.0, show_default=True, help="seconds per task's job")
@click.option(
    "--role-server",
    "role_servers",
    multiple=True,
    metavar="ROLE_INDEX=URL",
    help="the site of a role when it is not --server's (cluster mode), e.g. host_0=http://b:9380",
)
@server_option
@coded_errors
def suite(
    testsuite: Path,
    data_base_dir: Path,
    skip_data: bool,
    as_json: bool,
    only: tuple[str, ...],
    parallel: int,
    timeout: float,
    role_servers: tuple[str, ...],
    server: str | None,
) -> None:
    """Upload a FATE-Test testsuite's data, run its tasks (deps first) and print each one's result.

    Exit status 1 if a task that the site supports failed; tasks using modules or options the site does
    not implement are reported as "not supported".
    """
    from accord.cli.http import resolve_server
    from accord.cli.transfer import TransferApi
    from accord.suite import Outcome, SuiteRunner, load_testsuite
    from accord.suite.testsuite import Testsuite

    loaded = load_testsuite(testsuite, None if skip_data else data_base_dir)
    if only:
        unknown = sorted(set(only) - {task.name for task in loaded.tasks})
        if unknown:
            raise ArgumentError(
                f"the testsuite has no task {', '.join(map(repr, unknown))}",
                hint=f"tasks: {', '.join(task.name for task in loaded.tasks)}",
            )
        wanted = set(only)
        for task in reversed(loaded.tasks):
            if task.name in wanted and task.deps is not None:
                wanted.add(task.deps)
        loaded = Testsuite(
            loaded.path,
            loaded.uploads,
            tuple(task for task in loaded.tasks if task.name in wanted),
            loaded.pipeline_tasks,
        )
    default = resolve_server(server)
    urls = _role_servers(role_servers)
    with contextlib.ExitStack() as stack:
        apis: dict[str, CheckedApi] = {}

        def site(role: str) -> CheckedApi:
            url = urls.get(role, default)
            if url not in apis:
                apis[url] = CheckedApi(stack.enter_context(TransferApi(url, timeout_s=300)))
            return apis[url]

        def progress(line: str) -> None:
            click.echo(line, err=True)

        runner = SuiteRunner(site, timeout_s=timeout, parallel=parallel, progress=progress)
        uploads = runner.upload(loaded)
        results = runner.run(loaded)
    rows = [result.to_dict() for result in results]
    rows += [
        {
            "task": name,
            "status": Outcome.NOT_SUPPORTED.value,
            "job_id": None,
            "elapsed_s": None,
            "metrics": {},
            "message": "pipeline tasks (FATE's Python pipeline scripts) are not supported",
        }
        for name in loaded.pipeline_tasks
    ]
    failed = [result.task for result in results if result.outcome.is_failure]
    summary = {outcome.value: sum(1 for row in rows if row["status"] == outcome.value) for outcome in Outcome}
    if as_json:
        body = {
            "retcode": 0 if not failed else AccordError.code,
            "retmsg": "success" if not failed else f"failed: {', '.join(failed)}",
            "data": {
                "testsuite": str(loaded.path),
                "uploads": [upload.__dict__ for upload in uploads],
                "tasks": rows,
                "summary": summary,
            },
        }
        click.echo(json.dumps(body, indent=4, ensure_ascii=False))
    else:
        click.echo(_table(rows))
        click.echo(" ".join(f"{name}: {count}" for name, count in summary.items() if count))
    if failed:
        sys.exit(1)


SUITE_COMMANDS = [suite]
