"""HeteroNN: FATE 1.11's vertically federated neural network on PyTorch (the ``nn`` extra).

The guest holds labels, its bottom model, the guest-held parts of the interactive layer and the top
model with the loss; each host holds its bottom model and its share of its interactive weights. How
values cross is in :mod:`accord.components.nn.hetero.interactive`. This module does not import torch:
a site without the extra still loads it and refuses the job at submit (params.check_supported).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from accord.components.hetero_lr.common import empty_predictions
from accord.components.nn.hetero.params import HeteroNNParam, check_interactive, check_supported
from accord.components.sdk import ComponentBase, ComponentContext, PartyScorer
from accord.errors import ArgumentError, ComponentParameterError, DataFormatError, DataMismatchError

Context = ComponentContext[HeteroNNParam]
# Definitions a warm start takes from the model it continues when the conf leaves them null.
DEFINITIONS = ("bottom_nn_define", "top_nn_define", "interactive", "loss", "optimizer")


class HeteroNN(ComponentBase[HeteroNNParam]):
    params = HeteroNNParam

    def check_supported(self, params: HeteroNNParam, component: str) -> None:
        check_supported(params, component)

    def fit(self, ctx: Context) -> None:
        warm = _warm_model(ctx)
        # A warm start takes the definitions the conf leaves null from the model it continues.
        check_supported(ctx.params, ctx.component, role=None if warm else ctx.role)
        meta = _meta(ctx, warm)
        param = ctx.params
        if ctx.role == "guest":
            from accord.components.nn.hetero.guest import GuestTrainer

            trainer = GuestTrainer(ctx, meta, warm and warm["param"])
            model = trainer.fit(param.epochs, param.batch_size, param.validation_every)
        else:
            from accord.components.nn.hetero.host import HostTrainer

            model = HostTrainer(ctx, meta, warm and warm["param"]).fit()
            ctx.save_data(empty_predictions())
        ctx.save_model(model)

    def predict(self, ctx: Context) -> None:
        from accord.components.nn.hetero import data

        model = ctx.trained_model("predicts")
        _torch_on_site(ctx)
        slot = "test_data" if "test_data" in ctx.data_slots() else "data"
        rows = data.rows(ctx, slot)
        if rows is None:
            raise DataFormatError(f"{ctx.component} predicts but has no data input", hint="wire test_data")
        meta = dict(model["meta"])
        if ctx.role == "guest":
            from accord.components.nn.hetero.guest import GuestTrainer

            scored = GuestTrainer(ctx, meta, model["param"]).predict(
                rows, "test" if slot == "test_data" else "predict"
            )
            ctx.save_data(scored)
        else:
            from accord.components.nn.hetero.host import HostTrainer

            HostTrainer(ctx, meta, model["param"]).predict(rows)
            ctx.save_data(empty_predictions())
        ctx.save_applied_model(model)

    def scorer(self, model: Mapping[str, Any], *, role: str, component: str) -> PartyScorer:
        """A host seals its interactive-layer products ``[[z_h]]`` under the guest's key; the guest
        opens them and runs its bottom, interactive and top models (see nn.hetero.scoring)."""
        from accord.components.nn import define

        define.require_torch(component, "HeteroNN")
        from accord.components.nn.hetero import scoring

        if role == "guest":
            return scoring.GuestNNScorer(model, component)
        if role == "host":
            return scoring.HostNNScorer(model, component)
        raise ArgumentError(
            f"{component} on {role} holds no part of the network to score with",
            hint="score on the guest and hosts",
        )


def _torch_on_site(ctx: Context) -> None:
    from accord.components.nn import define

    define.require_torch(ctx.component, "HeteroNN")


def _warm_model(ctx: Context) -> dict[str, Any] | None:
    models = ctx.input_models()
    if not models:
        return None
    if len(models) > 1:
        raise DataFormatError(
            f"{ctx.component} continues from one model, the DSL gives {len(models)}",
            hint="keep one model input",
        )
    model = models[0]
    if model.get("module") != "HeteroNN" or model.get("meta", {}).get("role") != ctx.role:
        raise DataMismatchError(
            f"{ctx.component} is given a model that is not this party's HeteroNN model to continue from",
            hint="wire in the model output of a HeteroNN component of the same job roles",
        )
    return model


def _meta(ctx: Context, warm: dict[str, Any] | None) -> dict[str, Any]:
    """What the model keeps of the conf: the definitions (the warm model's where the conf gives none)."""
    param = ctx.params
    given: dict[str, Any] = {
        "bottom_nn_define": param.bottom_nn_define,
        "top_nn_define": param.top_nn_define,
        "interactive": param.interactive() if param.interactive_layer_define else None,
        "loss": param.loss_define() if param.loss is not None else None,
        "optimizer": param.optimizer_define() if param.optimizer is not None else None,
    }
    old = dict(warm["meta"]) if warm else {}
    meta = {**old, **{k: v for k, v in given.items() if v is not None}}
    for name in ("loss", "optimizer"):
        if meta.get(name) is None:
            meta[name] = param.loss_define() if name == "loss" else param.optimizer_define()
    if meta.get("interactive") is None:
        raise ComponentParameterError(
            f"{ctx.component}: interactive_layer_define is required (no model to continue from gives one)",
            field="interactive_layer_define",
        )
    if warm is None:
        check_interactive(param, ctx.component)
    if ctx.role == "host":
        meta.pop("top_nn_define", None)
    elif meta.get("top_nn_define") is None:
        raise ComponentParameterError(
            f"{ctx.component}: the guest needs top_nn_define", field="top_nn_define"
        )
    precision = param.floating_point_precision
    meta.update(
        role=ctx.role,
        seed=param.seed,
        task_type=param.task_type,
        interactive_layer_lr=param.interactive_layer_lr,
        key_length=param.encrypt_param.key_length,
        threshold=param.predict_param.threshold,
        precision=precision if precision is not None and 1 <= precision <= 60 else None,
        coae=bool(param.coae_param.enable) or bool(old.get("coae")),
    )
    return meta
