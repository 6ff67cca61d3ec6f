"""HeteroNN's host: its bottom model, its Paillier key pair and its share E_h of its interactive weights
(protocol in :mod:`accord.components.nn.hetero.interactive`). It follows the guest's schedule."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from accord.components.nn import define
from accord.components.nn.hetero import data
from accord.components.nn.hetero.interactive import HostSide
from accord.components.nn.hetero.model import HostNet, tensor
from accord.components.sdk import ComponentContext, Dataset
from accord.crypto import generate_keypair
from accord.errors import DataFormatError, DataMismatchError


class HostTrainer:
    def __init__(self, ctx: ComponentContext[Any], meta: dict[str, Any], warm: dict[str, Any] | None) -> None:
        self.ctx = ctx
        self.meta = meta
        self.net = HostNet(meta)
        if warm is not None:
            self.net.load(warm, ctx.component)
        public, private = generate_keypair(int(meta["key_length"]))
        self.side = HostSide(public, private, self.net.noise, float(meta["interactive_layer_lr"]))

    def connect(self, train: Dataset, validate: Dataset | None, problem: str | None = None) -> dict[str, Any]:
        ctx = self.ctx
        host_dim = self.net.bottom(tensor(train.features()[:1])).shape[1] if len(train) else 0
        hello = {
            "key": self.side.public.to_dict(),
            "digest": data.digest(train),
            "validate_digest": data.digest(validate),
            "host_dim": int(host_dim),
            "noise": self.side.encrypted_noise(),
            "problem": problem,
        }
        ctx.transfer.remote(hello, role="guest", tag=f"hello.{ctx.party_index}", index=0)
        setup: dict[str, Any] = ctx.transfer.get(role="guest", tag="setup", index=0)
        if setup.get("problem"):
            raise DataMismatchError(
                f"{ctx.component}: {setup['problem']}",
                hint="feed every party the same Intersection output and matching layer sizes",
            )
        return setup

    def forward(self, x: np.ndarray, tag: str) -> torch.Tensor:
        ctx, me = self.ctx, self.ctx.party_index
        activations: torch.Tensor = self.net.bottom(tensor(x))
        encrypted = self.side.encrypted_input(activations.detach().double().numpy())
        ctx.transfer.remote(encrypted, role="guest", tag=f"fw.{me}.{tag}", index=0)
        masked = ctx.transfer.get(role="guest", tag=f"prod.{tag}", index=0)
        ctx.transfer.remote(self.side.reveal_product(masked), role="guest", tag=f"rev.{me}.{tag}", index=0)
        return activations

    def serve(self, x: np.ndarray, tag: str) -> None:
        """A forward pass without learning (validation, the final scores, predict)."""
        self.net.bottom.train(False)
        with torch.no_grad():
            self.forward(x, tag)
        self.net.bottom.train(True)

    def fit(self) -> dict[str, Any]:
        ctx, me = self.ctx, self.ctx.party_index
        train = data.rows(ctx, "train_data", "data")
        if train is None:
            raise DataFormatError(f"{ctx.component} has no train_data input", hint="wire train_data")
        validate = data.rows(ctx, "validate_data")
        # Online inference reads a lookup table's features by name.
        self.meta["header"] = list(train.header)
        setup = self.connect(train, validate)
        x = train.features()
        optimizer = define.build_optimizer(self.meta["optimizer"], self.net.bottom.parameters())
        start = int(self.meta.get("epochs_done", 0))
        every = setup["validate_every"]
        save_every = (
            ctx.params.callback_param.save_freq if "ModelCheckpoint" in ctx.params.callbacks else None
        )
        done = 0
        self.net.bottom.train(True)
        for epoch in range(int(setup["epochs"])):
            ctx.check_cancelled()
            for number, (lo, hi) in enumerate(setup["batches"]):
                tag = f"{epoch}.{number}"
                activations = self.forward(x[lo:hi], tag)
                encrypted = ctx.transfer.get(role="guest", tag=f"ig.{tag}", index=0)
                gradient = self.side.input_gradient(encrypted)
                masked = ctx.transfer.get(role="guest", tag=f"wg.{tag}", index=0)
                reply = self.side.reveal_weight_gradient(masked)
                ctx.transfer.remote(reply, role="guest", tag=f"wr.{me}.{tag}", index=0)
                optimizer.zero_grad()
                activations.backward(tensor(gradient))  # type: ignore[no-untyped-call]
                optimizer.step()
            done = epoch + 1
            ctx.progress(done, int(setup["epochs"]))
            if every and validate is not None and done % every == 0:
                self.serve(validate.features(), f"val.{epoch}")
            go = bool(ctx.transfer.get(role="guest", tag=f"go.{epoch}", index=0))
            if save_every and done % save_every == 0:
                ctx.save_checkpoint(start + epoch, self.model(start + done))
            if not go:
                break
        self.serve(x, "final.train")
        if validate is not None:
            self.serve(validate.features(), "final.validate")
        return self.model(start + done)

    def model(self, epochs_done: int) -> dict[str, Any]:
        self.net.noise = self.side.noise.copy()
        meta = {**self.meta, "epochs_done": epochs_done}
        return {"module": "HeteroNN", "meta": meta, "param": self.net.state()}

    def predict(self, dataset: Dataset) -> None:
        self.connect(dataset, None)
        self.serve(dataset.features(), "predict")
