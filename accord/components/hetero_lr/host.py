"""A host's side of HeteroLR: it holds features and weights only, and sees nothing but ciphertexts.

Per batch it sends [[0.25·X_h·w_h]] (and, for the guest's loss, [[Σ(X_h·w_h)²]] and its encrypted
penalty) to the guest, turns the guest's encrypted fore-gradient into its encrypted gradient
[[X_hᵀ·d]]/n + penalty, and applies the step the arbiter sends back.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from accord.components.hetero_lr import common
from accord.components.hetero_lr.optimizer import penalty_gradient, penalty_loss
from accord.components.hetero_lr.params import HeteroLRParam
from accord.components.sdk import ComponentContext, Dataset
from accord.errors import DataFormatError
from accord.federation.codec import public_key_from_dict


class HostTrainer:
    def __init__(self, ctx: ComponentContext[HeteroLRParam]) -> None:
        self.ctx = ctx
        self.param = ctx.params
        self.transfer = ctx.transfer

    def fit(self) -> dict[str, Any]:
        ctx, param = self.ctx, self.param
        train = ctx.first_dataset("train_data", "data")
        if train is None:
            raise DataFormatError(
                f"{ctx.component} has no train_data input", hint="wire train_data in the DSL"
            )
        validate = ctx.input_dataset("validate_data")
        features = train.features()
        weights = common.initial_weights(features.shape[1], param.init_param, with_intercept=False)

        public_key = public_key_from_dict(self.transfer.get(role="arbiter", tag="public_key", index=0))
        setup = self.transfer.get(role="guest", tag="setup", index=0)
        common.check_aligned(common.ids_digest(train.ids()), setup["train"], "train", ctx.component)
        validate_every = setup["validate_every"]
        if setup["validate"] is not None:
            if validate is None:
                raise DataFormatError(
                    f"{ctx.component}: the guest validates but this party has no validate_data",
                    hint="wire validate_data on every party",
                )
            common.check_aligned(
                common.ids_digest(validate.ids()), setup["validate"], "validate", ctx.component
            )

        for iteration in range(param.max_iter):
            ctx.check_cancelled()
            batches = self.transfer.get(role="guest", tag=f"batches.{iteration}", index=0)
            for number, rows in enumerate(batches):
                tag = f"{iteration}.{number}"
                x = features[np.asarray(rows, dtype=np.int64)]
                wx = x @ weights
                forward: dict[str, Any] = {"forward": public_key.encrypt(0.25 * wx)}
                if setup["with_loss"]:
                    forward["square_sum"] = public_key.encrypt(np.array([float(np.dot(wx, wx))]))
                    forward["penalty"] = public_key.encrypt(
                        np.array([penalty_loss(weights, param.penalty, param.alpha)])
                    )
                self.transfer.remote(forward, role="guest", tag=f"forward.{tag}", index=0)
                fore_gradient = self.transfer.get(role="guest", tag=f"fore_gradient.{tag}", index=0)
                gradient = fore_gradient.dot(x, param.dot_precision) * (1.0 / len(x))
                gradient = gradient + penalty_gradient(weights, param.penalty, param.alpha)
                self.transfer.remote(
                    gradient, role="arbiter", tag=f"gradient.host.{ctx.party_index}.{tag}", index=0
                )
                weights = weights - self.transfer.get(role="arbiter", tag=f"step.{tag}", index=0)
            converged = bool(self.transfer.get(role="arbiter", tag=f"converged.{iteration}", index=0))
            ctx.log.info(
                "iteration %d/%d: %d batches%s",
                iteration + 1,
                param.max_iter,
                len(batches),
                ", converged" if converged else "",
            )
            ctx.progress(iteration + 1, param.max_iter)
            stop = False
            if validate is not None and validate_every and (iteration + 1) % validate_every == 0:
                self._send_wx(validate, weights, f"validate.{iteration}")
                stop = bool(self.transfer.get(role="guest", tag=f"stop.{iteration}", index=0))
            if converged or stop:
                break

        self._send_wx(train, weights, "final.train")
        if setup["validate"] is not None and validate is not None:
            self._send_wx(validate, weights, "final.validate")
        ctx.save_data(common.empty_predictions())
        return {
            "header": list(train.header),
            "weight": {name: float(value) for name, value in zip(train.header, weights, strict=True)},
        }

    def _send_wx(self, dataset: Dataset, weights: np.ndarray, tag: str) -> None:
        self.transfer.remote(dataset.features() @ weights, role="guest", tag=f"wx.{tag}", index=0)
