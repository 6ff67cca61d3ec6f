"""FTL's encrypted mode: FATE 1.11's Paillier steps on :class:`EncryptedVector`.

Each party has its own key pair and sends its components encrypted under its own public key
(``[[·]]_G`` guest's, ``[[·]]_H`` host's). Arrays travel row-major as one vector each.
- The guest computes ``[[const]]_H`` and ``[[grad_A overlap]]_H`` from the host's ``[[u_B]]_H``,
  ``[[u_B u_Bᵀ]]_H``, ``[[-k u_B]]_H``, adds fresh random masks and has the host decrypt them; the host
  sees only masked values.
- The host computes ``[[grad_B]]_G`` from the guest's ``[[¼ y² φᵀφ]]_G``, ``[[-½ y φ]]_G``,
  ``[[-k u_A]]_G``, masks it and has the guest decrypt it; the guest sees only masked values.
- The loss is computed by the guest under the host's key, masked, decrypted by the host and unmasked.
So neither party sees the other's representations, labels-derived terms or gradients in clear.
"""

from __future__ import annotations

import numpy as np

from accord.crypto import EncryptedVector, PublicKey

# Masks are uniform in [-MASK, MASK]: large against the representations' and gradients' scale, small
# enough that float64 keeps ~1e-12 of the unmasked sum.
MASK = 4.0


def encrypt(key: PublicKey, arrays: list[np.ndarray]) -> list[EncryptedVector]:
    return [key.encrypt(np.asarray(a, dtype=np.float64).ravel()) for a in arrays]


def masked(vector: EncryptedVector) -> tuple[EncryptedVector, np.ndarray]:
    # Masks must not follow from the job's seed: fresh OS entropy every call.
    mask = np.random.default_rng().uniform(-MASK, MASK, len(vector))
    return (vector + mask).rerandomized(), mask


def guest_step(
    host: list[EncryptedVector], y_overlap: np.ndarray, phi_a: np.ndarray, rows: int, alpha: float
) -> tuple[EncryptedVector, EncryptedVector]:
    """``[[const]]_H`` (d,) and ``[[grad_A]]_H`` of the overlap rows (n·d, row-major)."""
    ub, ub2, mapping_b = host
    y = y_overlap.reshape(-1)
    n, d = len(y), phi_a.shape[1]
    # part 1: Σ_i Σ_j ¼ y_i² φ_j (u_B u_Bᵀ)_ijk, by k
    weights = 0.25 * (y * y)[:, None, None] * phi_a.reshape(1, d, 1) * np.ones((1, 1, d))
    by_k = [[(i * d + j) * d + k for i in range(n) for j in range(d)] for k in range(d)]
    part1 = ub2.multiply(weights.ravel()).group_sums(by_k)
    by_k_2d = [[i * d + k for i in range(n)] for k in range(d)]
    part2 = ub.multiply(np.repeat(y, d)).group_sums(by_k_2d)
    const = part1 - part2 * 0.5
    spread = const[np.tile(np.arange(d), n)]
    grad = spread.multiply(np.repeat(alpha * y / rows, d)) + mapping_b
    return const, grad


def host_step(guest: list[EncryptedVector], ub: np.ndarray, alpha: float) -> EncryptedVector:
    """``[[grad_B]]_G`` (n·d, row-major) of the host's overlap rows."""
    y2_phi2, y_phi, mapping_a = guest
    n, d = ub.shape
    weights = np.repeat(ub[:, :, None], d, axis=2)  # (i, j, k) -> u_B,ij
    by_ik = [[(i * d + j) * d + k for j in range(d)] for i in range(n) for k in range(d)]
    term = y2_phi2.multiply(weights.ravel()).group_sums(by_ik)
    return (term + y_phi) * alpha + mapping_a


def guest_loss(
    host: list[EncryptedVector],
    y_overlap: np.ndarray,
    phi_a: np.ndarray,
    ua_overlap: np.ndarray,
    alpha: float,
) -> EncryptedVector:
    """``[[L]]_H`` (length 1) from the host's encrypted components."""
    ub, ub2, _ = host
    n, d = ua_overlap.shape
    linear = -0.5 * alpha / n * y_overlap * phi_a - ua_overlap / (d * n)  # (n, d) weights on u_B
    quadratic = np.broadcast_to(alpha / (8 * n) * (phi_a.T @ phi_a), (n, d, d))
    total = ub.multiply(linear.ravel()).sum() + ub2.multiply(quadratic.ravel()).sum()
    return total + float(alpha * np.log(2))
