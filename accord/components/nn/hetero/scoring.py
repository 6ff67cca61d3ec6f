"""Online scoring of a HeteroNN model (ComponentBase.scorer): a sealed model.

The predict job's forward pass, split as serving needs it. Host h's part of the interactive layer is
``z_h = a_h·W_hᵀ`` with ``a_h`` its bottom model's output and ``W_h = S_h + E_h``: the guest holds the
share ``S_h`` (and the bias ``b_h``), the host its share ``E_h`` (see interactive.py). At load the guest
gives the host ``[[S_h]]`` under a key only the guest can decrypt (:meth:`GuestNNScorer.sealed_share`);
the host computes, for each row of its lookup table, ``[[a_h·S_hᵀ]] + a_h·E_hᵀ = [[z_h]]``,
re-randomized so that nothing but the value can be read from it (:meth:`HostNNScorer.sealed_answers`).
Per request the guest decrypts ``z_h`` of the rows asked, runs its bottom model, the interactive layer
(its own Linear, ``+ z_h + b_h``, activation) and the top model, and decides as the predict job does.

So the guest learns ``z_h`` of the rows it asks about, as in a predict job, never ``a_h`` nor
``E_h``; the host never learns ``S_h``. torch is imported here only (the component imports this
lazily).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import torch

from accord.components.nn.hetero.model import GuestNet, HostNet, tensor
from accord.components.nn.hetero.predictions import decide
from accord.components.sdk.scoring import HostAnswers
from accord.crypto import EncryptedVector, PublicKey
from accord.crypto.keys import DEFAULT_KEY_LENGTH
from accord.errors import DataFormatError, DataMismatchError


class _Part:
    """What both parties' scorers share: the model's meta (checked), component name, features, columns."""

    def __init__(self, model: Mapping[str, Any], component: str, needs: tuple[str, ...]) -> None:
        self._meta = _meta(model, component, needs)
        self._component = component
        self._header = tuple(str(name) for name in self._meta["header"])
        # A host's answer: one value per output of the interactive layer.
        self._columns = tuple(f"z{j}" for j in range(int(self._meta["interactive"]["out_dim"])))

    @property
    def component(self) -> str:
        return self._component

    @property
    def header(self) -> tuple[str, ...]:
        return self._header


def _meta(model: Mapping[str, Any], component: str, needs: tuple[str, ...]) -> dict[str, Any]:
    meta = model.get("meta")
    if not isinstance(meta, dict) or "param" not in model or "interactive" not in meta:
        raise DataFormatError(
            f"the stored model of {component} is not a HeteroNN model", hint="publish a HeteroNN model"
        )
    lacking = [name for name in needs if name not in meta]
    if lacking:
        raise DataFormatError(
            f"{component}'s model was trained by an Accord version that did not keep its "
            f"{' and '.join(lacking)}, which online inference needs",
            hint="train the model again (a warm start from it will do)",
        )
    return meta


class HostNNScorer(_Part):
    """A host's part: its bottom model and its share E_h; it answers ``[[z_h]]`` per row."""

    def __init__(self, model: Mapping[str, Any], component: str) -> None:
        super().__init__(model, component, ("header",))
        self._net = HostNet(self._meta)
        self._net.load(model["param"], component)
        self._net.bottom.train(False)

    @property
    def columns(self) -> tuple[str, ...]:
        return self._columns

    def partial(self, features: np.ndarray) -> np.ndarray:
        raise DataFormatError(
            f"{self._component}: a HeteroNN host answers only sealed under the guest's key",
            hint="score through sealed_answers",
        )

    def outcome(self, totals: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        raise DataFormatError(
            f"{self._component}: a host's part of a HeteroNN model has no outcome of its own",
            hint="score on the model's guest",
        )

    def sealed_answers(self, features: np.ndarray, share: bytes, key: PublicKey) -> list[bytes]:
        """Per row, ``[[z_h]] = [[a_h·S_hᵀ]] + a_h·E_hᵀ`` (out_dim values), re-randomized."""
        with torch.no_grad():
            activations = self._net.bottom(tensor(features)).double().numpy()
        rows, width = activations.shape
        out_dim = len(self._columns)
        weights = EncryptedVector.from_bytes(share, key)  # S_h, out_dim x host_dim row by row
        if len(weights) != out_dim * width:
            raise DataMismatchError(
                f"{self._component}: the guest sealed {len(weights)} weights, the host's part of the "
                f"interactive layer has {out_dim} x {width}",
                hint="publish the same model version on the guest and its hosts (`accord model load`)",
            )
        if rows == 0:
            return []
        noise = self._net.noise
        products = [
            weights[j * width : (j + 1) * width].dot(activations.T) + activations @ noise[j]
            for j in range(out_dim)
        ]
        # Re-randomized: a product's randomness is the guest's own encryption randomness raised to a_h.
        z = EncryptedVector.concatenate(products).rerandomized()
        return [
            EncryptedVector(z.public_key, z.ciphertexts[row::rows], z.exponent, z.bound).to_bytes()
            for row in range(rows)
        ]


class GuestNNScorer(_Part):
    """The guest's part: bottom model, interactive layer (S_h per host, biases), top model."""

    def __init__(self, model: Mapping[str, Any], component: str) -> None:
        super().__init__(model, component, ("header", "hosts"))
        self._hosts = tuple(int(host) for host in self._meta["hosts"])
        self._key_length = int(self._meta.get("key_length") or DEFAULT_KEY_LENGTH)
        self._net = GuestNet(self._meta, len(self._hosts))
        self._net.load(model["param"], component)
        self._net.train(False)

    @property
    def asks_hosts(self) -> bool:
        return True

    @property
    def key_length(self) -> int:
        return self._key_length

    def sealed_share(self, host: int, key: PublicKey) -> bytes:
        """``[[S_h]]`` of host ``host``, out_dim x host_dim row by row."""
        share = self._net.shares[self._index(host)]
        return key.encrypt(np.ascontiguousarray(share, dtype=np.float64).ravel()).to_bytes()

    def partial(self, features: np.ndarray) -> np.ndarray:
        raise DataFormatError(
            f"{self._component}: a HeteroNN guest combines its hosts' answers, it has no partial score",
            hint="score through combine",
        )

    def combine(self, features: np.ndarray, answers: Mapping[int, HostAnswers]) -> np.ndarray:
        """The top model's outputs (rows, outputs), as the predict job's forward pass computes them."""
        rows = len(features)
        parts = []
        for host in self._hosts:
            answer = answers.get(host)
            if answer is None or answer.columns != self._columns or answer.values.shape[0] != rows:
                raise DataMismatchError(
                    f"{self._component}: host {host} did not answer its {len(self._columns)} interactive-"
                    f"layer outputs for each of the {rows} rows",
                    hint="publish the same model version on the guest and its hosts (`accord model load`)",
                )
            parts.append(tensor(answer.values))
        net = self._net
        with torch.no_grad():
            out = net.top(net.interactive(net.bottom(tensor(features)), parts))
            if net.coae is not None:
                out = net.coae.decoder(out)
        result: np.ndarray = out.double().numpy()
        return result

    def outcome(self, totals: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The predict job's ``predict_score`` and ``predict_result`` (as an integer)."""
        result, score, _ = decide(totals, self._meta)
        bounded = np.clip(np.asarray(result, dtype=np.float64), -(2.0**31), 2.0**31 - 1)
        labels: np.ndarray = np.rint(bounded).astype(np.int64)
        return np.asarray(score, dtype=np.float64), labels

    def _index(self, host: int) -> int:
        if host not in self._hosts:
            raise DataMismatchError(
                f"{self._component}: {host} is not one of the model's hosts "
                f"({', '.join(map(str, self._hosts))})",
                hint="serve the model with the hosts it was trained with",
            )
        return self._hosts.index(host)
