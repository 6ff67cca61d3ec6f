"""FATE-Flow's `flow` commands (issue 18) as a user runs them: a child process against a real uvicorn
serving a real site with a real Temporal, SQLite and Parquet store."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import pytest_asyncio

from accord import __version__
from accord.api.app import create_app
from accord.api.flow import FlowServices
from accord.errors import ReaderTableError
from accord.site.readers import check_reader_tables
from accord.status import JobStatus
from tests.api.helpers import Run, accord, write_json
from tests.conftest import SiteFactory
from tests.http_server import serve_http
from tests.scheduling.harness import COMPONENTS, RunningSite
from tests.scheduling.jobs import chain_dsl, conf

pytestmark = pytest.mark.asyncio(loop_scope="session")


@pytest_asyncio.fixture(loop_scope="session")
async def flow_site(make_site: SiteFactory, tmp_path: Path) -> AsyncIterator[tuple[RunningSite, str, Path]]:
    """A site with the summary test component and an upload root, served with the flow routes."""
    roots = tmp_path / "roots"
    roots.mkdir()
    site = await make_site(component_modules=(COMPONENTS, "tests.api.flow_components"), upload_roots=(roots,))
    services = site.site
    app = create_app(
        services.jobs,
        tracking=services.tracking,
        tables=services.tables,
        models=services.models,
        flow=FlowServices.of(services),
    )
    async with serve_http(app, site.settings.http_host, site.settings.http_port) as address:
        yield site, address, roots


def ok(run: Run) -> dict[str, Any]:
    assert run.returncode == 0, (run.stdout, run.stderr)
    envelope = run.envelope
    assert envelope["retcode"] == 0, envelope
    return envelope


async def test_job_scoped_commands(flow_site: tuple[RunningSite, str, Path], tmp_path: Path) -> None:
    site, server, _ = flow_site
    dsl = write_json(tmp_path / "dsl.json", chain_dsl(["TestSummary"]))
    runtime = write_json(tmp_path / "conf.json", conf(common={"c0": {"max_iter": 4}}))
    submitted = ok(await accord("job", "submit", "-d", dsl, "-c", runtime, server=server, home=tmp_path))
    job_id = submitted["jobId"]
    model_id = submitted["data"]["model_info"]["model_id"]
    assert (await site.site.jobs.wait(job_id)).status == JobStatus.SUCCESS
    party = ("-j", job_id, "-r", "guest", "-p", "9999", "-cpn", "c0")

    tasks = ok(await accord("task", "list", "-l", "10", server=server, home=tmp_path))["data"]
    assert {(t["f_job_id"], t["f_component_name"]) for t in tasks["tasks"]} == {(job_id, "c0")}

    summary = ok(await accord("component", "get-summary", *party, server=server, home=tmp_path))
    assert summary["data"] == {"iterations": 4, "is_converged": True}
    written = ok(
        await accord(
            "component", "get-summary", *party, "-o", str(tmp_path / "out"), server=server, home=tmp_path
        )
    )
    assert Path(written["data"]["path"]).parent == (tmp_path / "out").resolve()

    tables = ok(await accord("component", "output-data-table", *party, server=server, home=tmp_path))
    assert [t["data_name"] for t in tables["data"]] == ["data"]

    deleted = ok(await accord("component", "metric-delete", "-j", job_id, server=server, home=tmp_path))
    assert deleted["data"]["deleted"] >= 1
    metrics = ok(await accord("component", "metric-all", *party, server=server, home=tmp_path))
    assert metrics["data"] == {}
    refused = await accord("component", "metric-delete", "-d", "2025-01", server=server, home=tmp_path)
    assert refused.returncode == 2 and refused.envelope["retcode"] == 101
    assert "date" in refused.envelope["retmsg"]

    held = ok(await accord("resource", "query", server=server, home=tmp_path))["data"]
    assert held["computing_engine_resource"]["f_cores"] == 16 and held["use_resource_job"] == []
    returned = ok(await accord("resource", "return", "-j", job_id, server=server, home=tmp_path))
    assert {(r["role"], r["resource_return_status"]) for r in returned["data"]} == {
        ("guest", False),
        ("host", False),
    }

    # Tags: created, renamed, put on the version, shown with it, taken off, deleted.
    ok(await accord("tag", "create", "-t", "baseline", "-d", "first try", server=server, home=tmp_path))
    duplicate = await accord("tag", "create", "-t", "baseline", server=server, home=tmp_path)
    assert duplicate.returncode == 2
    ok(
        await accord(
            "tag", "update", "-t", "baseline", "--new-tag-name", "best", server=server, home=tmp_path
        )
    )
    ok(await accord("model", "tag-model", "-j", job_id, "-t", "best", server=server, home=tmp_path))
    unknown = await accord(
        "model", "tag-model", "-j", "202001010000000000", "-t", "best", server=server, home=tmp_path
    )
    assert unknown.envelope["retcode"] == 40401
    assert [
        t["name"]
        for t in ok(await accord("model", "tag-list", "-j", job_id, server=server, home=tmp_path))["data"]
    ] == ["best"]
    queried = ok(await accord("tag", "query", "-t", "best", "--with-model", server=server, home=tmp_path))
    assert queried["data"]["models"] == [job_id] and queried["data"]["description"] == "first try"
    listed = ok(await accord("tag", "list", "-l", "5", server=server, home=tmp_path))["data"]["tags"]
    assert [(t["name"], t["model_count"]) for t in listed] == [("best", 1)]
    info = ok(
        await accord(
            "model",
            "get-model-info",
            "--model-id",
            model_id,
            "--model-version",
            job_id,
            "-r",
            "guest",
            server=server,
            home=tmp_path,
        )
    )
    assert [(i["role"], i["tags"]) for i in info["data"]] == [("guest", ["best"])]
    ok(
        await accord(
            "model", "tag-model", "-j", job_id, "-t", "best", "--remove", server=server, home=tmp_path
        )
    )
    ok(await accord("tag", "delete", "-t", "best", server=server, home=tmp_path))
    gone = await accord("tag", "query", "-t", "best", server=server, home=tmp_path)
    assert gone.returncode != 0 and gone.envelope["retcode"] == 40401


async def test_site_commands(flow_site: tuple[RunningSite, str, Path], tmp_path: Path) -> None:
    _, server, _ = flow_site
    providers = ok(await accord("provider", "list", server=server, home=tmp_path))["data"]
    installed = {m for versions in providers.values() for v in versions.values() for m in v["components"]}
    assert {"Reader", "HeteroLR", "TestSummary"} <= installed
    versions = ok(await accord("server", "versions", server=server, home=tmp_path))["data"]
    assert versions["accord"] == __version__ and versions["FATE"].startswith("1.11")


async def test_table_bind_inside_and_outside_the_upload_roots(
    flow_site: tuple[RunningSite, str, Path], tmp_path: Path
) -> None:
    site, server, roots = flow_site
    pq.write_table(pa.table({"id": ["a", "b", "c"], "x0": [0.1, 0.2, 0.3]}), roots / "bound.parquet")
    (roots / "bound.csv").write_text("id,y,x0\n1,0,0.5\n2,1,0.25\n", encoding="utf-8")
    parquet_conf = {
        "namespace": "bound",
        "name": "pq",
        "engine": "PATH",
        "address": {"path": "bound.parquet"},
    }
    bound = ok(
        await accord(
            "table",
            "bind",
            "-c",
            write_json(tmp_path / "b1.json", parquet_conf),
            server=server,
            home=tmp_path,
        )
    )
    assert bound["data"] == {"table_name": "pq", "namespace": "bound", "count": 3}
    csv_conf = {"namespace": "bound", "name": "csv", "head": 1, "address": {"path": str(roots / "bound.csv")}}
    ok(
        await accord(
            "table", "bind", "-c", write_json(tmp_path / "b2.json", csv_conf), server=server, home=tmp_path
        )
    )
    info = ok(await accord("table", "info", "-n", "bound", "-t", "csv", server=server, home=tmp_path))
    assert info["data"]["count"] == 2

    outside = tmp_path / "secret.csv"
    outside.write_text("id,x\n1,2\n", encoding="utf-8")
    for path in (str(outside), "../" + outside.name):
        escape = {"namespace": "bound", "name": "leak", "address": {"path": path}}
        refused = await accord(
            "table", "bind", "-c", write_json(tmp_path / "b3.json", escape), server=server, home=tmp_path
        )
        assert refused.envelope["retcode"] == 10801, refused.stdout
    assert site.site.tables.find("bound", "leak") is None

    history = ok(await accord("data", "upload-history", "-l", "2", server=server, home=tmp_path))["data"]
    assert [(h["namespace"], h["table_name"]) for h in history] == [("bound", "csv"), ("bound", "pq")]

    # FATE's download conf, with -o a directory FATE writes into.
    target = tmp_path / "downloads"
    target.mkdir()
    download = {"namespace": "bound", "table_name": "csv", "output_path": str(target)}
    done = ok(
        await accord(
            "data", "download", "-c", write_json(tmp_path / "d.json", download), server=server, home=tmp_path
        )
    )
    assert Path(done["data"]["output_path"]) == target.resolve() / "bound_csv.csv"
    assert (target / "bound_csv.csv").read_text(encoding="utf-8").splitlines()[0] == "id,y,x0"


async def test_unknown_parameter_suggests_the_nearest(
    flow_site: tuple[RunningSite, str, Path], tmp_path: Path
) -> None:
    _, server, _ = flow_site
    dsl = write_json(tmp_path / "dsl.json", chain_dsl(["TestSummary"]))
    runtime = write_json(tmp_path / "conf.json", conf(common={"c0": {"max_iters": 4}}))
    refused = await accord("job", "submit", "-d", dsl, "-c", runtime, server=server, home=tmp_path)
    assert refused.returncode == 2
    assert refused.envelope["retcode"] == 10126
    assert (
        "max_iters" in refused.envelope["retmsg"] and "did you mean 'max_iter'?" in refused.envelope["retmsg"]
    )


def _reader_job(table: dict[str, str]) -> tuple[dict[str, Any], dict[str, Any]]:
    dsl = {"components": {"reader_0": {"module": "Reader", "output": {"data": ["data"]}}}}
    runtime = conf(
        role={
            "guest": {"0": {"reader_0": {"table": table}}},
            "host": {"0": {"reader_0": {"table": {"name": "breast_hetero_host", "namespace": "experiment"}}}},
        }
    )
    return dsl, runtime


async def test_reader_table_missing_on_the_site_is_refused_at_submit(
    flow_site: tuple[RunningSite, str, Path], tmp_path: Path
) -> None:
    site, _, roots = flow_site
    source = roots / "guest.csv"
    source.write_text("id,y,x0\n1,0,0.5\n", encoding="utf-8")
    from accord.storage import UploadConf

    for name in ("breast_hetero_guest", "breast_hetero_host"):
        upload = UploadConf.parse({"file": str(source), "namespace": "experiment", "table_name": name})
        site.site.tables.upload_file(upload, source)

    dsl, runtime = _reader_job({"name": "breast_hetero_guest", "namespace": "experiment"})
    plan = site.site.jobs.compile(dsl, runtime, "202612060000000000001")
    check_reader_tables(plan, site.site.tables, site.settings.hosts_party)  # both tables exist

    # A standalone site holds every party's tables, so its submit refuses a Reader naming a missing one.
    dsl, runtime = _reader_job({"name": "breast_hetero_gest", "namespace": "experiment"})
    with pytest.raises(ReaderTableError) as refused:
        site.site.jobs.compile(dsl, runtime, "202612060000000000002")
    assert refused.value.code == 10116
    assert "experiment.breast_hetero_gest" in refused.value.retmsg
    assert "did you mean 'experiment.breast_hetero_guest'?" in refused.value.retmsg
    # A site checks only the parties it hosts: a host elsewhere keeps its tables to itself.
    check_reader_tables(plan, site.site.tables, lambda party_id: party_id == 10000)
