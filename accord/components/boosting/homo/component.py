"""HomoSecureBoost: gradient-boosted trees over horizontally split data (guests and hosts hold rows of
the same features, with labels), coordinated by an arbiter that sees only securely aggregated sums.

Every client saves the whole model (the same trees on each); the arbiter keeps the loss history.
Predicting needs no other party: each client scores its own rows. A model input in a training job
warm-starts: the new trees are added after the given ones, as FATE's boosting does.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from accord.components.boosting.homo import blocks
from accord.components.boosting.homo.arbiter import Arbiter
from accord.components.boosting.homo.client import Client
from accord.components.boosting.homo.model import MODULE, PREDICT, TEST, TRAIN, VALIDATE, Booster
from accord.components.boosting.homo.params import HomoSecureBoostParam
from accord.components.boosting.homo.params import check_supported as refuse_unsupported
from accord.components.hetero_lr import common, tables
from accord.components.hetero_lr.tables import Concatenated
from accord.components.homo_lr.secure_aggregation import clients_of
from accord.components.sdk import ComponentBase, ComponentContext, DataTable, PartyScorer, cross_validation
from accord.components.sdk.scoring import HostAnswers
from accord.errors import ArgumentError, ComponentParameterError, DataFormatError

Context = ComponentContext[HomoSecureBoostParam]


def model_meta(param: HomoSecureBoostParam, epochs: int) -> dict[str, Any]:
    return {
        "module": MODULE,
        "task_type": param.task_type,
        "objective_param": param.objective_param.model_dump(),
        "learning_rate": param.learning_rate,
        "num_trees": epochs,
        "bin_num": param.bin_num,
        "multi_mode": param.multi_mode,
        "use_missing": param.missing_used,
        "zero_as_missing": param.zero_missing,
        "threshold": param.predict_param.threshold,
        "n_iter_no_change": param.n_iter_no_change,
        "tol": param.tol,
        "subsample_feature_rate": param.subsample_feature_rate,
        "tree_param": param.tree_param.model_dump(),
    }


class HomoSecureBoost(ComponentBase[HomoSecureBoostParam]):
    params = HomoSecureBoostParam

    def check_supported(self, params: HomoSecureBoostParam, component: str) -> None:
        refuse_unsupported(params, component)
        cross_validation.check_supported(params.cv_param, component)

    def fit(self, ctx: Context) -> None:
        if ctx.params.cv_param.need_cv:
            # FATE's cv: each client's own folds; the folds' models are not kept, only their metrics.
            cross_validation.fit_with_folds(
                ctx,
                ctx.params.cv_param,
                mode="homo",
                fit=self._fit_once,
                meta={"module": MODULE},
                regression=ctx.params.task_type == "regression",
            )
            return
        self._fit_once(ctx)

    def _fit_once(self, ctx: Context) -> None:
        if len(clients_of(ctx.plan.roles)) < 2:
            raise ComponentParameterError(
                f"{ctx.component}: HomoSecureBoost with a single guest or host is not supported: secure "
                "aggregation needs at least two clients to hide each one's histograms",
                hint="add a host (or a guest) to the job's roles",
            )
        models = ctx.input_models()
        previous = models[0] if models else None
        if previous is not None and previous.get("meta", {}).get("module") != MODULE:
            raise DataFormatError(
                f"{ctx.component} warm-starts from a model that is not a {MODULE} model",
                hint=f"wire the model output of a {MODULE} component",
            )
        if ctx.role == "arbiter":
            learned = Arbiter(ctx).fit(previous)
            ctx.save_data(common.empty_predictions())
            ctx.save_model({"meta": model_meta(ctx.params, learned["epochs"]), "param": learned})
            ctx.tracker.set_summary(
                {"loss_history": learned["loss_history"], "is_converged": learned["is_converged"]}
            )
            return
        learned = Client(ctx).fit(previous)
        model = {"meta": model_meta(ctx.params, learned["epochs"]), "param": learned}
        ctx.save_model(model)
        importance = sorted(learned["feature_importance"].items(), key=lambda item: -item[1])
        if importance:
            ctx.tracker.log_metric(
                "train",
                "feature_importance",
                [[name, value] for name, value in importance],
                metric_type="FEATURE_IMPORTANCE",
                meta={"type": ctx.params.tree_param.feature_importance_type},
            )
        ctx.tracker.set_summary(
            {
                "feature_importance": dict(importance),
                "loss_history": learned["loss_history"],
                "is_converged": learned["is_converged"],
            }
        )
        train = tables.input_rows(ctx, "train_data", "data")
        validate = tables.input_rows(ctx, "validate_data")
        assert train is not None  # the client has read it already
        outputs = [blocks.predicted(train, model, ctx.component, TRAIN)]
        if validate is not None:
            outputs.append(blocks.predicted(validate, model, ctx.component, VALIDATE))
        ctx.save_table(DataTable(Concatenated(outputs), "predict"))

    def predict(self, ctx: Context) -> None:
        if ctx.role == "arbiter":
            ctx.save_data(common.empty_predictions())
            return
        model = ctx.trained_model("predicts")
        cross_validation.refuse_cv_model(model, ctx.component)
        Booster.of(model, ctx.component)  # refuses a model of another kind before reading any row
        slot = "test_data" if "test_data" in ctx.data_slots() else "data"
        data = tables.input_rows(ctx, slot)
        if data is None:
            raise DataFormatError(f"{ctx.component} predicts but has no data input", hint="wire test_data")
        data_type = TEST if slot == "test_data" else PREDICT
        ctx.save_table(DataTable(blocks.predicted(data, model, ctx.component, data_type), "predict"))

    def scorer(self, model: Mapping[str, Any], *, role: str, component: str) -> PartyScorer:
        """Every client's model is whole: one party scores a row alone."""
        if role not in ("guest", "host"):
            raise ArgumentError(
                f"{component} on {role} holds no model to score with", hint="score on a guest or a host"
            )
        cross_validation.refuse_cv_model(model, component)
        return TreeScorer(component, Booster.of(model, component))


class TreeScorer:
    """Online scoring of a whole model: the guest scores a row alone and asks no host.

    ``partial`` (and ``combine``, which serving calls) is the row's margin: (n,) for one output, (n,
    outputs) for multi-class. ``outcome`` answers the predict job's ``predict_score`` and its
    ``predict_result`` as an integer (a regression answer's label is 0: the value is the score).
    """

    def __init__(self, component: str, booster: Booster) -> None:
        self._component = component
        self.booster = booster

    @property
    def component(self) -> str:
        return self._component

    @property
    def header(self) -> tuple[str, ...]:
        return self.booster.header

    @property
    def asks_hosts(self) -> bool:
        return False

    def partial(self, features: np.ndarray) -> np.ndarray:
        scores: np.ndarray = self.booster.raw_scores(np.asarray(features, dtype=np.float64))
        return scores[:, 0] if self.booster.outputs == 1 else scores

    def combine(self, features: np.ndarray, answers: Mapping[int, HostAnswers]) -> np.ndarray:
        return self.partial(features)

    def outcome(self, totals: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        margins = np.asarray(totals, dtype=np.float64).reshape(-1, self.booster.outputs)
        values = self.booster.objective.transform(margins)
        if self.booster.task_type == "regression":
            return values[:, 0], np.zeros(len(values), dtype=np.int32)
        if self.booster.outputs == 1:
            return values[:, 0], (values[:, 0] > self.booster.threshold).astype(np.int32)
        best = np.argmax(values, axis=1)
        classes = np.asarray([float(c) for c in self.booster.classes])
        labels = np.rint(classes[best]).astype(np.int64)
        return values[np.arange(len(best)), best], labels
