"""Online federated inference (HeteroLR, the linear models, SecureBoost), as FATE-Serving does it.

:class:`ServingService` publishes models and scores rows; :class:`ServingServer` serves it to clients as
``accord.serving.v1.Inference``; the parties talk over FederationServing on the federation endpoint.
"""

from accord.serving.inference import InferenceClient, ServingServer
from accord.serving.messages import TableName
from accord.serving.peers import ServingPeers
from accord.serving.service import Answer, Loaded, Sample, Scored, ServingService

__all__ = [
    "Answer",
    "InferenceClient",
    "Loaded",
    "Sample",
    "Scored",
    "ServingPeers",
    "ServingServer",
    "ServingService",
    "TableName",
]
