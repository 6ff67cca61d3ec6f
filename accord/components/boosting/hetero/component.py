"""HeteroSecureBoost and HeteroFastSecureBoost: the components, their models and predict jobs."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np

from accord.components.boosting.hetero import data, eini
from accord.components.boosting.hetero.guest import GuestBooster
from accord.components.boosting.hetero.host import HostBooster, predict_decisions
from accord.components.boosting.hetero.params import (
    HeteroFastSecureBoostParam,
    HeteroSecureBoostParam,
    check_supported,
)
from accord.components.boosting.hetero.scores import guest_scores, objective_of
from accord.components.boosting.hetero.scoring import GuestTreeScorer, HostTreeScorer
from accord.components.sdk import ComponentBase, ComponentContext, Dataset, PartyScorer, cross_validation
from accord.errors import ArgumentError, DataFormatError, DataMismatchError

META_FIELDS = ("task_type", "learning_rate", "num_trees", "bin_num", "use_missing", "zero_as_missing")


class HeteroSecureBoost(ComponentBase[HeteroSecureBoostParam]):
    params = HeteroSecureBoostParam
    module_name: ClassVar[str] = "HeteroSecureBoost"

    def check_supported(self, params: HeteroSecureBoostParam, component: str) -> None:
        if params.need_run:
            check_supported(params, component)
            cross_validation.check_supported(params.cv_param, component)

    def fit(self, ctx: ComponentContext[HeteroSecureBoostParam]) -> None:
        if not ctx.params.need_run:
            data_in = ctx.first_dataset("train_data", "data")
            if data_in is not None:
                ctx.save_data(data_in)
            return
        check_supported(ctx.params, ctx.component, len(ctx.party_ids("host")))
        if ctx.params.cv_param.need_cv:
            # FATE's cv: the folds' models are not kept, only their metrics, summary and fold history.
            cross_validation.fit_with_folds(
                ctx,
                ctx.params.cv_param,
                mode="hetero",
                fit=self._fit_once,
                meta={"module": self.module_name},
                regression=ctx.params.task_type == "regression",
            )
            return
        self._fit_once(ctx)

    def _fit_once(self, ctx: ComponentContext[HeteroSecureBoostParam]) -> None:
        if ctx.role == "guest":
            learned = GuestBooster(ctx).fit()
        elif ctx.role == "host":
            learned = HostBooster(ctx).fit()
            ctx.save_data(_empty())
        else:
            return
        meta = {name: getattr(ctx.params, name) for name in META_FIELDS}
        meta["max_depth"] = ctx.params.tree_param.max_depth
        meta["module"] = self.module_name
        ctx.save_model({"meta": meta, "param": learned})
        if ctx.role == "guest":
            ctx.tracker.set_summary(
                {
                    "loss_history": learned["losses"],
                    "best_iteration": learned["best_round"],
                    "is_converged": learned["is_converged"],
                    "feature_importance": learned["feature_importance"],
                }
            )

    def predict(self, ctx: ComponentContext[HeteroSecureBoostParam]) -> None:
        model = ctx.trained_model("predicts")
        cross_validation.refuse_cv_model(model, ctx.component)
        slot = "test_data" if "test_data" in ctx.data_slots() else "data"
        dataset = ctx.input_dataset(slot)
        if dataset is None:
            raise DataFormatError(f"{ctx.component} predicts but has no data input", hint="wire test_data")
        param = model["param"]
        hosts = len(ctx.party_ids("host"))
        if ctx.role == "host":
            ids = ctx.transfer.get(role="guest", tag="predict.ids", index=0)
            aligned = data.aligned(dataset, ids, "predict", ctx.component)
            _same_header(param["header"], aligned, ctx.component)
            values = data.features_of(aligned, bool(param.get("zero_as_missing")))
            if ctx.params.EINI_inference:
                eini.host_merge(
                    ctx,
                    param["trees"],
                    values,
                    random_mask=ctx.params.EINI_random_mask,
                    complexity_check=ctx.params.EINI_complexity_check,
                )
            else:
                ctx.transfer.remote(
                    predict_decisions(param, values),
                    role="guest",
                    tag=f"predict.decided.{ctx.party_index}",
                    index=0,
                )
            ctx.save_data(_empty())
            return
        _same_header(param["header"], dataset, ctx.component)
        ctx.transfer.remote([str(i) for i in dataset.ids()], role="host", tag="predict.ids")
        values = data.features_of(dataset, bool(param.get("zero_as_missing")))
        if ctx.params.EINI_inference:
            # FATE runs EINI in predict jobs only: training's own scores walk the trees as usual.
            raw = eini.guest_raw_scores(ctx, param, values, ctx.params.encrypt_param.key_length)
            probabilities = objective_of(param).transform(raw)
        else:
            decided = [
                ctx.transfer.get(role="host", tag=f"predict.decided.{i}", index=i) for i in range(hosts)
            ]
            probabilities = guest_scores(param, values, decided)
        ctx.save_data(
            data.predictions(
                dataset,
                probabilities,
                task_type=param["task_type"],
                classes=param["classes"],
                threshold=float(param["threshold"]),
                data_type=data.TEST if slot == "test_data" else data.PREDICT,
            )
        )

    def scorer(self, model: Mapping[str, Any], *, role: str, component: str) -> PartyScorer:
        """The guest walks the trees; a host answers its decisions at its own nodes."""
        cross_validation.refuse_cv_model(model, component)
        if role == "guest":
            return GuestTreeScorer(model, component=component, module=self.module_name)
        if role == "host":
            return HostTreeScorer(model, component=component, module=self.module_name)
        raise ArgumentError(
            f"{component} on {role} holds no part of the trees to score with",
            hint="score on the guest and hosts",
        )


class HeteroFastSecureBoost(HeteroSecureBoost):
    params = HeteroFastSecureBoostParam
    module_name: ClassVar[str] = "HeteroFastSecureBoost"


def _same_header(header: list[str], dataset: Dataset, component: str) -> None:
    if list(dataset.header) != list(header):
        raise DataMismatchError(
            f"{component}: the model was trained on features {header[:8]}... but the data has "
            f"{list(dataset.header)[:8]}...",
            hint="predict on data transformed like the training data (same DataTransform model)",
        )


def _empty() -> Dataset:
    return Dataset.predictions(
        [],
        labels=np.zeros(0),
        predict_result=np.zeros(0),
        predict_score=np.zeros(0),
        predict_detail=[],
        data_type=data.TRAIN,
    )
