"""HomoLR: horizontally federated logistic regression over guests, hosts and an arbiter.

Every guest and host holds the same features for different rows and trains locally; the arbiter
averages their models (weighted by row count) through secure aggregation and decides convergence.
Each client's model is the aggregated one, saved with its header; the arbiter keeps the loss history.
Predicting needs no other party: each client scores its own rows.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from accord.components.hetero_lr import common, ovr, tables
from accord.components.hetero_lr.scoring import LinearScorer
from accord.components.homo_lr import blocks
from accord.components.homo_lr.arbiter import ArbiterTrainer
from accord.components.homo_lr.client import ClientTrainer
from accord.components.homo_lr.params import HomoLRParam
from accord.components.homo_lr.params import check_supported as refuse_unsupported
from accord.components.homo_lr.secure_aggregation import clients_of
from accord.components.sdk import (
    ComponentBase,
    ComponentContext,
    Dataset,
    DataTable,
    PartyScorer,
    cross_validation,
)
from accord.components.sdk.scoring import WholeModelScorer
from accord.errors import (
    ArgumentError,
    ComponentFeatureUnsupported,
    ComponentParameterError,
    DataFormatError,
    DataMismatchError,
)

_META_FIELDS = (*common.META_FIELDS, "aggregate_iters", "use_proximal", "mu")


class HomoLR(ComponentBase[HomoLRParam]):
    params = HomoLRParam

    def check_supported(self, params: HomoLRParam, component: str) -> None:
        if params.need_run:
            refuse_unsupported(params, component)
            cross_validation.check_supported(params.cv_param, component)

    def fit(self, ctx: ComponentContext[HomoLRParam]) -> None:
        if not ctx.params.need_run:
            common.pass_through(ctx)
            return
        if len(clients_of(ctx.plan.roles)) < 2:
            raise ComponentParameterError(
                f"{ctx.component}: HomoLR with a single guest or host is not supported: secure aggregation "
                "needs at least two clients to hide each one's model",
                hint="add a host (or a guest) to the job's roles",
            )
        ovr.fit_logistic(ctx, self._fit_binary, "homo", _meta(ctx.params))

    def _fit_binary(self, ctx: ComponentContext[HomoLRParam]) -> None:
        meta = _meta(ctx.params)
        if ctx.role == "arbiter":
            learned = ArbiterTrainer(ctx, meta).fit()
            ctx.save_data(common.empty_predictions())
        else:
            learned = ClientTrainer(ctx, meta).fit()
        ctx.save_model({"meta": meta, "param": learned})
        ctx.tracker.set_summary(
            {key: learned[key] for key in ("iters", "is_converged", "loss_history") if key in learned}
        )

    def scorer(self, model: Mapping[str, Any], *, role: str, component: str) -> PartyScorer:
        """Every client's model is whole: one party scores a row alone."""
        if role not in ("guest", "host"):
            raise ArgumentError(
                f"{component} on {role} holds no model to score with", hint="score on a guest or a host"
            )
        meta = model.get("meta", {})
        if meta.get("need_one_vs_rest") or meta.get("need_cv"):
            raise ComponentFeatureUnsupported(
                f"{component}: online scoring of a {'one-vs-rest' if meta.get('need_one_vs_rest') else 'cv'} "
                "model is not supported",
                hint="serve a binary model (labels 0 and 1), or score the data with a predict job",
            )
        return WholeModelScorer(
            LinearScorer.of(model, component=component, module="HomoLR", with_intercept=True)
        )

    def predict(self, ctx: ComponentContext[HomoLRParam]) -> None:
        ovr.predict_logistic(ctx, self._predict_binary)

    def _predict_binary(self, ctx: ComponentContext[HomoLRParam]) -> None:
        if ctx.role == "arbiter":
            ctx.save_data(common.empty_predictions())
            return
        slot = "test_data" if "test_data" in ctx.data_slots() else "data"
        data = tables.input_rows(ctx, slot)
        if data is None:
            raise DataFormatError(f"{ctx.component} predicts but has no data input", hint="wire test_data")
        model = ctx.input_models()[0]
        coef = model_coefficients(model, data.header, ctx.component)
        threshold = float(model["meta"].get("threshold", 0.5))
        data_type = common.TEST if slot == "test_data" else common.PREDICT
        intercept = float(model["param"].get("intercept", 0.0))
        ctx.save_table(DataTable(blocks.predicted(data, coef, intercept, threshold, data_type), "predict"))


def _meta(params: HomoLRParam) -> dict[str, Any]:
    meta: dict[str, Any] = {name: getattr(params, name) for name in _META_FIELDS}
    meta.update(
        module="HomoLR",
        fit_intercept=params.fit_intercept,
        threshold=params.predict_param.threshold,
        need_one_vs_rest=False,
    )
    return meta


def model_coefficients(model: dict[str, Any], header: Sequence[str], component: str) -> np.ndarray:
    param = model["param"]
    weight: dict[str, float] = param.get("weight", {})
    if set(weight) != set(header) or len(weight) != len(header):
        raise DataMismatchError(
            f"{component}: the model was trained on features {list(weight)[:8]}... but the data has "
            f"{list(header)[:8]}...",
            hint="predict on data transformed like the training data (same DataTransform and FeatureScale)",
        )
    return np.array([weight[name] for name in header], dtype=np.float64)


def predict_scores(model: dict[str, Any], dataset: Dataset, component: str) -> np.ndarray:
    """Scores of ``dataset``'s rows, as predict computes them partition by partition."""
    coef = model_coefficients(model, dataset.header, component)
    return common.sigmoid(dataset.features() @ coef + float(model["param"].get("intercept", 0.0)))
