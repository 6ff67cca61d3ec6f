"""The end of an SSHE training (revealing the weights, the training scores, the model) and predict.

Model JSON as HeteroLR's: ``{"meta", "param": {"header", "weight": {name: value}, "intercept", ...}}``.
With reveal_strategy encrypted_reveal_in_host the host's param holds ``encrypted_weight`` instead:
each weight's ciphertext under the guest's Paillier key (hex; it decrypts to the weight's ring value
plus a multiple of 2^K) with ``guest_public_key``, and the guest's param keeps that key's private
half (``guest_private_key``) to decrypt the host's masked partial scores when predicting.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from accord.components.hetero_lr import common
from accord.components.sdk import ComponentContext
from accord.components.sshe import rows as row_ops
from accord.components.sshe import shares
from accord.components.sshe.rows import Rows
from accord.components.sshe.shares import ShareSession, decode
from accord.crypto.keys import PrivateKey, PublicKey, encrypt_integers
from accord.errors import DataFormatError

if TYPE_CHECKING:
    from accord.components.sshe.trainer import SSHETrainer

ENCRYPTED = "encrypted_reveal_in_host"


def finish(
    trainer: SSHETrainer,
    session: ShareSession,
    train: Rows,
    validate: Rows | None,
    shared: np.ndarray,
    weights: np.ndarray,
    iterations: int,
    converged: bool,
    losses: list[float],
) -> dict[str, Any]:
    ctx, param = trainer.ctx, trainer.param
    guest_block, host_block = (trainer.own, trainer.other) if trainer.guest else (trainer.other, trainer.own)
    encrypted: list[int] | None = None
    if not trainer.reveal:
        # The guest's weights are always revealed to the guest only.
        guest_weights = session.reveal(shared[guest_block], "guest")
        if param.reveal_strategy == ENCRYPTED:
            encrypted = _encrypted_host_weights(session, shared[host_block])
            host_weights = None
        else:
            host_weights = session.reveal(shared[host_block], "host")
        revealed = guest_weights if trainer.guest else host_weights
        if revealed is not None:
            weights = decode(revealed)
    header = list(train.data.header)
    state = {"iters": iterations, "is_converged": converged, "loss_history": losses}
    if trainer.guest or encrypted is None:
        learned = trainer.plain_param(header, weights, state)
    else:
        learned = {"header": header, "reveal_strategy": param.reveal_strategy, **state}
        learned.pop("loss_history")
    if trainer.guest:
        intercept = float(learned["intercept"])
        coef = weights[:-1] if trainer.fit_intercept else weights
        private = session.private_key if param.reveal_strategy == ENCRYPTED else None
        if private is not None:
            learned["guest_private_key"] = shares.private_key_dict(private)
        outputs = [
            _guest_scores(ctx, trainer.link, train, coef, intercept, private, "final.train", common.TRAIN)
        ]
        if validate is not None:
            outputs.append(
                _guest_scores(
                    ctx, trainer.link, validate, coef, intercept, private, "final.validate", common.VALIDATE
                )
            )
        ctx.save_data(common.concatenate(outputs))
        return learned
    if encrypted is not None:
        names = [format(c, "x") for c in encrypted]
        learned["encrypted_weight"] = dict(zip(header, names, strict=True))
        learned["guest_public_key"] = format(session.peer_key.n, "x")
    for data, tag in ((train, "final.train"), (validate, "final.validate")):
        if data is not None:
            _host_scores(ctx, data.features, learned, tag)
    ctx.save_data(common.empty_predictions())
    return learned


def _encrypted_host_weights(session: ShareSession, share: np.ndarray) -> list[int] | None:
    """The guest sends its share of the host's weights encrypted under its own key; the host adds its
    share under encryption and keeps the ciphertexts (no party sees those weights in the clear)."""
    if session.party == 0:
        encrypted = encrypt_integers(session.public_key, [int(v) for v in share])
        session.send([int(c) for c in encrypted], "host_weights")
        session.next_step()
        return None
    received = [int(c) for c in session.receive("host_weights")]
    key = session.peer_key
    n, nsquare = key.n, key.nsquare
    return [c * (1 + int(v) * n) % nsquare for c, v in zip(received, share, strict=True)]


def _guest_scores(
    ctx: ComponentContext[Any],
    link: str,
    data: Rows,
    coef: np.ndarray,
    intercept: float,
    private: PrivateKey | None,
    tag: str,
    data_type: str,
) -> Any:
    partial = row_ops.receive_partial(ctx, len(data), tag, private)
    linear = data.features @ coef + intercept + partial
    threshold = float(ctx.params.predict_param.threshold) if hasattr(ctx.params, "predict_param") else 0.5
    return row_ops.predictions(link, data, linear, threshold, data_type)


def _host_scores(ctx: ComponentContext[Any], features: np.ndarray, param: dict[str, Any], tag: str) -> None:
    if "encrypted_weight" in param:
        key = PublicKey(int(param["guest_public_key"], 16))
        ciphertexts = [int(param["encrypted_weight"][name], 16) for name in param["header"]]
        row_ops.send_encrypted_partial(ctx, features, key, ciphertexts, tag)
    else:
        weight = np.array([float(param["weight"][name]) for name in param["header"]], dtype=np.float64)
        row_ops.send_plain_partial(ctx, features, weight, tag)


# ---- predict ------------------------------------------------------------------------------------


def predict(ctx: ComponentContext[Any], model: dict[str, Any], link: str) -> None:
    param = model["param"]
    slot = "test_data" if "test_data" in ctx.data_slots() else "data"
    data = row_ops.load(ctx, slot, link=link, need_labels=False)
    if data is None:
        raise DataFormatError(f"{ctx.component} predicts but has no data input", hint="wire test_data")
    row_ops.agree_count(ctx, data, "predict")
    if list(data.data.header) != list(param["header"]):
        raise DataFormatError(
            f"{ctx.component}: the model was trained on features {param['header'][:8]}..., the data has "
            f"{list(data.data.header)[:8]}...",
            hint="predict on data transformed like the training data (same DataTransform model)",
        )
    if ctx.role == "host":
        _host_scores(ctx, data.features, param, "predict")
        ctx.save_data(common.empty_predictions())
        return
    coef = np.array([float(param["weight"][name]) for name in param["header"]], dtype=np.float64)
    private = shares.private_key_of(param["guest_private_key"]) if "guest_private_key" in param else None
    partial = row_ops.receive_partial(ctx, len(data), "predict", private)
    linear = data.features @ coef + float(param.get("intercept", 0.0)) + partial
    threshold = float(model.get("meta", {}).get("threshold", 0.5))
    data_type = common.TEST if slot == "test_data" else common.PREDICT
    ctx.save_data(row_ops.predictions(link, data, linear, threshold, data_type))
