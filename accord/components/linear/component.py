"""What HeteroLinR and HeteroPoisson share as components: fit on every role, predict, online scoring."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any, ClassVar, Generic, TypeVar, cast

from accord.components.hetero_lr import common, kernels, tables
from accord.components.hetero_lr.arbiter import ArbiterTrainer
from accord.components.linear import links
from accord.components.linear.guest import GuestTrainer, exposure_index
from accord.components.linear.host import HostTrainer
from accord.components.linear.params import _GeneralizedParam, check_supported
from accord.components.linear.scoring import RegressionScorer
from accord.components.sdk import ComponentBase, ComponentContext, DataTable, PartyScorer, cross_validation
from accord.components.stepwise import runner as stepwise
from accord.errors import (
    ArgumentError,
    ComponentFeatureUnsupported,
    DataFormatError,
)

P = TypeVar("P", bound=_GeneralizedParam)


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
            if ctx.input_models():
                raise ComponentFeatureUnsupported(
                    f"{ctx.component}: cross validation from a model input (warm start) is not supported",
                    hint="drop the model input, or set cv_param.need_cv false to continue training the model",
                )
            # FATE's cv: the folds' models are not kept, only their metrics, summary and fold history.
            cross_validation.fit_with_folds(
                ctx, ctx.params.cv_param, mode="hetero", fit=self._fit_once, meta={}, regression=True
            )
            return
        if ctx.params.stepwise_param.need_stepwise:
            # HeteroLinR's loss is half the mean squared error: FATE scores it with its approximate IC.
            stepwise.fit(ctx, self._fit_once, "ic_approx" if self.link == links.LINR else "ic")
            return
        self._fit_once(ctx)

    def _fit_once(self, ctx: ComponentContext[P]) -> None:
        meta: dict[str, Any] = {name: getattr(ctx.params, name) for name in common.META_FIELDS}
        meta["fit_intercept"] = ctx.params.init_param.fit_intercept
        meta["key_length"] = ctx.params.encrypt_param.key_length
        meta.update(self.extra_meta(ctx.params))
        # A model input is a warm start (hetero_lr/warm.py), run by HeteroLR's trainers these extend.
        if ctx.role == "guest":
            learned = GuestTrainer(ctx, self.link, meta).fit()
        elif ctx.role == "host":
            learned = HostTrainer(ctx, self.link, meta).fit()
        else:
            # The arbiter's part (keys, optimizer, convergence) is HeteroLR's: it reads the same fields.
            learned = ArbiterTrainer(cast(ComponentContext[Any], ctx), meta).fit()
            ctx.save_data(common.empty_predictions())
        ctx.save_model({"meta": meta, "param": learned})
        ctx.tracker.set_summary({key: learned[key] for key in ("iters", "is_converged") if key in learned})

    def extra_meta(self, params: P) -> dict[str, Any]:
        return {}

    def _check_parties(self, ctx: ComponentContext[P]) -> None:
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
        if ctx.role == "host":
            tables.send_host_wx(ctx, data, common.coefficients(model, list(data.header), ctx.component))
            ctx.save_data(common.empty_predictions())
            return
        exposure = exposure_index(ctx, list(data.header))
        header = [name for i, name in enumerate(data.header) if i != exposure]
        weights = common.coefficients(model, header, ctx.component)
        received = tables.receive_host_wx(ctx, data)
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
