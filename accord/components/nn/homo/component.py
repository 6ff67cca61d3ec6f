"""HomoNN: FATE 1.11's horizontally federated neural network (FedAVG trainer) on PyTorch.

Every guest and host holds the same features for different rows and trains the conf's ``nn_define``
locally; the arbiter averages their models through HomoLR's secure aggregation and decides
convergence. Each client saves the aggregated model and its predictions; the arbiter keeps the loss
history. Predicting needs no other party. This module imports no torch: a site without the ``nn``
extra still loads it to refuse the job at submit (params.check_supported).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from accord.components.hetero_lr import common
from accord.components.homo_lr.secure_aggregation import clients_of
from accord.components.nn.homo import model as nn_model
from accord.components.nn.homo.params import MODULE, HomoNNParam, TableDatasetParam
from accord.components.nn.homo.params import check_supported as refuse_unsupported
from accord.components.sdk import ComponentBase, ComponentContext, PartyScorer
from accord.components.sdk.scoring import WholeModelScorer
from accord.errors import (
    ArgumentError,
    ComponentFeatureUnsupported,
    ComponentParameterError,
    DataFormatError,
)


class HomoNN(ComponentBase[HomoNNParam]):
    params = HomoNNParam

    def check_supported(self, params: HomoNNParam, component: str) -> None:
        refuse_unsupported(params, component)

    def fit(self, ctx: ComponentContext[HomoNNParam]) -> None:
        trainer = ctx.params.fedavg(ctx.component)
        if ctx.input_models():
            raise ComponentFeatureUnsupported(
                f"{ctx.component}: HomoNN's warm start (a model input to a training component) is not "
                "supported: it would need the optimizer's state, which the model does not keep",
                hint="drop the model input and train afresh, or predict with the model (test_data)",
                field="model",
            )
        if trainer.secure_aggregate and len(clients_of(ctx.plan.roles)) < 2:
            raise ComponentParameterError(
                f"{ctx.component}: secure aggregation needs at least two clients to hide each one's model",
                hint="add a host (or a guest) to the roles, or set trainer.param.secure_aggregate false",
            )
        if ctx.role == "arbiter":
            from accord.components.nn.homo.arbiter import ArbiterTrainer

            learned = {"meta": {"module": MODULE}, "param": ArbiterTrainer(ctx).fit()}
            ctx.save_data(common.empty_predictions())
            ctx.tracker.set_summary(
                {
                    "loss_history": learned["param"]["loss_history"],
                    "need_stop": learned["param"]["is_converged"],
                }
            )
        else:
            from accord.components.nn.homo.client import ClientTrainer

            learned = ClientTrainer(ctx).fit()
        ctx.save_model(learned)

    def predict(self, ctx: ComponentContext[HomoNNParam]) -> None:
        if ctx.role == "arbiter":
            ctx.save_data(common.empty_predictions())
            return
        from accord.components.nn.homo import network

        slot = "test_data" if "test_data" in ctx.data_slots() else "data"
        data = ctx.input_dataset(slot)
        if data is None:
            raise DataFormatError(f"{ctx.component} predicts but has no data input", hint="wire test_data")
        model = ctx.trained_model("scores rows")
        nn_model.check_header(model, data.header, ctx.component)
        table = TableDatasetParam.model_validate(model["meta"]["dataset"]["param"])
        rows = network.rows_of(data, table, ctx.component, need_label=False)
        scores = network.outputs(nn_model.load_network(model, ctx.component), rows.features)
        meta = model["meta"]
        data_type = common.TEST if slot == "test_data" else common.PREDICT
        classes = [float(c) for c in meta.get("classes", [])]
        ctx.save_data(nn_model.predictions(rows.dataset, scores, meta["task_type"], classes, data_type))

    def scorer(self, model: Mapping[str, Any], *, role: str, component: str) -> PartyScorer:
        """Every client's model is whole: one party scores a row alone."""
        if role not in ("guest", "host"):
            raise ArgumentError(
                f"{component} on {role} holds no model to score with", hint="score on a guest or a host"
            )
        return WholeModelScorer(nn_model.NNScorer(model, component))
