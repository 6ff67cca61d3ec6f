"""The jobs FATE's benchmark-quality pipeline scripts build, as DSL v2 and conf v2, from an entry's YAML.

FATE 1.11's ``examples/benchmark_quality`` scripts are Python pipelines: reader → data transform →
(intersection) → the model → Evaluation of the model's training predictions. Each builder here makes
the same job from the same YAML with the values the script sets beside it (e.g. HeteroLR's
``shuffle: false``, ``tol: 1e-5``, ``init_param.random_seed: 103`` and 1024-bit keys; RSA
intersection with 2048-bit keys). The scripts' second model component (the trained model predicting
the same rows, for FATE-Test's ``distribution_metrics``, which the local reference never reports and
so are never compared) is left out.

Scripts are keyed by their folder and file name: the folders reuse names (``pipeline-lr-binary.py``
is HeteroLR in ``hetero_lr`` and HomoLR in ``homo_lr``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

GUEST, HOST = 9999, 10000
NAMESPACE = "experiment"
EVALUATION = "evaluation_0"
REGRESSION_METRICS = ["r2_score", "mean_squared_error", "root_mean_squared_error", "explained_variance"]
_RSA_INTERSECTION = {
    "intersect_method": "rsa",
    "rsa_params": {"hash_method": "sha256", "final_hash_method": "sha256", "key_length": 2048},
}


@dataclass(frozen=True)
class Tables:
    """The tables a job reads: the guest's and the host's, in the benchmark's namespace."""

    guest: str
    host: str
    namespace: str = NAMESPACE


@dataclass(frozen=True)
class _Recipe:
    module: str
    component: str
    eval_type: str
    params: Callable[[Mapping[str, Any]], dict[str, Any]]
    hetero: bool = True
    arbiter: bool = True
    # The intersection's parameters (None: FATE's defaults); homo jobs have none.
    intersection: Mapping[str, Any] | None = None
    # What the guest's DataTransform is told beyond with_label and the dense output.
    label: Callable[[Mapping[str, Any]], dict[str, Any]] = lambda yaml: {}


def _lr_common(yaml: Mapping[str, Any]) -> dict[str, Any]:
    return {
        key: yaml[key] for key in ("penalty", "max_iter", "alpha", "learning_rate", "optimizer", "batch_size")
    }


def _hetero_lr(yaml: Mapping[str, Any], *, binary: bool) -> dict[str, Any]:
    params = {
        **_lr_common(yaml),
        "shuffle": False,
        "masked_rate": 0,
        "early_stop": "diff",
        "init_param": {
            "init_method": yaml.get("init_method", "random_uniform"),
            "random_seed": yaml.get("random_seed", 103),
        },
        "encrypt_param": {"key_length": 1024},
    }
    if binary:
        # The binary script alone sets these (floating_point_precision from the YAML, null when absent).
        params.update(tol=1e-5, floating_point_precision=yaml.get("floating_point_precision"))
    return params


def _sshe_lr(yaml: Mapping[str, Any], *, binary: bool) -> dict[str, Any]:
    params = {
        **_lr_common(yaml),
        "early_stop": "diff",
        "init_param": {
            "init_method": yaml.get("init_method", "random_uniform"),
            "random_seed": yaml.get("random_seed", 103),
            "fit_intercept": True,
        },
        "encrypt_param": {"key_length": 1024},
        "reveal_strategy": yaml.get("reveal_strategy", "respectively"),
        "reveal_every_iter": True,
    }
    if binary:
        params["tol"] = 1e-4
    return params


def _homo_lr(yaml: Mapping[str, Any], *, binary: bool) -> dict[str, Any]:
    return {
        **{key: yaml[key] for key in ("penalty", "max_iter", "alpha", "learning_rate")},
        "optimizer": yaml.get("optimizer", "sgd"),
        "batch_size": yaml.get("batch_size", -1),
        # The multi-class script always starts from random_uniform weights.
        "init_param": {
            "init_method": yaml.get("init_method", "random_uniform") if binary else "random_uniform"
        },
    }


def _linr(yaml: Mapping[str, Any], *, sshe: bool) -> dict[str, Any]:
    keys = (
        "penalty",
        "max_iter",
        "optimizer",
        "learning_rate",
        "init_param",
        "encrypt_param",
        "batch_size",
        "alpha",
    )
    params = {key: yaml[key] for key in keys}
    if sshe:
        params.update(
            early_stop=yaml["early_stop"],
            reveal_strategy=yaml["reveal_strategy"],
            tol=1e-6,
            reveal_every_iter=True,
        )
    return params


def _float_label(yaml: Mapping[str, Any]) -> dict[str, Any]:
    return {"label_name": yaml["label_name"], "label_type": "float"}


RECIPES: dict[tuple[str, str], _Recipe] = {
    ("hetero_lr", "pipeline-lr-binary.py"): _Recipe(
        "HeteroLR",
        "hetero_lr_0",
        "binary",
        lambda y: _hetero_lr(y, binary=True),
        intersection=_RSA_INTERSECTION,
    ),
    ("hetero_lr", "pipeline-lr-multi.py"): _Recipe(
        "HeteroLR",
        "hetero_lr_0",
        "multi",
        lambda y: _hetero_lr(y, binary=False),
        intersection=_RSA_INTERSECTION,
    ),
    # FATE's SSHE scripts list an arbiter among the parties, which the SSHE models never use: left out.
    ("hetero_lr", "pipeline-sshe-lr-binary.py"): _Recipe(
        "HeteroSSHELR",
        "hetero_sshe_lr_0",
        "binary",
        lambda y: _sshe_lr(y, binary=True),
        arbiter=False,
        intersection=_RSA_INTERSECTION,
    ),
    ("hetero_lr", "pipeline-sshe-lr-multi.py"): _Recipe(
        "HeteroSSHELR",
        "hetero_sshe_lr_0",
        "multi",
        lambda y: _sshe_lr(y, binary=False),
        arbiter=False,
        intersection=_RSA_INTERSECTION,
    ),
    ("homo_lr", "pipeline-lr-binary.py"): _Recipe(
        "HomoLR", "homo_lr_0", "binary", lambda y: _homo_lr(y, binary=True), hetero=False
    ),
    ("homo_lr", "pipeline-lr-multi.py"): _Recipe(
        "HomoLR", "homo_lr_0", "multi", lambda y: _homo_lr(y, binary=False), hetero=False
    ),
    ("hetero_linear_regression", "fate-linr.py"): _Recipe(
        "HeteroLinR",
        "hetero_linr_0",
        "regression",
        lambda y: _linr(y, sshe=False),
        intersection=_RSA_INTERSECTION,
        label=_float_label,
    ),
    ("hetero_linear_regression", "fate-sshe-linr.py"): _Recipe(
        "HeteroSSHELinR",
        "hetero_sshe_linr_0",
        "regression",
        lambda y: _linr(y, sshe=True),
        arbiter=False,
        intersection={},
        label=_float_label,
    ),
}


def is_pipeline_script(folder: str, script: str) -> bool:
    return (folder, script.rsplit("/", 1)[-1]) in RECIPES


def build_job(
    folder: str, script: str, yaml: Mapping[str, Any], tables: Tables
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The DSL and conf the script builds from ``yaml``; KeyError for a script not listed here."""
    recipe = RECIPES[(folder, script.rsplit("/", 1)[-1])]
    model_input = "intersection_0.data" if recipe.hetero else "data_transform_0.data"
    components: dict[str, Any] = {
        "reader_0": {"module": "Reader", "output": {"data": ["data"]}},
        "data_transform_0": {
            "module": "DataTransform",
            "input": {"data": {"data": ["reader_0.data"]}},
            "output": {"data": ["data"], "model": ["model"]},
        },
    }
    if recipe.hetero:
        components["intersection_0"] = {
            "module": "Intersection",
            "input": {"data": {"data": ["data_transform_0.data"]}},
            "output": {"data": ["data"]},
        }
    components[recipe.component] = {
        "module": recipe.module,
        "input": {"data": {"train_data": [model_input]}},
        "output": {"data": ["data"], "model": ["model"]},
    }
    components[EVALUATION] = {
        "module": "Evaluation",
        "input": {"data": {"data": [f"{recipe.component}.data"]}},
        "output": {"data": ["data"]},
    }
    evaluation: dict[str, Any] = {"eval_type": recipe.eval_type}
    if recipe.eval_type == "regression":
        evaluation["metrics"] = list(REGRESSION_METRICS)
    common: dict[str, Any] = {recipe.component: recipe.params(yaml), EVALUATION: evaluation}
    if recipe.intersection is not None:
        common["intersection_0"] = dict(recipe.intersection)
    guest = {
        "reader_0": {"table": {"name": tables.guest, "namespace": tables.namespace}},
        "data_transform_0": {"with_label": True, "output_format": "dense", **recipe.label(yaml)},
    }
    host: dict[str, Any] = {
        "reader_0": {"table": {"name": tables.host, "namespace": tables.namespace}},
        # Homo clients both hold labels; a hetero host has none.
        "data_transform_0": {"with_label": not recipe.hetero},
    }
    if not recipe.hetero:
        # The host's evaluation does not run: the benchmark reads the guest's.
        host[EVALUATION] = {"need_run": False}
    roles: dict[str, list[int]] = {"guest": [GUEST], "host": [HOST]}
    if recipe.arbiter:
        roles["arbiter"] = [HOST]
    conf = {
        "dsl_version": 2,
        "initiator": {"role": "guest", "party_id": GUEST},
        "role": roles,
        "component_parameters": {"common": common, "role": {"guest": {"0": guest}, "host": {"0": host}}},
    }
    return {"components": components}, conf
