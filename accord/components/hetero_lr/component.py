"""HeteroLR: vertically federated logistic regression over guest, hosts and arbiter."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

from accord.components.hetero_lr import common, kernels, ovr, tables
from accord.components.hetero_lr.arbiter import ArbiterTrainer
from accord.components.hetero_lr.guest import GuestTrainer
from accord.components.hetero_lr.host import HostTrainer
from accord.components.hetero_lr.params import HeteroLRParam
from accord.components.hetero_lr.params import check_supported as refuse_unsupported
from accord.components.hetero_lr.scoring import LinearScorer
from accord.components.sdk import ComponentBase, ComponentContext, DataTable, PartyScorer, cross_validation
from accord.components.stepwise import runner as stepwise
from accord.errors import ArgumentError, ComponentFeatureUnsupported, DataFormatError


class HeteroLR(ComponentBase[HeteroLRParam]):
    params = HeteroLRParam

    def check_supported(self, params: HeteroLRParam, component: str) -> None:
        if params.need_run:
            refuse_unsupported(params, component)
            cross_validation.check_supported(params.cv_param, component)

    def fit(self, ctx: ComponentContext[HeteroLRParam]) -> None:
        if not ctx.params.need_run:
            common.pass_through(ctx)
            return
        if ctx.params.stepwise_param.need_stepwise and not ctx.params.cv_param.need_cv:
            # FATE runs cross validation when both are asked for; stepwise fits binary models only.
            stepwise.fit(ctx, self._fit_binary, "ic", logistic=True)
            return
        ovr.fit_logistic(ctx, self._fit_binary, "hetero", _meta(ctx.params))

    def _fit_binary(self, ctx: ComponentContext[HeteroLRParam]) -> None:
        meta = _meta(ctx.params)
        if ctx.role == "guest":
            learned = GuestTrainer(ctx, meta).fit()
        elif ctx.role == "host":
            learned = HostTrainer(ctx, meta).fit()
        else:
            learned = ArbiterTrainer(ctx, meta).fit()
        if ctx.role == "arbiter":
            ctx.save_data(common.empty_predictions())
        ctx.save_model({"meta": meta, "param": learned})
        ctx.tracker.set_summary({key: learned[key] for key in ("iters", "is_converged") if key in learned})

    def scorer(self, model: Mapping[str, Any], *, role: str, component: str) -> PartyScorer:
        """The guest's part holds the intercept and threshold; a host's is its features' weights only."""
        if role not in ("guest", "host"):
            raise ArgumentError(
                f"{component} on {role} holds no features to score with", hint="score on the guest and hosts"
            )
        _refuse_unscorable(model, component)
        return LinearScorer.of(model, component=component, module="HeteroLR", with_intercept=role == "guest")

    def predict(self, ctx: ComponentContext[HeteroLRParam]) -> None:
        ovr.predict_logistic(ctx, self._predict_binary)

    def _predict_binary(self, ctx: ComponentContext[HeteroLRParam]) -> None:
        model = ctx.input_models()[0]
        if ctx.role == "arbiter":
            ctx.save_data(common.empty_predictions())
            return
        slot = "test_data" if "test_data" in ctx.data_slots() else "data"
        data = tables.input_rows(ctx, slot)
        if data is None:
            raise DataFormatError(f"{ctx.component} predicts but has no data input", hint="wire test_data")
        weights = common.coefficients(model, data.header, ctx.component)
        if ctx.role == "host":
            tables.send_host_wx(ctx, data, weights)
            ctx.save_data(common.empty_predictions())
            return
        received = tables.receive_host_wx(ctx, data)
        fn = functools.partial(
            kernels.predictions,
            data.meta(),
            weights,
            float(model["param"].get("intercept", 0.0)),
            True,
            float(model["meta"].get("threshold", 0.5)),
            common.TEST if slot == "test_data" else common.PREDICT,
        )
        predicted = data.table.zip_partitions(tables.zip_all(received, kernels.add_wx), fn)
        ctx.save_table(DataTable(predicted, "predict"))


def _meta(params: HeteroLRParam) -> dict[str, Any]:
    meta: dict[str, Any] = {name: getattr(params, name) for name in common.META_FIELDS}
    meta["fit_intercept"] = params.init_param.fit_intercept
    meta["threshold"] = params.predict_param.threshold
    meta["key_length"] = params.encrypt_param.key_length
    return meta


def _refuse_unscorable(model: Mapping[str, Any], component: str) -> None:
    """Online scoring sums one partial per party and row: a one-vs-rest or cv model has no such sum."""
    meta = model.get("meta", {})
    if meta.get("need_one_vs_rest") or meta.get("need_cv"):
        raise ComponentFeatureUnsupported(
            f"{component}: online scoring of a {'one-vs-rest' if meta.get('need_one_vs_rest') else 'cv'} "
            "model is not supported",
            hint="serve a binary model (labels 0 and 1), or score the data with a predict job",
        )
