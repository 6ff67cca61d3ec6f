"""A deployed version, published with another host table and scored, all through the CLI as a user runs it."""

from __future__ import annotations

import json
from contextlib import AbstractAsyncContextManager
from pathlib import Path

import pytest

from accord.api.app import create_app
from accord.errors import RecordNotFound
from accord.storage import UploadConf
from tests.api.helpers import accord
from tests.http_server import serve_http
from tests.pipeline.test_hetero_lr_examples import DATA
from tests.serving.conftest import GUEST, HOST, Trained

pytestmark = pytest.mark.asyncio(loop_scope="session")

CPN_LIST = "reader_0,data_transform_0,intersection_0,hetero_lr_0"
SUBSET_ROWS = 100


def http_server(trained: Trained) -> AbstractAsyncContextManager[str]:
    """A real uvicorn serving the site's API with online inference, as ``accord server`` does."""
    settings, site = trained.site.settings, trained.site.site
    return serve_http(create_app(site.jobs, serving=site.serving), settings.http_host, settings.http_port)


async def test_deployed_version_with_a_smaller_host_table(trained: Trained, tmp_path: Path) -> None:
    site = trained.site.site
    deployed = await site.deployment.deploy(trained.model_id, trained.job_id, CPN_LIST)
    lines = (DATA / "breast_hetero_host.csv").read_text().splitlines()
    subset = tmp_path / "subset.csv"
    subset.write_text("\n".join(lines[: SUBSET_ROWS + 1]) + "\n")
    site.tables.upload(
        UploadConf(file=str(subset), table_name="breast_host_subset", namespace="experiment", partition=1)
    )
    kept = lines[1].split(",", 1)[0]
    left_out = lines[SUBSET_ROWS + 1].split(",", 1)[0]
    model = ["--model-id", trained.model_id, "--model-version", deployed.model_version]

    async with http_server(trained) as server:
        loaded = await accord(
            "model", "load", *model, "--host-table", f"{HOST}=experiment.breast_host_subset",
            server=server, home=tmp_path,
        )  # fmt: skip
        assert loaded.returncode == 0, loaded.stdout + loaded.stderr
        parties = {p["party"]["party_id"]: p for p in loaded.envelope["data"]["parties"]}
        assert parties[HOST]["rows"] == SUBSET_ROWS and parties[GUEST]["component"] == "hetero_lr_0"
        bound = await accord("model", "bind", "--service-id", "subset", *model, server=server, home=tmp_path)
        assert bound.returncode == 0, bound.stdout + bound.stderr
        refused = await accord("model", "load", *model, "--host-table", "oops", server=server, home=tmp_path)
        assert refused.returncode == 2 and "PARTY_ID=NAMESPACE.NAME" in refused.envelope["retmsg"]

    scored = await accord(
        "predict", "--address", trained.client.address, "--service-id", "subset",
        "--sample-id", kept, "--features", json.dumps(trained.rows[kept]), "--with-partials",
        server=None, home=tmp_path,
    )  # fmt: skip
    assert scored.returncode == 0, scored.stdout + scored.stderr
    data = scored.envelope["data"]
    assert data["model_version"] == deployed.model_version
    assert abs(data["prediction"]["score"] - trained.scores[kept]) <= 1e-9
    assert [p["party_id"] for p in data["prediction"]["partials"]] == [str(GUEST), str(HOST)]

    with pytest.raises(RecordNotFound, match=r"in its lookup table experiment\.breast_host_subset"):
        await trained.client.predict(left_out, trained.rows[left_out], service_id="subset")
