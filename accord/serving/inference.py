"""``accord.serving.v1.Inference``: the gRPC endpoint clients score rows on, and a client for it.

In cluster mode the endpoint presents the site's federation certificate; a client certificate is
asked for but not required, because callers are applications of the guest's own organisation rather
than other parties (put the port behind the organisation's own access control).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from typing import Any

import grpc

from accord.errors import AccordError, ConnectionFailure, OperatingError
from accord.federation import wire
from accord.federation.proto import serving_pb2 as pb
from accord.federation.proto import serving_pb2_grpc as pb_grpc
from accord.federation.tls import TlsMaterial
from accord.serving.service import Answer, Sample, Scored, ServingService
from accord.settings import Settings

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT_S = 10.0


def _samples(instances: Iterable[pb.Instance]) -> list[Sample]:
    return [Sample(instance.sample_id, dict(instance.feature_data)) for instance in instances]


def _prediction(scored: Scored, with_partials: bool) -> pb.Prediction:
    partials = (
        [pb.PartyScore(role=p.role, party_id=p.party_id, partial=value) for p, value in scored.partials]
        if with_partials
        else []
    )
    return pb.Prediction(
        sample_id=scored.sample_id, score=scored.score, label=scored.label, partials=partials
    )


class InferenceServicer(pb_grpc.InferenceServicer):
    def __init__(self, service: ServingService) -> None:
        self._service = service

    async def Predict(
        self, request: pb.PredictRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> pb.PredictReply:
        answer = await self._score(request, [request.instance], context)
        prediction = _prediction(answer.predictions[0], request.with_partials)
        return pb.PredictReply(
            model_id=answer.model_id, model_version=answer.model_version, prediction=prediction
        )

    async def BatchPredict(
        self, request: pb.BatchPredictRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> pb.BatchPredictReply:
        answer = await self._score(request, request.instances, context)
        return pb.BatchPredictReply(
            model_id=answer.model_id,
            model_version=answer.model_version,
            predictions=[_prediction(scored, request.with_partials) for scored in answer.predictions],
        )

    async def _score(
        self,
        request: pb.PredictRequest | pb.BatchPredictRequest,
        instances: Iterable[pb.Instance],
        context: grpc.aio.ServicerContext[Any, Any],
    ) -> Answer:
        try:
            return await self._service.score(
                _samples(instances),
                service_id=request.service_id,
                model_id=request.model_id,
                model_version=request.model_version,
            )
        except AccordError as error:
            await context.abort(wire.status_of(error), error.retmsg, wire.error_metadata(error))
        except Exception as error:
            log.exception("online inference failed")
            internal = AccordError(
                f"scoring failed on the guest's site: {type(error).__name__}: {error}",
                hint="see the site's log",
            )
            await context.abort(grpc.StatusCode.INTERNAL, internal.retmsg, wire.error_metadata(internal))
        raise AssertionError("context.abort returned")


class ServingServer:
    """Serves Inference on ``host:port``; port 0 picks a free one."""

    def __init__(
        self,
        service: ServingService,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        tls: TlsMaterial | None = None,
    ) -> None:
        self._service = service
        self._host = host
        self._port = port
        self._tls = tls
        self._server: grpc.aio.Server | None = None

    @classmethod
    def from_settings(cls, service: ServingService, settings: Settings) -> ServingServer:
        return cls(
            service,
            host=settings.serving_host,
            port=settings.serving_port,
            tls=TlsMaterial.from_settings(settings),
        )

    @property
    def address(self) -> str:
        return f"{self._host}:{self._port}"

    async def start(self) -> int:
        if self._server is not None:
            raise OperatingError(f"the serving endpoint on {self.address} is already started")
        server = wire.new_server()
        pb_grpc.add_InferenceServicer_to_server(InferenceServicer(self._service), server)  # type: ignore[no-untyped-call]
        bound = wire.listen(
            server,
            f"{self._host}:{self._port}",
            # Applications are not federation sites: they need the CA, not a certificate of their own.
            None if self._tls is None else self._tls.server_credentials(require_client_auth=False),
            what="the online inference endpoint",
            hint="free the port or set another serving_port (ACCORD_SERVING_PORT)",
        )
        await server.start()
        self._server, self._port = server, bound
        log.info("online inference listening on %s", self.address)
        return bound

    async def stop(self, grace: float | None = None) -> None:
        server, self._server = self._server, None
        if server is not None:
            await server.stop(grace)


class InferenceClient:
    """A client of the Inference endpoint; errors come back as the site's coded errors."""

    def __init__(
        self,
        address: str,
        *,
        ca: bytes | None = None,
        cert: bytes | None = None,
        key: bytes | None = None,
        timeout_s: float = DEFAULT_TIMEOUT_S,
    ) -> None:
        """``ca`` turns TLS on (the federation CA that signed the site's certificate); ``cert`` and
        ``key`` add a client certificate, which the endpoint accepts but does not require."""
        self.address = address
        self.timeout_s = timeout_s
        options = list(wire.MESSAGE_OPTIONS)
        if ca is None:
            self._channel = grpc.aio.insecure_channel(address, options=options)
        else:
            credentials = grpc.ssl_channel_credentials(  # type: ignore[no-untyped-call]
                root_certificates=ca, private_key=key, certificate_chain=cert
            )
            self._channel = grpc.aio.secure_channel(address, credentials, options=options)
        self._stub = pb_grpc.InferenceStub(self._channel)  # type: ignore[no-untyped-call]

    @classmethod
    def from_settings(cls, settings: Settings, *, address: str | None = None) -> InferenceClient:
        """A client of this site's endpoint, with its TLS material in cluster mode."""
        tls = TlsMaterial.from_settings(settings)
        target = address or f"{settings.serving_host}:{settings.serving_port}"
        if tls is None:
            return cls(target)
        return cls(target, ca=tls.ca, cert=tls.cert, key=tls.key)

    async def close(self) -> None:
        await self._channel.close()

    async def predict(
        self,
        sample_id: str,
        features: Mapping[str, float],
        *,
        service_id: str = "",
        model_id: str = "",
        model_version: str = "",
        with_partials: bool = False,
    ) -> pb.PredictReply:
        request = pb.PredictRequest(
            service_id=service_id,
            model_id=model_id,
            model_version=model_version,
            instance=pb.Instance(sample_id=sample_id, feature_data=features),
            with_partials=with_partials,
        )
        reply: pb.PredictReply = await self._call(self._stub.Predict, request)
        return reply

    async def batch_predict(
        self,
        instances: Iterable[tuple[str, Mapping[str, float]]],
        *,
        service_id: str = "",
        model_id: str = "",
        model_version: str = "",
        with_partials: bool = False,
    ) -> pb.BatchPredictReply:
        request = pb.BatchPredictRequest(
            service_id=service_id,
            model_id=model_id,
            model_version=model_version,
            instances=[pb.Instance(sample_id=sid, feature_data=values) for sid, values in instances],
            with_partials=with_partials,
        )
        reply: pb.BatchPredictReply = await self._call(self._stub.BatchPredict, request)
        return reply

    async def _call(self, rpc: Any, request: Any) -> Any:
        try:
            return await rpc(request, timeout=self.timeout_s)
        except grpc.aio.AioRpcError as rpc_error:
            coded = wire.error_from_metadata(rpc_error.trailing_metadata(), rpc_error.details() or "")
            if coded is not None:
                raise coded from None
            raise ConnectionFailure(
                f"the online inference endpoint {self.address} failed: "
                f"{rpc_error.code().name}: {rpc_error.details()}",
                hint="check that the guest's site runs and serves on this address (serving_port)",
                address=self.address,
            ) from None
