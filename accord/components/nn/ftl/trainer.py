"""FTL's two parties on torch: the guest (labels, phi, the loss) and the host (representations only).

The loops follow FATE 1.11's ftl_guest.py / ftl_host.py step by step (one exchange of components per
epoch, ``local_round`` updates on it when communication_efficient, the learning rate decayed by
1/sqrt(epoch+1) in that mode, the loss of the first local round, FATE's "diff" convergence when
n_iter_no_change). Math in :mod:`protocol`, encrypted steps in :mod:`secure`.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from accord.components.nn import define
from accord.components.nn.ftl import align, keras, protocol, secure
from accord.components.nn.portable import array_state, load_module_state, module_state, state_array
from accord.components.sdk import ComponentContext, Dataset
from accord.crypto import EncryptedVector, generate_keypair
from accord.errors import DataFormatError, DataMismatchError
from accord.federation.codec import public_key_from_dict

# Settings both parties must share: they decide which messages cross and how many.
AGREED = ("mode", "epochs", "rounds", "n_iter_no_change", "alpha", "communication_efficient")
SEED = 100  # FATE's NN seed default; Keras's RandomNormal(seed=None) would differ run to run


class Party:
    def __init__(
        self, ctx: ComponentContext[Any], meta: dict[str, Any], state: dict[str, Any] | None
    ) -> None:
        self.ctx, self.meta = ctx, meta
        torch.set_num_threads(1)
        with define.SEEDING:
            torch.manual_seed(SEED)
            self.net = keras.build_sequential(meta["nn_define"], int(meta["input_dim"])).double()
        if state is not None:
            load_module_state(self.net, state["net"], f"{ctx.component}'s FTL model")
        self.optimizer = keras.build_optimizer(meta["optimizer"], self.net.parameters())
        self.rate = float(meta["optimizer"]["learning_rate"])
        self.history: list[float] = []
        self.keys: tuple[Any, Any] | None = None
        self.peer_key: Any = None

    def represent(self, x: np.ndarray) -> np.ndarray:
        self.net.eval()
        with torch.no_grad():
            out = self.net(torch.from_numpy(np.array(x))).numpy()
        self.net.train()
        return np.asarray(out, dtype=np.float64)

    def update(self, x: np.ndarray, grads: np.ndarray, epoch: int) -> None:
        """Back-propagate FATE's output gradients and take one optimizer step."""
        if self.meta["communication_efficient"]:
            for group in self.optimizer.param_groups:
                group["lr"] = self.rate / np.sqrt(epoch + 1)
        self.optimizer.zero_grad()
        self.net(torch.from_numpy(np.array(x))).backward(torch.from_numpy(np.ascontiguousarray(grads)))
        self.optimizer.step()

    def exchange_keys(self, peer: str) -> None:
        """Agree on the settings that shape the exchanges (a role-specific conf may differ), then swap
        Paillier public keys in encrypted mode."""
        shared = {key: self.meta[key] for key in AGREED}
        self.ctx.transfer.remote(shared, role=peer, tag="settings", index=0)
        theirs = self.ctx.transfer.get(role=peer, tag="settings", index=0)
        differ = sorted(key for key in AGREED if theirs.get(key) != shared[key])
        if differ:
            raise DataMismatchError(
                f"{self.ctx.component}: the guest and the host run FTL with different {', '.join(differ)}",
                hint="give both parties the same values (set them in the common parameters)",
            )
        if self.meta["mode"] != "encrypted":
            return
        self.keys = generate_keypair(int(self.meta["key_length"]))
        self.ctx.transfer.remote(self.keys[0].to_dict(), role=peer, tag="key", index=0)
        self.peer_key = public_key_from_dict(self.ctx.transfer.get(role=peer, tag="key", index=0))

    def decrypt_for_peer(self, peer: str, tag: str) -> None:
        assert self.keys is not None
        masked = self.ctx.transfer.get(role=peer, tag=f"masked.{tag}", index=0)
        self.ctx.transfer.remote(self.keys[1].decrypt(masked), role=peer, tag=f"opened.{tag}", index=0)

    def open_masked(self, peer: str, vector: EncryptedVector, tag: str) -> np.ndarray:
        hidden, mask = secure.masked(vector)
        self.ctx.transfer.remote(hidden, role=peer, tag=f"masked.{tag}", index=0)
        opened = np.asarray(self.ctx.transfer.get(role=peer, tag=f"opened.{tag}", index=0), dtype=np.float64)
        return np.asarray(opened - mask)

    def state(self) -> dict[str, Any]:
        return {"net": module_state(self.net)}


def _signed(labels: np.ndarray, component: str) -> np.ndarray:
    """FATE's label check: exactly two classes, the larger one is 1 and the other -1."""
    classes = sorted({float(v) for v in labels})
    if len(classes) != 2:
        raise DataFormatError(
            f"{component}: FTL is binary, the guest's labels hold {len(classes)} classes",
            hint="give the guest labels of two classes (0/1 or -1/1)",
        )
    return np.where(labels == classes[1], 1.0, -1.0).reshape(-1, 1)


class Guest(Party):
    def fit(self, data: Dataset) -> tuple[dict[str, Any], Dataset]:
        meta, alpha = self.meta, float(self.meta["alpha"])
        self.exchange_keys("host")
        ids, x, y, n = self._rows(data, "train")
        y_o, rows = y[:n], len(x)
        rounds = int(meta["rounds"])
        ua = self.represent(x)
        phi_a = protocol.phi(y, ua)
        ua_o, send = ua[:n], protocol.guest_components(y_o, phi_a, ua[:n])
        transfer = self.ctx.transfer
        for epoch in range(int(meta["epochs"])):
            host = self._exchange(send, epoch)
            loss = 0.0
            for r in range(rounds):
                tag = f"{epoch}.{r}"
                if isinstance(host[0], EncryptedVector):
                    enc_const, enc_grad = secure.guest_step(host, y_o, phi_a, rows, alpha)
                    const = self.open_masked("host", enc_const, f"const.{tag}")
                    grad_o = self.open_masked("host", enc_grad, f"grad.{tag}").reshape(n, -1)
                    self.decrypt_for_peer("host", f"hgrad.{tag}")
                    grads = alpha * const * y / rows
                    grads[:n] = grad_o
                else:
                    const = protocol.guest_const(y_o, phi_a, host[0], host[1])
                    grads = protocol.guest_gradients(const, y, n, host[2], alpha)
                self.update(x, grads, epoch)
                if r == 0:
                    loss = self._loss(host, y_o, phi_a, ua_o, alpha, epoch)
                if r + 1 != rounds:
                    ua = self.represent(x)
                    phi_a, ua_o = protocol.phi(y, ua), ua[:n]
            self.history.append(loss)
            self.ctx.tracker.log_metric("train", "loss", [[epoch, loss]], metric_type="LOSS")
            ua = self.represent(x)
            phi_a, ua_o = protocol.phi(y, ua), ua[:n]
            send = protocol.guest_components(y_o, phi_a, ua_o)
            if meta["n_iter_no_change"]:
                stop = protocol.converged(self.history, float(meta["tol"]))
                transfer.remote(stop, role="host", tag=f"stop.{epoch}", index=0)
                if stop:
                    break
        self.phi = phi_a
        self.ctx.tracker.set_summary({"loss_history": self.history})
        model = {
            "module": "FTL",
            "meta": {**meta, "loss_history": self.history},
            "param": {**self.state(), "phi": array_state(phi_a)},
        }
        return model, self._scores(data, ids, n, "train")

    def predict(self, data: Dataset, data_type: str) -> Dataset:
        ids, _, _, n = self._rows(data, "predict", labelled=False)
        return self._scores(data, ids, n, data_type)

    def load_phi(self, param: dict[str, Any]) -> None:
        self.phi = state_array(param["phi"])

    def _rows(
        self, data: Dataset, tag: str, labelled: bool = True
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
        """The guest's ids, features and ±1 labels, overlap rows first (in the host's pairing order)."""
        ids = np.asarray(data.ids()).astype(str)
        overlap = align.guest_overlap(self.ctx, ids, tag)
        rest = np.setdiff1d(np.argsort(ids, kind="stable"), overlap, assume_unique=True)
        rest = rest[np.argsort(ids[rest], kind="stable")]
        order = np.concatenate([overlap, rest])
        labels = data.labels()
        if labelled and labels is None:
            raise DataFormatError(f"{self.ctx.component}: the guest needs labels", hint="with_label: true")
        y = (
            _signed(np.asarray(labels), self.ctx.component)[order]
            if labelled and labels is not None
            else np.zeros(0)
        )
        return ids[order], data.features()[order], y, len(overlap)

    def _exchange(self, send: list[np.ndarray], epoch: int) -> list[Any]:
        transfer = self.ctx.transfer
        if self.peer_key is not None:
            assert self.keys is not None
            transfer.remote(secure.encrypt(self.keys[0], send), role="host", tag=f"comp.{epoch}", index=0)
        else:
            transfer.remote(send, role="host", tag=f"comp.{epoch}", index=0)
        received: list[Any] = transfer.get(role="host", tag=f"comp.{epoch}", index=0)
        return received

    def _loss(
        self, host: list[Any], y_o: np.ndarray, phi_a: np.ndarray, ua_o: np.ndarray, alpha: float, epoch: int
    ) -> float:
        if isinstance(host[0], EncryptedVector):
            encrypted = secure.guest_loss(host, y_o, phi_a, ua_o, alpha)
            return float(self.open_masked("host", encrypted, f"loss.{epoch}")[0])
        return protocol.loss(y_o, phi_a, ua_o, np.asarray(host[0]), alpha)

    def _scores(self, data: Dataset, ids: np.ndarray, n: int, data_type: str) -> Dataset:
        """FATE's predictions: sigmoid(u_B · phi) for the overlap rows only, classes 0 and 1."""
        ub = np.asarray(self.ctx.transfer.get(role="host", tag=f"u.{data_type}", index=0))
        score = 1.0 / (1.0 + np.exp(-(ub @ self.phi.T).reshape(-1)))
        threshold = float(self.meta["threshold"])
        position = {sid: i for i, sid in enumerate(np.asarray(data.ids()).astype(str))}
        labels = data.labels()
        rows = [position[sid] for sid in ids[:n]]
        return Dataset.predictions(
            ids[:n],
            labels=np.asarray(labels)[rows] if labels is not None else np.full(n, np.nan),
            predict_result=(score > threshold).astype(np.float64),
            predict_score=score,
            predict_detail=[{"0": float(1 - p), "1": float(p)} for p in score],
            data_type=data_type,
        )


class Host(Party):
    def fit(self, data: Dataset) -> dict[str, Any]:
        meta, alpha = self.meta, float(self.meta["alpha"])
        self.exchange_keys("guest")
        x = self._rows(data, "train")
        rounds = int(meta["rounds"])
        transfer = self.ctx.transfer
        for epoch in range(int(meta["epochs"])):
            ub = self.represent(x)
            send = protocol.host_components(ub)
            if self.peer_key is not None:
                assert self.keys is not None
                transfer.remote(
                    secure.encrypt(self.keys[0], send), role="guest", tag=f"comp.{epoch}", index=0
                )
            else:
                transfer.remote(send, role="guest", tag=f"comp.{epoch}", index=0)
            guest: list[Any] = transfer.get(role="guest", tag=f"comp.{epoch}", index=0)
            for r in range(rounds):
                tag = f"{epoch}.{r}"
                if isinstance(guest[0], EncryptedVector):
                    self.decrypt_for_peer("guest", f"const.{tag}")
                    self.decrypt_for_peer("guest", f"grad.{tag}")
                    encrypted = secure.host_step(guest, ub, alpha)
                    grads = self.open_masked("guest", encrypted, f"hgrad.{tag}").reshape(ub.shape)
                else:
                    grads = protocol.host_gradients(ub, guest, alpha)
                self.update(x, grads, epoch)
                if r == 0 and isinstance(guest[0], EncryptedVector):
                    self.decrypt_for_peer("guest", f"loss.{epoch}")
                if r + 1 != rounds:
                    ub = self.represent(x)
            if meta["n_iter_no_change"] and transfer.get(role="guest", tag=f"stop.{epoch}", index=0):
                break
        self._send(x, "train")
        return {"module": "FTL", "meta": meta, "param": self.state()}

    def predict(self, data: Dataset, data_type: str) -> None:
        self._send(self._rows(data, "predict"), data_type)

    def _rows(self, data: Dataset, tag: str) -> np.ndarray:
        ids = np.asarray(data.ids()).astype(str)
        return np.asarray(data.features()[align.host_overlap(self.ctx, ids, tag)], dtype=np.float64)

    def _send(self, x: np.ndarray, data_type: str) -> None:
        # FATE's host sends u_B of the overlap rows in clear for prediction; the guest scores them.
        self.ctx.transfer.remote(self.represent(x), role="guest", tag=f"u.{data_type}", index=0)
