"""HeteroLR: vertically federated logistic regression over guest, hosts and arbiter."""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from accord.components.hetero_lr import common, kernels, ovr, tables
from accord.components.hetero_lr.arbiter import ArbiterTrainer
from accord.components.hetero_lr.guest import GuestTrainer
from accord.components.hetero_lr.host import HostTrainer
from accord.components.hetero_lr.params import HeteroLRParam
from accord.components.hetero_lr.params import check_supported as refuse_unsupported
from accord.components.hetero_lr.scoring import LinearScorer
from accord.components.sdk import ComponentBase, ComponentContext, DataTable, PartyScorer, cross_validation
from accord.errors import ArgumentError, ComponentFeatureUnsupported, DataFormatError, DataMismatchError


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
        if ctx.params.cv_param.need_cv:
            # FATE's cv: the folds' models are not kept, only their metrics, summary and fold history.
            cross_validation.fit_with_folds(
                ctx, ctx.params.cv_param, mode="hetero", fit=self._fit_once, meta=_meta(ctx.params)
            )
            return
        self._fit_once(ctx)

    def _fit_once(self, ctx: ComponentContext[HeteroLRParam]) -> None:
        """One training on the context's train_data: binary, or one-vs-rest with more than two classes."""
        classes = ovr.agreed_classes(ctx, "hetero")
        if classes is not None:
            ovr.fit(ctx, classes, self._fit_binary, "hetero")
        else:
            self._fit_binary(ctx)

    def _fit_binary(self, ctx: ComponentContext[HeteroLRParam]) -> None:
        if ctx.role == "guest":
            learned = GuestTrainer(ctx).fit()
        elif ctx.role == "host":
            learned = HostTrainer(ctx).fit()
        else:
            learned = ArbiterTrainer(ctx).fit()
        if ctx.role == "arbiter":
            ctx.save_data(common.empty_predictions())
        ctx.save_model({"meta": _meta(ctx.params), "param": learned})
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
        models = ctx.input_models()
        if not models:
            raise DataFormatError(
                f"{ctx.component} predicts but has no model input", hint="wire a model input"
            )
        model = models[0]
        cross_validation.refuse_cv_model(model, ctx.component)
        if ovr.is_one_vs_rest(model):
            ovr.predict(ctx, model, self._predict_binary)
            return
        self._predict_binary(ctx)

    def _predict_binary(self, ctx: ComponentContext[HeteroLRParam]) -> None:
        model = ctx.input_models()[0]
        if ctx.role == "arbiter":
            ctx.save_data(common.empty_predictions())
            return
        slot = "test_data" if "test_data" in ctx.data_slots() else "data"
        data = tables.input_rows(ctx, slot)
        if data is None:
            raise DataFormatError(f"{ctx.component} predicts but has no data input", hint="wire test_data")
        weights = _coefficients(model, data.header, ctx.component)
        info = tables.table_info(data)
        if ctx.role == "host":
            ctx.transfer.remote(info, role="guest", tag=f"predict.info.{ctx.party_index}", index=0)
            wx = data.table.map_partitions_with_index(
                functools.partial(kernels.rows_wx, data.meta(), weights)
            )
            tables.send_table(ctx, wx, role="guest", tag=f"predict.wx.{ctx.party_index}", index=0)
            ctx.save_data(common.empty_predictions())
            return
        hosts = len(ctx.party_ids("host"))
        received = []
        for index in range(hosts):
            theirs = ctx.transfer.get(role="host", tag=f"predict.info.{index}", index=index)
            tables.check_same_rows(info, theirs, "predict", ctx.component)
            received.append(
                tables.receive_table(
                    ctx, role="host", tag=f"predict.wx.{index}", index=index, partitions=data.table.partitions
                )
            )
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


def _coefficients(model: dict[str, Any], header: Sequence[str], component: str) -> np.ndarray:
    weight = model["param"]["weight"]
    missing = [name for name in weight if name not in header]
    if missing or len(weight) != len(header):
        raise DataMismatchError(
            f"{component}: the model was trained on features {list(weight)[:8]}... but the data has "
            f"{list(header)[:8]}...",
            hint="predict on data transformed like the training data (same DataTransform model)",
        )
    return np.array([weight[name] for name in header], dtype=np.float64)
