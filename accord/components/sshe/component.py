"""HeteroSSHELR and HeteroSSHELinR: FATE 1.11's secret-sharing + HE linear models (guest and one host)."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any, ClassVar, Generic, TypeVar

import numpy as np

from accord.components.hetero_lr import common, ovr
from accord.components.hetero_lr.scoring import LinearScorer
from accord.components.linear import links
from accord.components.linear.scoring import RegressionScorer
from accord.components.sdk import ComponentBase, ComponentContext, PartyScorer, cross_validation
from accord.components.sshe import model as sshe_model
from accord.components.sshe.params import HeteroSSHELinRParam, HeteroSSHELRParam, check_supported, model_meta
from accord.components.sshe.rows import LINEAR, LOGISTIC
from accord.components.sshe.trainer import SSHETrainer
from accord.errors import ArgumentError, ComponentFeatureUnsupported

P = TypeVar("P", HeteroSSHELRParam, HeteroSSHELinRParam)


class _SSHE(ComponentBase[P], Generic[P]):
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
        once = (
            self._fit_once if self.link == LINEAR else functools.partial(_one_vs_rest, fit=self._fit_binary)
        )
        if ctx.params.cv_param.need_cv:
            cross_validation.fit_with_folds(
                ctx,
                ctx.params.cv_param,
                mode="hetero",
                fit=once,
                meta=model_meta(ctx.params),
                regression=self.link == LINEAR,
            )
            return
        once(ctx)

    def _fit_once(self, ctx: ComponentContext[Any]) -> None:
        self._fit_binary(ctx)

    def _fit_binary(self, ctx: ComponentContext[Any]) -> None:
        learned = SSHETrainer(ctx, self.link).fit()
        ctx.save_model({"meta": model_meta(ctx.params), "param": learned})
        ctx.tracker.set_summary({key: learned[key] for key in ("iters", "is_converged")})

    def predict(self, ctx: ComponentContext[P]) -> None:
        ovr.predict_logistic(ctx, self._predict_binary)

    def _predict_binary(self, ctx: ComponentContext[Any]) -> None:
        sshe_model.predict(ctx, ctx.input_models()[0], self.link)

    def scorer(self, model: Mapping[str, Any], *, role: str, component: str) -> PartyScorer:
        """Online scoring of a model whose weights were revealed to their owners ("respectively")."""
        if role not in ("guest", "host"):
            raise ArgumentError(f"{component} on {role} holds no features to score with")
        cross_validation.refuse_cv_model(model, component)
        meta, param = model.get("meta", {}), model.get("param", {})
        if meta.get("need_one_vs_rest") or "encrypted_weight" in param or "guest_private_key" in param:
            raise ComponentFeatureUnsupported(
                f"{component}: online scoring of a one-vs-rest or encrypted_reveal_in_host {self.module} "
                "model is not supported",
                hint="serve a binary model trained with reveal_strategy respectively, or use a predict job",
            )
        guest = role == "guest"
        if self.link == LOGISTIC:
            return LinearScorer.of(model, component=component, module=self.module, with_intercept=guest)
        return RegressionScorer.of(
            model, component=component, module=self.module, link=links.LINR, with_intercept=guest
        )


def _one_vs_rest(ctx: ComponentContext[Any], *, fit: Any) -> None:
    """More than two classes: FATE's one-vs-rest around the binary protocol (the guest has the labels)."""
    if ctx.role == "guest":
        data = ctx.input_dataset("train_data") or ctx.input_dataset("data")
        labels = data.labels() if data is not None else None
        classes = None if labels is None else sorted({float(v) for v in np.unique(labels)})
        ctx.transfer.remote(classes, role="host", tag="ovr.classes")
    else:
        classes = ctx.transfer.get(role="guest", tag="ovr.classes", index=0)
    if classes is not None and len(classes) > 2:
        ovr.fit(ctx, [float(c) for c in classes], fit, "hetero")
    else:
        fit(ctx)


class HeteroSSHELR(_SSHE[HeteroSSHELRParam]):
    params = HeteroSSHELRParam
    module = "HeteroSSHELR"
    link = LOGISTIC


class HeteroSSHELinR(_SSHE[HeteroSSHELinRParam]):
    params = HeteroSSHELinRParam
    module = "HeteroSSHELinR"
    link = LINEAR
