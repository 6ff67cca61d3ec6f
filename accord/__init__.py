"""Accord: FATE DSL v2 federated-learning jobs on durable Temporal workflows."""

__version__ = "0.1.0"
