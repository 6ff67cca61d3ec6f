"""FATE's Evaluation module: metrics of binary, multi-class and regression predictions.

``metrics`` is the public entry point of the numeric core (no federation, no I/O): the parameter model,
the per-task metric functions and ``evaluate``, which dispatches on ``eval_type``.
"""
