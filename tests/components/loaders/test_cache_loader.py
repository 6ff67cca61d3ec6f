"""CacheLoader on a real standalone site, with FATE's intersect cache examples unchanged but for the
``job_id`` FATE leaves empty: the Intersection given the earlier job's cache must find the plain set
intersection of the two uploaded tables' ids (exact)."""

from __future__ import annotations

import csv
import stat
from pathlib import Path
from typing import Any

import pytest

from accord.components.sdk import Dataset, layout
from accord.components.sdk.cache import VALUES_FILE
from accord.errors import ComponentFeatureUnsupported, ComponentParameterError
from tests.pipeline.test_hetero_lr_examples import DATA, upload_breast
from tests.scheduling.harness import RunningSite

from .support import GUEST, HOST, example, succeeded, task_error

pytestmark = pytest.mark.asyncio(loop_scope="session")

LOADER = "cache_loader_0"


def ids_of(side: str) -> set[str]:
    with open(DATA / f"breast_hetero_{side}.csv", newline="") as handle:
        return {row[0] for row in list(csv.reader(handle))[1:]}


def loader_job(method: str, **params: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    dsl, conf = example(
        "intersect", "test_intersect_job_cache_loader_dsl", f"test_intersect_job_{method}_cache_loader_conf"
    )
    for role in ("guest", "host"):
        conf["component_parameters"]["role"][role]["0"][LOADER].update(params)
    return dsl, conf


def cache_dir(site: RunningSite, job_id: str, role: str, party_id: int, component: str) -> Path:
    return layout.cache_dir(layout.party_dir(site.settings.home, job_id, role, party_id), component, "cache")


def output_ids(site: RunningSite, job_id: str, role: str, party_id: int) -> list[str]:
    party = layout.party_dir(site.settings.home, job_id, role, party_id)
    return [str(sid) for sid in Dataset.load(layout.data_path(party, "intersect_0", "data")).ids()]


@pytest.mark.parametrize("method", ["rsa", "ecdh"])
async def test_an_intersection_on_an_earlier_jobs_cache_finds_the_set_intersection(
    site: RunningSite, method: str
) -> None:
    upload_breast(site)
    cache_job = await succeeded(
        site, *example("intersect", "test_intersect_job_cache_dsl", f"test_intersect_job_{method}_cache_conf")
    )
    loaded = await succeeded(site, *loader_job(method, job_id=cache_job))
    for role, party_id in (("guest", GUEST), ("host", HOST)):
        made = cache_dir(site, cache_job, role, party_id, "intersect_0") / VALUES_FILE
        taken = cache_dir(site, loaded, role, party_id, LOADER) / VALUES_FILE
        # The loader's cache output is the earlier one (linked, still private to the party).
        assert taken.read_bytes() == made.read_bytes()
        assert stat.S_IMODE(taken.stat().st_mode) == 0o600
    expected = sorted(ids_of("guest") & ids_of("host"))
    assert len(expected) > 0
    assert sorted(output_ids(site, loaded, "guest", GUEST)) == expected
    # The rsa example keeps the ids on the guest (sync_intersect_ids false); the ecdh one tells the host.
    host_output = layout.data_path(
        layout.party_dir(site.settings.home, loaded, "host", HOST), "intersect_0", "data"
    )
    if method == "ecdh":
        assert sorted(output_ids(site, loaded, "host", HOST)) == expected
    else:
        assert not host_output.exists()
    if method == "ecdh":
        return

    # Ids that name nothing of this party fail the loader with a coded error naming the field.
    error = await task_error(
        site, *loader_job(method, job_id="202001010000000000000"), LOADER, "guest", GUEST
    )
    assert "(40401)" in error and "job_id '202001010000000000000'" in error
    error = await task_error(
        site, *loader_job(method, job_id=cache_job, component_name="reader_0"), LOADER, "host", HOST
    )
    assert "(40401)" in error and "component_name 'reader_0'" in error and "intersect_0" in error
    error = await task_error(
        site, *loader_job(method, job_id=cache_job, cache_name="other"), LOADER, "guest", GUEST
    )
    assert "(40401)" in error and "cache_name 'other'" in error
    # Host 10001 took no part in the cache job: that job's caches belong to its own parties.
    dsl, conf = loader_job(method, job_id=cache_job)
    conf["role"]["host"] = [10001]
    error = await task_error(site, dsl, conf, LOADER, "host", 10001)
    assert "(10805)" in error and "not on host 10001" in error


@pytest.mark.parametrize(
    ("params", "refused", "named"),
    [
        ({}, ComponentParameterError, "job_id"),  # the example as FATE ships it: job_id is ""
        ({"job_id": "1", "component_name": ""}, ComponentParameterError, "component_name"),
        ({"job_id": "1", "cache_name": " "}, ComponentParameterError, "cache_name"),
        ({"job_id": "1", "cache_key": "k"}, ComponentFeatureUnsupported, "cache_key"),
    ],
)
async def test_missing_empty_or_unsupported_ids_are_refused_at_submit(
    site: RunningSite, params: dict[str, Any], refused: type[Exception], named: str
) -> None:
    with pytest.raises(refused) as caught:
        await site.submit(*loader_job("rsa", **params))
    assert named in str(caught.value) and LOADER in str(caught.value)
    assert site.jobs.list_jobs() == []
