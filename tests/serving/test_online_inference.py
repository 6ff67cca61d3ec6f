"""Online inference of FATE's breast HeteroLR model: every row scores online as the training job scored it.

Real site, real Temporal training job, real gRPC (Inference and FederationServing on loopback).
"""

from __future__ import annotations

import math

import pytest

from accord.errors import ArgumentError, ConflictError, PermissionDenied, RecordNotFound
from accord.federation.routes import RouteTable
from accord.identity import Party
from accord.model_store import VersionKey
from accord.serving import Sample, ServingPeers
from accord.serving.messages import PartialScore
from tests.serving.conftest import GUEST, HOST, SERVICE_ID, Trained, call, restarted_service

pytestmark = pytest.mark.asyncio(loop_scope="session")

TOLERANCE = 1e-9


async def test_load_publishes_on_every_party(trained: Trained) -> None:
    assert trained.loaded["retcode"] == 0, trained.loaded
    parties = {(p["party"]["role"], p["party"]["party_id"]): p for p in trained.loaded["data"]["parties"]}
    assert set(parties) == {("guest", GUEST), ("host", HOST)}
    assert parties["guest", GUEST]["features"] == 10
    host = parties["host", HOST]
    # By default a host looks rows up in the table its reader read in training.
    assert host["table"] == {"namespace": "experiment", "name": "breast_hetero_host"}
    assert (host["features"], host["rows"]) == (20, 569)


async def test_every_row_scores_as_in_training(trained: Trained) -> None:
    assert len(trained.rows) == len(trained.scores) == 569
    for sample_id, features in trained.rows.items():
        reply = await trained.client.predict(sample_id, features, service_id=SERVICE_ID)
        assert reply.model_id == trained.model_id and reply.model_version == trained.job_id
        assert reply.prediction.sample_id == sample_id
        assert abs(reply.prediction.score - trained.scores[sample_id]) <= TOLERANCE, sample_id
        assert reply.prediction.label == trained.labels[sample_id]
        assert not reply.prediction.partials


async def test_batch_scores_as_in_training(trained: Trained) -> None:
    reply = await trained.client.batch_predict(
        trained.rows.items(), model_id=trained.model_id, model_version=trained.job_id, with_partials=True
    )
    assert [p.sample_id for p in reply.predictions] == list(trained.rows)
    for prediction in reply.predictions:
        assert abs(prediction.score - trained.scores[prediction.sample_id]) <= TOLERANCE
        assert prediction.label == trained.labels[prediction.sample_id]
        parties = [(p.role, p.party_id) for p in prediction.partials]
        assert parties == [("guest", GUEST), ("host", HOST)]
        logit = sum(p.partial for p in prediction.partials)
        assert abs(1.0 / (1.0 + math.exp(-logit)) - prediction.score) <= TOLERANCE


async def test_errors_say_what_is_wrong(trained: Trained) -> None:
    row = trained.rows["133"]
    with pytest.raises(RecordNotFound, match="no service id 'nope'"):
        await trained.client.predict("133", row, service_id="nope")
    with pytest.raises(RecordNotFound, match="host 10000 has no row for sample id 'no-such-row'"):
        await trained.client.predict("no-such-row", row, service_id=SERVICE_ID)
    # A batch is answered whole or not at all.
    with pytest.raises(RecordNotFound, match=r"host 10000 .* 'no-such-row'"):
        await trained.client.batch_predict([("133", row), ("no-such-row", row)], service_id=SERVICE_ID)
    without = {name: value for name, value in row.items() if name not in ("x3", "x7")}
    with pytest.raises(ArgumentError, match="lacks 2 of the guest's 10 features: x3, x7"):
        await trained.client.predict("133", without, service_id=SERVICE_ID)
    with pytest.raises(ConflictError, match="not loaded"):
        await trained.client.predict("133", row, model_id=trained.model_id, model_version="0")
    with pytest.raises(ArgumentError, match="names no model"):
        await trained.client.predict("133", row)

    async with trained.api() as http:
        model = {"model_id": trained.model_id, "model_version": trained.job_id}
        unloaded = await call(
            http, "/v1/model/bind", service_id="x", model_id=trained.model_id, model_version="0"
        )
        assert unloaded["retcode"] == ConflictError.code and "load it" in unloaded["retmsg"]
        not_a_host = await call(
            http, "/v1/model/load", tables={"9999": {"namespace": "a", "name": "b"}}, **model
        )
        assert not_a_host["retcode"] == ArgumentError.code and "not hosts" in not_a_host["retmsg"]
        unknown = await call(http, "/v1/model/load", model_id=trained.model_id, model_version="0")
        assert unknown["retcode"] == RecordNotFound.code


async def test_only_the_models_guest_may_ask_a_host(trained: Trained) -> None:
    settings = trained.site.settings
    peers = ServingPeers(RouteTable({}, default=settings.federation_address))
    command = PartialScore(
        model_id=trained.model_id,
        model_version=trained.job_id,
        party=Party(role="host", party_id=HOST),
        sample_ids=["133"],
    )
    try:
        (partial,) = (await peers.partial_score(command, source=Party(role="guest", party_id=GUEST))).partials
        with pytest.raises(PermissionDenied, match="only its guests"):
            await peers.partial_score(command, source=Party(role="arbiter", party_id=HOST))
    finally:
        await peers.close()
    assert isinstance(partial, float)


async def test_a_restarted_service_serves_the_published_models(trained: Trained) -> None:
    site = trained.site.site
    again = restarted_service(trained)
    try:
        await again.restore()
        keys = {
            VersionKey(trained.model_id, trained.job_id, role, party)
            for role, party in (("guest", GUEST), ("host", HOST))
        }
        assert keys <= set(again.registry.parts)
        host = VersionKey(trained.model_id, trained.job_id, "host", HOST)
        assert again.registry.parts[host].partials == site.serving.registry.parts[host].partials
        assert again.registry.services[SERVICE_ID].model_version == trained.job_id
        sample = next(iter(trained.rows))
        answer = await again.score([Sample(sample, trained.rows[sample])], service_id=SERVICE_ID)
        assert abs(answer.predictions[0].score - trained.scores[sample]) <= TOLERANCE
    finally:
        await again.close()
