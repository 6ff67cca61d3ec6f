"""FATE 1.11's FTL loss and gradients (Liu et al., "Secure Federated Transfer Learning"), in numpy.

Notation: ``u_A`` the guest network's output for its rows (overlap rows first), ``u_B`` the host's for
the overlap rows, ``y`` the guest labels in {-1, 1}, ``N`` the guest's row count, ``n`` the overlap count,
``d`` the output width, ``k = 1/d``, ``phi = Σ_all y_i u_A,i / N``. The loss, with the Taylor expansion of
the logistic loss that FATE uses, is

    L = alpha/n · Σ_overlap (log 2 - ½ y_i φ·u_B,i + ⅛ (φ·u_B,i)²) - k/n · Σ_overlap u_A,i · u_B,i

The guest sends the host ``¼ y_i² φᵀφ`` (n, d, d), ``-½ y_i φ`` and ``-k u_A,i``; the host sends ``u_B,i``,
``u_B,i u_B,iᵀ`` and ``-k u_B,i``. From these each side forms the gradient of its outputs that FATE back-
propagates (FATE's terms, scaled as FATE scales them). In encrypted mode each side encrypts what it
sends with its own Paillier key; the peer computes its gradient under that key, adds a random mask,
and the key owner decrypts the masked values (see :mod:`accord.components.nn.ftl.secure`).
"""

from __future__ import annotations

import numpy as np


def phi(y: np.ndarray, ua: np.ndarray) -> np.ndarray:
    """``Σ y_i u_A,i / N`` over all guest rows, shape (1, d)."""
    return np.asarray(np.sum(y * ua, axis=0, keepdims=True) / len(ua))


def guest_components(y_overlap: np.ndarray, phi_a: np.ndarray, ua_overlap: np.ndarray) -> list[np.ndarray]:
    k = 1.0 / ua_overlap.shape[1]
    y2_phi2 = 0.25 * np.expand_dims(y_overlap * y_overlap, axis=2) * (phi_a.T @ phi_a)
    return [y2_phi2, -0.5 * y_overlap * phi_a, -ua_overlap * k]


def host_components(ub: np.ndarray) -> list[np.ndarray]:
    k = 1.0 / ub.shape[1]
    return [ub, np.einsum("ij,ik->ijk", ub, ub), -ub * k]


def guest_const(y_overlap: np.ndarray, phi_a: np.ndarray, ub: np.ndarray, ub2: np.ndarray) -> np.ndarray:
    """FATE's ``const`` (d,): ``Σ ¼ y_i² φ u_B,i u_B,iᵀ - ½ Σ y_i u_B,i``."""
    y2_phi = (y_overlap * y_overlap) * phi_a  # (n, d)
    part1 = 0.25 * np.einsum("ij,ijk->k", y2_phi, ub2)
    return np.asarray(part1 - 0.5 * np.sum(y_overlap * ub, axis=0))


def guest_gradients(
    const: np.ndarray, y: np.ndarray, overlap: int, mapping_b: np.ndarray, alpha: float
) -> np.ndarray:
    """Gradient of the guest's outputs for all its rows (overlap rows first), FATE's scaling."""
    grads = alpha * const * y / len(y)
    grads[:overlap] += mapping_b
    return np.asarray(grads)


def host_gradients(ub: np.ndarray, guest: list[np.ndarray], alpha: float) -> np.ndarray:
    y2_phi2, y_phi, mapping_a = guest
    return np.asarray(alpha * (np.einsum("ij,ijk->ik", ub, y2_phi2) + y_phi) + mapping_a)


def loss(
    y_overlap: np.ndarray, phi_a: np.ndarray, ua_overlap: np.ndarray, ub: np.ndarray, alpha: float
) -> float:
    n, k = len(ub), 1.0 / ub.shape[1]
    alignment = float(np.sum(-ua_overlap * k * ub))
    ub_phi = ub @ phi_a.T
    loss_y = -0.5 * float(np.sum(y_overlap * ub_phi)) + float(np.sum(ub_phi * ub_phi)) / 8 + n * np.log(2)
    return float(alpha * loss_y / n + alignment / n)


def converged(history: list[float], tol: float) -> bool:
    """FATE's "diff" convergence: the last two losses differ by less than tol."""
    return len(history) > 1 and abs(history[-1] - history[-2]) < tol
