"""HeteroLR: vertically federated logistic regression over guest, hosts and arbiter."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from accord.components.hetero_lr import common
from accord.components.hetero_lr.arbiter import ArbiterTrainer
from accord.components.hetero_lr.guest import GuestTrainer
from accord.components.hetero_lr.host import HostTrainer
from accord.components.hetero_lr.params import HeteroLRParam
from accord.components.hetero_lr.params import check_supported as refuse_unsupported
from accord.components.hetero_lr.scoring import LinearScorer
from accord.components.sdk import ComponentBase, ComponentContext, Dataset, PartyScorer
from accord.errors import ArgumentError, DataFormatError, DataMismatchError


class HeteroLR(ComponentBase[HeteroLRParam]):
    params = HeteroLRParam

    def check_supported(self, params: HeteroLRParam, component: str) -> None:
        if params.need_run:
            refuse_unsupported(params, component)

    def fit(self, ctx: ComponentContext[HeteroLRParam]) -> None:
        if not ctx.params.need_run:
            common.pass_through(ctx)
            return
        if ctx.role == "guest":
            learned = GuestTrainer(ctx).fit()
        elif ctx.role == "host":
            learned = HostTrainer(ctx).fit()
        else:
            learned = ArbiterTrainer(ctx).fit()
        if ctx.role == "arbiter":
            ctx.save_data(common.empty_predictions())
        meta = {name: getattr(ctx.params, name) for name in common.META_FIELDS}
        meta["fit_intercept"] = ctx.params.init_param.fit_intercept
        meta["threshold"] = ctx.params.predict_param.threshold
        meta["key_length"] = ctx.params.encrypt_param.key_length
        ctx.save_model({"meta": meta, "param": learned})
        ctx.tracker.set_summary({key: learned[key] for key in ("iters", "is_converged") if key in learned})

    def scorer(self, model: Mapping[str, Any], *, role: str, component: str) -> PartyScorer:
        """The guest's part holds the intercept and threshold; a host's is its features' weights only."""
        if role not in ("guest", "host"):
            raise ArgumentError(
                f"{component} on {role} holds no features to score with", hint="score on the guest and hosts"
            )
        return LinearScorer.of(model, component=component, module="HeteroLR", with_intercept=role == "guest")

    def predict(self, ctx: ComponentContext[HeteroLRParam]) -> None:
        models = ctx.input_models()
        if not models:
            raise DataFormatError(
                f"{ctx.component} predicts but has no model input", hint="wire a model input"
            )
        model = models[0]
        if ctx.role == "arbiter":
            ctx.save_data(common.empty_predictions())
            return
        slot = "test_data" if ctx.input_data("test_data") else "data"
        dataset = ctx.input_dataset(slot)
        if dataset is None:
            raise DataFormatError(f"{ctx.component} predicts but has no data input", hint="wire test_data")
        wx = dataset.features() @ _coefficients(model, dataset, ctx.component)
        data_type = common.TEST if slot == "test_data" else common.PREDICT
        if ctx.role == "host":
            ctx.transfer.remote(
                {"ids": common.ids_digest(dataset.ids()), "wx": wx}, role="guest", tag="predict.wx", index=0
            )
            ctx.save_data(common.empty_predictions())
            return
        digest = common.ids_digest(dataset.ids())
        for host in ctx.transfer.get(role="host", tag="predict.wx"):
            common.check_aligned(digest, host["ids"], "predict", ctx.component)
            wx = wx + host["wx"]
        param = model["param"]
        scores = common.sigmoid(wx + float(param.get("intercept", 0.0)))
        threshold = float(model["meta"].get("threshold", 0.5))
        ctx.save_data(common.predictions(dataset, scores, threshold, data_type))


def _coefficients(model: dict[str, Any], dataset: Dataset, component: str) -> np.ndarray:
    weight = model["param"]["weight"]
    missing = [name for name in weight if name not in dataset.header]
    if missing or len(weight) != len(dataset.header):
        raise DataMismatchError(
            f"{component}: the model was trained on features {list(weight)[:8]}... but the data has "
            f"{list(dataset.header)[:8]}...",
            hint="predict on data transformed like the training data (same DataTransform model)",
        )
    return np.array([weight[name] for name in dataset.header], dtype=np.float64)
