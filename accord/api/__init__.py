"""The HTTP API: FATE-Flow's v1 paths and envelope."""
