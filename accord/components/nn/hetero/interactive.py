"""HeteroNN's interactive layer across parties: FATE 1.11's Paillier protocol, one host at a time.

The layer computes ``z = W_g·a_g + b_g + Σ_h (W_h·a_h + b_h)`` then ``dropout(activation(z))`` at the
guest, where ``a_g`` is the guest's bottom output and ``a_h`` host h's. Each host owns a Paillier key
pair (its public key goes to the guest). A host's weights ``W_h`` are split in two shares that are never
put together: the guest keeps ``S_h`` and the host keeps ``E_h`` (its accumulated noise, zero at the
start as in FATE), ``W_h = S_h + E_h``. The biases ``b_h`` live at the guest. Per batch, with ``[[x]]``
a ciphertext under the host's key and ``r``/``m``/``v`` fresh random masks:

forward
  1. host → guest: ``[[a_h]]`` (its bottom output, encrypted once per batch).
  2. guest → host: ``[[a_h·S_hᵀ + r]]`` (r drawn by the guest).
  3. host → guest: ``a_h·S_hᵀ + r + a_h·E_hᵀ`` (decrypted, plus its own share's product).
  4. the guest removes r: ``z_h = a_h·W_hᵀ``, runs activation, dropout, the top model and the loss.
backward (``δ = ∂L/∂z_h``, computed by the guest)
  5. guest → host: ``[[δ·(S_h + E_h)]]``, from ``[[E_h]]`` the host sent last time: the gradient of
     the host's bottom output, which the host decrypts and back-propagates through its bottom model.
  6. guest → host: ``[[δᵀ·a_h + m]]`` (the weight gradient, masked by the guest).
  7. host → guest: ``δᵀ·a_h + m + v/η`` (η = interactive_layer_lr); the host adds v to E_h and sends
     ``[[E_h]]`` for the next batch.
  8. the guest removes m and steps ``S_h ← S_h - η·(δᵀa_h + v/η)``, so ``S_h + E_h`` moves by exactly
     ``-η·δᵀa_h``: plain SGD on the layer, as FATE's interactive layer runs it.

What each party learns: the guest sees ciphertexts of a_h and E_h, the layer's pre-activation
contribution ``z_h`` (which it needs for the top model) and weight gradients blinded by v; it never
sees a_h, E_h or W_h in clear. A host sees only its own bottom output, the gradient of it (as in FATE),
and values masked by the guest's r and m; it never sees labels, the guest's features, S_h, z or the loss.

Encrypted matrices travel as one :class:`EncryptedVector` each, column by column (column k of an
n-row matrix at positions k·n … k·n+n-1); every homomorphic step runs through :mod:`accord.crypto`'s
batch kernels (exponentiations spread over its process pool).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from accord.crypto import EncryptedVector, PrivateKey, PublicKey

# Masks are uniform in [-MASK, MASK]: large against the activations' and gradients' scale so that a
# masked value says nothing useful, small enough that float64 keeps ~1e-12 of the sum.
MASK = 4.0


def _random() -> np.random.Generator:
    # Masks must not be predictable from the job's seed: fresh OS entropy every call.
    return np.random.default_rng()


def encrypt_columns(key: PublicKey, matrix: np.ndarray) -> EncryptedVector:
    return key.encrypt(np.ascontiguousarray(np.asarray(matrix, dtype=np.float64).T).ravel())


def decrypt_columns(key: PrivateKey, vector: EncryptedVector, rows: int) -> np.ndarray:
    return key.decrypt(vector).reshape(-1, rows).T


def _columns(vector: EncryptedVector, rows: int) -> list[EncryptedVector]:
    return [vector[k * rows : (k + 1) * rows] for k in range(len(vector) // rows)]


def _matmul(columns: list[EncryptedVector], weights: np.ndarray, rows: int) -> EncryptedVector:
    """``[[A·Wᵀ]]`` column by column from the columns of ``[[A]]`` (n x d) and ``W`` (out x d)."""
    stacked = EncryptedVector.concatenate(columns)
    groups = [[k * rows + i for k in range(len(columns))] for i in range(rows)]
    out = []
    for j in range(weights.shape[0]):
        scaled = stacked.multiply(np.repeat(weights[j], rows))
        out.append(scaled.group_sums(groups))
    return EncryptedVector.concatenate(out)


class GuestSide:
    """The guest's share of one host's weights and the guest's steps of the protocol."""

    def __init__(self, share: np.ndarray, key: PublicKey, precision: int | None) -> None:
        self.share = np.asarray(share, dtype=np.float64)  # S_h: out x host_dim
        self.key = key
        self.precision = precision
        self.noise_share: EncryptedVector | None = None  # [[E_h]], host_dim x out, row by row
        self._inputs: list[EncryptedVector] = []
        self._rows = 0
        self._mask: np.ndarray | None = None

    def masked_product(self, encrypted_input: EncryptedVector, rows: int) -> EncryptedVector:
        """Step 2: ``[[a_h·S_hᵀ + r]]``."""
        self._rows = rows
        self._inputs = _columns(encrypted_input, rows)
        self._mask = _random().uniform(-MASK, MASK, size=(rows, self.share.shape[0]))
        product = _matmul(self._inputs, self.share, rows)
        return (product + np.ascontiguousarray(self._mask.T).ravel()).rerandomized()

    def unmask(self, revealed: np.ndarray) -> np.ndarray:
        """Step 4: ``z_h``."""
        assert self._mask is not None
        z: np.ndarray = np.asarray(revealed, dtype=np.float64) - self._mask
        self._mask = None
        return z

    def input_gradient(self, delta: np.ndarray) -> EncryptedVector:
        """Step 5: ``[[δ·(S_h + E_h)]]`` (n x host_dim) for the host to decrypt."""
        delta = np.asarray(delta, dtype=np.float64)
        out_dim, dim = self.share.shape
        plain = delta @ self.share
        if self.noise_share is None:
            return self.key.encrypt(np.ascontiguousarray(plain.T).ravel())
        columns = []
        for k in range(dim):
            part = self.noise_share[k * out_dim : (k + 1) * out_dim].dot(delta.T, self.precision)
            columns.append(part + plain[:, k])
        return EncryptedVector.concatenate(columns).rerandomized()

    def masked_weight_gradient(self, delta: np.ndarray) -> EncryptedVector:
        """Step 6: ``[[δᵀ·a_h + m]]`` as host_dim x out, row by row."""
        delta = np.asarray(delta, dtype=np.float64)
        rows = [column.dot(delta, self.precision) for column in self._inputs]
        self._mask = _random().uniform(-MASK, MASK, size=(len(rows), delta.shape[1]))
        return (EncryptedVector.concatenate(rows) + self._mask.ravel()).rerandomized()

    def step(self, revealed: np.ndarray, noise_share: EncryptedVector, lr: float) -> None:
        """Step 8: ``S_h ← S_h - η·(δᵀa_h + v/η)``; keep ``[[E_h]]`` for the next batch."""
        assert self._mask is not None
        gradient = (np.asarray(revealed, dtype=np.float64).reshape(self._mask.shape) - self._mask).T
        self.share = self.share - lr * gradient
        self.noise_share = noise_share
        self._mask, self._inputs = None, []


class HostSide:
    """A host's key pair, its share E_h of its interactive weights, and its steps of the protocol."""

    def __init__(self, public: PublicKey, private: PrivateKey, noise: np.ndarray, lr: float) -> None:
        self.public = public
        self.private = private
        self.noise = np.asarray(noise, dtype=np.float64)  # E_h: out x host_dim
        self.lr = lr
        self._input: np.ndarray | None = None

    def encrypted_input(self, activations: np.ndarray) -> EncryptedVector:
        """Step 1."""
        self._input = np.asarray(activations, dtype=np.float64)
        return encrypt_columns(self.public, self._input)

    def reveal_product(self, masked: EncryptedVector) -> np.ndarray:
        """Step 3."""
        assert self._input is not None
        rows = self._input.shape[0]
        return decrypt_columns(self.private, masked, rows) + self._input @ self.noise.T

    def input_gradient(self, encrypted: EncryptedVector) -> np.ndarray:
        """Step 5, the host's end: ``∂L/∂a_h``."""
        assert self._input is not None
        return decrypt_columns(self.private, encrypted, self._input.shape[0])

    def reveal_weight_gradient(self, masked: EncryptedVector) -> tuple[np.ndarray, EncryptedVector]:
        """Step 7: the masked gradient plus v/η, and ``[[E_h]]`` after adding v."""
        revealed = self.private.decrypt(masked).reshape(self.noise.shape[1], self.noise.shape[0])
        fresh = _random().uniform(-MASK, MASK, size=revealed.shape) * self.lr
        self.noise = self.noise + fresh.T
        self._input = None
        return revealed + fresh / self.lr, self.encrypted_noise()

    def encrypted_noise(self) -> EncryptedVector:
        """``[[E_h]]`` as host_dim x out, row by row (what step 5 reads)."""
        return self.public.encrypt(np.ascontiguousarray(self.noise.T).ravel())


def public_key_dict(key: PublicKey) -> dict[str, Any]:
    return dict(key.to_dict())
