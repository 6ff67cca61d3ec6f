"""HeteroNN's guest: labels, its bottom model, the interactive layer's guest shares, the top model and
the loss (protocol in :mod:`accord.components.nn.hetero.interactive`)."""

from __future__ import annotations

from collections import deque
from typing import Any

import numpy as np
import torch

from accord.components.hetero_lr.early_stopping import EarlyStopping
from accord.components.nn import define
from accord.components.nn.hetero import coae, data, predictions
from accord.components.nn.hetero.interactive import GuestSide
from accord.components.nn.hetero.model import GuestNet, tensor
from accord.components.sdk import ComponentContext, Dataset
from accord.errors import DataFormatError, DataMismatchError
from accord.federation.codec import public_key_from_dict


class GuestTrainer:
    def __init__(self, ctx: ComponentContext[Any], meta: dict[str, Any], warm: dict[str, Any] | None) -> None:
        self.ctx = ctx
        self.meta = meta
        self.hosts = len(ctx.party_ids("host"))
        self.net = GuestNet(meta, self.hosts)
        if warm is not None:
            self.net.load(warm, ctx.component)
        self.sides: list[GuestSide] = []

    # ---- the forward pass through every party --------------------------------------------------

    def forward(self, x: np.ndarray, tag: str) -> tuple[torch.Tensor, list[torch.Tensor]]:
        """The top model's output for rows ``x`` and the leaves z_h whose gradients go to the hosts."""
        transfer = self.ctx.transfer
        rows = len(x)
        parts: list[torch.Tensor] = []
        for h, side in enumerate(self.sides):
            encrypted = transfer.get(role="host", tag=f"fw.{h}.{tag}", index=h)
            transfer.remote(side.masked_product(encrypted, rows), role="host", tag=f"prod.{tag}", index=h)
        for h, side in enumerate(self.sides):
            revealed = transfer.get(role="host", tag=f"rev.{h}.{tag}", index=h)
            parts.append(tensor(side.unmask(revealed)).requires_grad_(True))
        guest = self.net.bottom(tensor(x))
        return self.net.top(self.net.interactive(guest, parts)), parts

    def scores(self, x: np.ndarray, tag: str) -> np.ndarray:
        self.net.train(False)
        with torch.no_grad():
            out, _ = self.forward(x, tag)
        self.net.train(True)
        result = out.double().numpy()
        if self.net.coae is not None:
            with torch.no_grad():
                result = self.net.coae.decoder(out).double().numpy()
        return result

    # ---- training ---------------------------------------------------------------------------------

    def connect(self, train: Dataset, validate: Dataset | None, setup: dict[str, Any]) -> None:
        """Meet every host: keys, [[E_h]], row alignment; refuse before training when they differ."""
        ctx, transfer = self.ctx, self.ctx.transfer
        hellos = [transfer.get(role="host", tag=f"hello.{h}", index=h) for h in range(self.hosts)]
        problem = None
        for h, hello in enumerate(hellos):
            if hello.get("problem"):
                problem = f"host {h}: {hello['problem']}"
            elif hello["digest"] != data.digest(train) or hello["validate_digest"] != data.digest(validate):
                problem = f"host {h}'s rows differ from the guest's"
            elif int(hello["host_dim"]) != int(self.meta["interactive"]["host_dim"]):
                problem = f"host {h}'s bottom model gives {hello['host_dim']} outputs, host_dim is " + str(
                    self.meta["interactive"]["host_dim"]
                )
        spec_hosts = self.meta["interactive"].get("host_num", 1)
        if problem is None and int(spec_hosts) != self.hosts:
            problem = f"interactive_layer_define.host_num is {spec_hosts} but the job has {self.hosts} hosts"
        transfer.remote({**setup, "problem": problem}, role="host", tag="setup")
        if problem is not None:
            raise DataMismatchError(
                f"{ctx.component}: {problem}",
                hint="feed every party the same Intersection output and matching layer sizes",
            )
        precision = self.meta.get("precision")
        for h, hello in enumerate(hellos):
            key = public_key_from_dict(hello["key"])
            side = GuestSide(self.net.shares[h], key, precision)
            side.noise_share = hello["noise"]
            self.sides.append(side)

    def fit(self, epochs: int, batch_size: int, validate_every: int | None) -> dict[str, Any]:
        ctx, meta, net = self.ctx, self.meta, self.net
        train = data.rows(ctx, "train_data", "data")
        if train is None:
            raise DataFormatError(f"{ctx.component} has no train_data input", hint="wire train_data")
        validate = data.rows(ctx, "validate_data")
        x, labels = train.features(), train.labels()
        if labels is None:
            raise DataFormatError(
                f"{ctx.component}: the guest's train data has no label",
                hint="set with_label true in the guest's DataTransform",
            )
        if "classes" not in meta:
            meta["classes"] = predictions.classes_of(labels, meta)
        # What online inference needs to score a row alone: the features by name, the hosts by party id.
        meta.update(header=list(train.header), hosts=list(ctx.party_ids("host")))
        target = predictions.targets(labels, meta)
        if meta.get("coae") and net.coae is None:
            c = ctx.params.coae_param
            classes, seed = len(meta["classes"]), int(meta["seed"])
            net.coae = coae.train(classes, c.epoch, c.lr, c.lambda1, c.lambda2, seed)
        if net.coae is not None:
            with torch.no_grad():
                onehot = torch.nn.functional.one_hot(target.long().flatten(), len(meta["classes"])).float()
                target = net.coae.encoder(onehot)
        bounds = data.batches(len(train), batch_size)
        every = validate_every if validate is not None else None
        self.connect(train, validate, {"epochs": epochs, "batches": bounds, "validate_every": every})

        loss_fn = define.build_loss(meta["loss"])
        each_fn = define.build_loss({**meta["loss"], "reduction": "none"})
        optimizer = define.build_optimizer(
            meta["optimizer"], [*net.bottom.parameters(), *net.top.parameters()]
        )
        interactive_opt = torch.optim.SGD(
            net.interactive.parameters(), lr=float(meta["interactive_layer_lr"])
        )
        selector = Selector(ctx.params.selector_param) if ctx.params.selector_param.method else None
        param = ctx.params
        stopper = EarlyStopping(
            param.stopping_rounds if "EarlyStopping" in param.callbacks else None,
            [
                m.lower()
                for m in (param.callback_param.metrics or param.metrics or predictions.default_metrics(meta))
            ],
            first_only=param.callback_param.use_first_metric_only or param.use_first_metric_only,
        )
        save_every = param.callback_param.save_freq if "ModelCheckpoint" in param.callbacks else None
        history: list[float] = list(meta.get("loss_history", []))
        start = int(meta.get("epochs_done", 0))
        converged, done = False, 0
        net.train(True)
        for epoch in range(epochs):
            ctx.check_cancelled()
            total = 0.0
            for number, (lo, hi) in enumerate(bounds):
                tag = f"{epoch}.{number}"
                out, parts = self.forward(x[lo:hi], tag)
                if selector is not None:
                    each = each_fn(out, target[lo:hi]).reshape(hi - lo, -1).mean(dim=1)
                    chosen = torch.from_numpy(selector.select(each.detach().numpy()))
                    loss = loss_fn(out, target[lo:hi]).detach()
                    backward = (each * chosen).sum() / max(int(chosen.sum()), 1)
                else:
                    loss = backward = loss_fn(out, target[lo:hi])
                optimizer.zero_grad()
                interactive_opt.zero_grad()
                backward.backward()
                for h, (side, part) in enumerate(zip(self.sides, parts, strict=True)):
                    delta = part.grad.double().numpy() if part.grad is not None else np.zeros(part.shape)
                    ctx.transfer.remote(side.input_gradient(delta), role="host", tag=f"ig.{tag}", index=h)
                    ctx.transfer.remote(
                        side.masked_weight_gradient(delta), role="host", tag=f"wg.{tag}", index=h
                    )
                    revealed, noise = ctx.transfer.get(role="host", tag=f"wr.{h}.{tag}", index=h)
                    side.step(revealed, noise, float(meta["interactive_layer_lr"]))
                optimizer.step()
                interactive_opt.step()
                total += float(loss.detach()) * (hi - lo)
            history.append(total / len(train))
            done = epoch + 1
            ctx.tracker.log_metric("train", "loss", [[start + epoch, history[-1]]], metric_type="LOSS")
            ctx.log.info("epoch %d/%d: loss %.6f", done, epochs, history[-1])
            ctx.progress(done, epochs)
            stop = len(history) > 1 and abs(history[-1] - history[-2]) < float(param.tol)
            converged = stop
            if every and validate is not None and done % every == 0:
                scores = self.scores(validate.features(), f"val.{epoch}")
                results = predictions.validation_metrics(validate.labels(), scores, meta, stopper.metrics)
                stop = stopper.update(start + epoch, results, ctx) or stop
            ctx.transfer.remote(not stop, role="host", tag=f"go.{epoch}")
            if save_every and done % save_every == 0:
                ctx.save_checkpoint(start + epoch, self.model(history, start + done, converged))
            if stop:
                break
        parts_out = [predictions.rows(train, self.scores(x, "final.train"), meta, "train")]
        if validate is not None:
            scores = self.scores(validate.features(), "final.validate")
            parts_out.append(predictions.rows(validate, scores, meta, "validate"))
        ctx.save_data(predictions.concat(parts_out))
        ctx.tracker.set_summary(
            {
                "loss_history": history,
                "epochs": start + done,
                "is_converged": converged,
                "best_epoch": stopper.best_iteration,
            }
        )
        return self.model(history, start + done, converged)

    def model(self, history: list[float], epochs_done: int, converged: bool) -> dict[str, Any]:
        self.net.shares = [side.share.copy() for side in self.sides] or self.net.shares
        meta = {**self.meta, "loss_history": history, "epochs_done": epochs_done, "is_converged": converged}
        return {"module": "HeteroNN", "meta": meta, "param": self.net.state()}

    def predict(self, dataset: Dataset, data_type: str) -> Dataset:
        self.connect(dataset, None, {"predict": True})
        return predictions.rows(dataset, self.scores(dataset.features(), "predict"), self.meta, data_type)


class Selector:
    """FATE's 'relative' selective back-propagation: a row takes part when a uniform draw raised to
    ``beta`` (at least min_prob) is at most the share of recent losses below its own."""

    def __init__(self, param: Any) -> None:
        self.history: deque[float] = deque(maxlen=int(param.selective_size))
        self.beta = int(param.beta)
        self.min_prob = float(param.min_prob)
        self.random = np.random.default_rng(param.random_state)

    def select(self, losses: np.ndarray) -> np.ndarray:
        self.history.extend(float(v) for v in losses)
        past = np.sort(np.fromiter(self.history, dtype=np.float64))
        rate = np.searchsorted(past, losses, side="left") / len(past)
        draws = np.maximum(self.min_prob, self.random.uniform(0, 1, len(losses)) ** self.beta)
        return (draws <= rate).astype(np.float32)
