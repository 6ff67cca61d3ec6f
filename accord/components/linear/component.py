"""What HeteroLinR and HeteroPoisson share as components: fit on every role, predict, online scoring."""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar, Generic, TypeVar, cast

import numpy as np

from accord.components.hetero_lr import common, kernels, tables
from accord.components.hetero_lr.arbiter import ArbiterTrainer
from accord.components.linear import links
from accord.components.linear.guest import GuestTrainer, exposure_index
from accord.components.linear.host import HostTrainer
from accord.components.linear.params import _GeneralizedParam, check_supported
from accord.components.linear.scoring import RegressionScorer
from accord.components.sdk import ComponentBase, ComponentContext, DataTable, PartyScorer, cross_validation
from accord.errors import (
    ArgumentError,
    ComponentFeatureUnsupported,
    DataFormatError,
    DataMismatchError,
)

P = TypeVar("P", bound=_GeneralizedParam)

# The settings a regression model's meta records, as FATE's LinearModelMeta.
META_FIELDS = (
    "penalty",
    "tol",
    "alpha",
    "optimizer",
    "batch_size",
    "learning_rate",
    "max_iter",
    "early_stop",
    "decay",
    "decay_sqrt",
)


class HeteroRegression(ComponentBase[P], Generic[P]):
    module: ClassVar[str]
    link: ClassVar[str]

    def check_supported(self, params: P, component: str) -> None:
        if params.need_run:
            check_supported(params, component, self.module)
            cross_validation.check_supported(params.cv_param, component)

    def fit(self, ctx: ComponentContext[P]) -> None:
        if not ctx.params.need_run:
            common.pass_through(ctx)
            return
        self._check_parties(ctx)
        if ctx.params.cv_param.need_cv:
            # FATE's cv: the folds' models are not kept, only their metrics, summary and fold history.
            cross_validation.fit_with_folds(
                ctx, ctx.params.cv_param, mode="hetero", fit=self._fit_once, meta={}, regression=True
            )
            return
        self._fit_once(ctx)

    def _fit_once(self, ctx: ComponentContext[P]) -> None:
        if ctx.role == "guest":
            learned = GuestTrainer(ctx, self.link).fit()
        elif ctx.role == "host":
            learned = HostTrainer(ctx, self.link).fit()
        else:
            # The arbiter's part (keys, optimizer, convergence) is HeteroLR's: it reads the same fields.
            learned = ArbiterTrainer(cast(ComponentContext[Any], ctx)).fit()
            ctx.save_data(common.empty_predictions())
        meta: dict[str, Any] = {name: getattr(ctx.params, name) for name in META_FIELDS}
        meta["fit_intercept"] = ctx.params.init_param.fit_intercept
        meta["key_length"] = ctx.params.encrypt_param.key_length
        meta.update(self.extra_meta(ctx.params))
        ctx.save_model({"meta": meta, "param": learned})
        ctx.tracker.set_summary({key: learned[key] for key in ("iters", "is_converged") if key in learned})

    def extra_meta(self, params: P) -> dict[str, Any]:
        return {}

    def _check_parties(self, ctx: ComponentContext[P]) -> None:
        if ctx.input_models():
            raise ComponentFeatureUnsupported(
                f"{ctx.component} is given a model to train from (warm start), which Accord's "
                f"{self.module} does not do yet",
                hint="drop the model input of the training component",
            )
        hosts = len(ctx.party_ids("host"))
        if self.link == links.POISSON and hosts > 1:
            # exp(wx_h1)·exp(wx_h2) would be a product of ciphertexts, which Paillier cannot form.
            raise ComponentFeatureUnsupported(
                f"{ctx.component}: HeteroPoisson runs with one host, this job has {hosts} (as FATE)",
                hint="train with a single host",
            )

    def scorer(self, model: Mapping[str, Any], *, role: str, component: str) -> PartyScorer:
        """The guest's part holds the intercept; a host's is its features' weights only."""
        if role not in ("guest", "host"):
            raise ArgumentError(
                f"{component} on {role} holds no features to score with", hint="score on the guest and hosts"
            )
        cross_validation.refuse_cv_model(model, component)
        return RegressionScorer.of(
            model, component=component, module=self.module, link=self.link, with_intercept=role == "guest"
        )

    def predict(self, ctx: ComponentContext[P]) -> None:
        models = ctx.input_models()
        if not models:
            raise DataFormatError(
                f"{ctx.component} predicts but has no model input", hint="wire a model input"
            )
        model = models[0]
        cross_validation.refuse_cv_model(model, ctx.component)
        if ctx.role == "arbiter":
            ctx.save_data(common.empty_predictions())
            return
        slot = "test_data" if "test_data" in ctx.data_slots() else "data"
        data = tables.input_rows(ctx, slot)
        if data is None:
            raise DataFormatError(f"{ctx.component} predicts but has no data input", hint="wire test_data")
        info = tables.table_info(data)
        if ctx.role == "host":
            weights = _coefficients(model, list(data.header), ctx.component)
            ctx.transfer.remote(info, role="guest", tag=f"predict.info.{ctx.party_index}", index=0)
            wx = data.table.map_partitions_with_index(
                functools.partial(kernels.rows_wx, data.meta(), weights)
            )
            tables.send_table(ctx, wx, role="guest", tag=f"predict.wx.{ctx.party_index}", index=0)
            ctx.save_data(common.empty_predictions())
            return
        exposure = exposure_index(ctx, list(data.header))
        header = [name for i, name in enumerate(data.header) if i != exposure]
        weights = _coefficients(model, header, ctx.component)
        received = []
        for index in range(len(ctx.party_ids("host"))):
            theirs = ctx.transfer.get(role="host", tag=f"predict.info.{index}", index=index)
            tables.check_same_rows(info, theirs, "predict", ctx.component)
            received.append(
                tables.receive_table(
                    ctx, role="host", tag=f"predict.wx.{index}", index=index, partitions=data.table.partitions
                )
            )
        fn = functools.partial(
            links.predictions,
            self.link,
            data.meta(),
            exposure,
            weights,
            float(model["param"].get("intercept", 0.0)),
            common.TEST if slot == "test_data" else common.PREDICT,
        )
        predicted = data.table.zip_partitions(tables.zip_all(received, kernels.add_wx), fn)
        ctx.save_table(DataTable(predicted, "predict"))


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
