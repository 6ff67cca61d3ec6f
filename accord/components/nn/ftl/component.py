"""FTL: FATE 1.11's hetero federated transfer learning (one guest with labels, one host), on PyTorch.

Each party trains its own network (the conf's Keras ``nn_define``) mapping its features to a shared
d-dimensional representation; the guest's labelled rows and the overlap of both parties' ids tie the
two representations together (protocol and loss in :mod:`accord.components.nn.ftl.protocol`). The
guest predicts, for the host's overlap rows, ``sigmoid(u_B · phi)``.

What each party learns: ids are aligned by ECDH (each party learns only which of its rows overlap).
In ``plain`` mode the components cross in clear, as in FATE: the host sees ``φ``-derived terms and
``u_A`` of the overlap rows, the guest sees ``u_B`` and ``u_B u_Bᵀ``. In ``encrypted`` mode they cross
under the sender's Paillier key and each side sees only its own gradients and masked values; the loss
is known to the guest only. For prediction the host sends ``u_B`` of the overlap rows in clear (as FATE).

This module does not import torch: a site without the extra still loads it and refuses at submit.
"""

from __future__ import annotations

from typing import Any

from accord.components.hetero_lr.common import empty_predictions
from accord.components.nn.ftl.params import FTLParam, check_supported
from accord.components.sdk import ComponentBase, ComponentContext, Dataset
from accord.errors import ComponentParameterError, DataFormatError

Context = ComponentContext[FTLParam]


class FTL(ComponentBase[FTLParam]):
    params = FTLParam

    def check_supported(self, params: FTLParam, component: str) -> None:
        check_supported(params, component)

    def fit(self, ctx: Context) -> None:
        check_supported(ctx.params, ctx.component)
        if len(ctx.party_ids("host")) != 1:
            raise DataFormatError(f"{ctx.component}: FTL runs with exactly one host", hint="give one host")
        if not ctx.params.nn_define:
            raise ComponentParameterError(
                f"{ctx.component}: nn_define is required to train", hint="give a tf.keras Sequential"
            )
        data = _rows(ctx, "train_data", "data")
        meta = _meta(ctx, data)
        from accord.components.nn.ftl.trainer import Guest, Host

        if ctx.role == "guest":
            model, scored = Guest(ctx, meta, None).fit(data)
            ctx.save_data(scored)
        else:
            model = Host(ctx, meta, None).fit(data)
            ctx.save_data(empty_predictions())
        ctx.save_model(model)

    def predict(self, ctx: Context) -> None:
        from accord.components.nn import define

        model = ctx.trained_model("predicts")
        define.require_torch(ctx.component, "FTL")
        slot = "test_data" if "test_data" in ctx.data_slots() else "data"
        data = _rows(ctx, slot)
        from accord.components.nn.ftl.trainer import Guest, Host

        kind = "test" if slot == "test_data" else "predict"
        if ctx.role == "guest":
            guest = Guest(ctx, dict(model["meta"]), model["param"])
            guest.load_phi(model["param"])
            ctx.save_data(guest.predict(data, kind))
        else:
            Host(ctx, dict(model["meta"]), model["param"]).predict(data, kind)
            ctx.save_data(empty_predictions())
        ctx.save_applied_model(model)


def _rows(ctx: Context, *slots: str) -> Dataset:
    data = ctx.first_dataset(*slots)
    if data is None or data.kind != "instances":
        raise DataFormatError(
            f"{ctx.component} trains on parsed feature rows", hint="put a DataTransform before FTL"
        )
    return data


def _meta(ctx: Context, data: Dataset) -> dict[str, Any]:
    param = ctx.params
    return {
        "role": ctx.role,
        "nn_define": param.nn_define,
        "input_dim": len(data.header),
        "header": list(data.header),
        "optimizer": param.optimizer_define(),
        "alpha": param.alpha,
        "tol": param.tol,
        "n_iter_no_change": param.n_iter_no_change,
        "epochs": param.epochs,
        "batch_size": param.batch_size,
        "mode": param.mode,
        "communication_efficient": param.communication_efficient,
        "rounds": param.rounds,
        "key_length": param.encrypte_param.key_length,
        "threshold": param.predict_param.threshold,
    }
