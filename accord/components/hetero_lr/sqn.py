"""FATE 1.11's stochastic quasi-Newton optimizer (``optimizer: sqn``) for HeteroLR and HeteroLinR.

As FATE's ``optim/gradient/hetero_sqn_gradient.py``: every party sums its weights over each run of
``update_interval_L`` batches (the guest and hosts the weights a batch's gradient was computed at, the
arbiter its own running weights after the batch's step, as FATE) and, from the second run on, ends it
with a Hessian-vector product along s = (this run's mean weights) - (the last run's):

- the guest picks ``sample_size`` rows of the batch (``RandomState(random_seed)`` anew each time, as
  FATE samples with the same seed each time) and sends their positions to the hosts;
- each host sends the encrypted [[c·X_h·s_h]] of those rows (c = 0.25 for HeteroLR's Taylor loss,
  1 for HeteroLinR), the guest adds c·(X_g·s_g + s_b) to form [[h]] and sends it back;
- each party sends the arbiter its encrypted X^T·[[h]]/m plus, with L2, alpha·s (the guest also the
  intercept's mean of [[h]]); the arbiter decrypts the vector y = ∇²F·s.

The arbiter keeps the last ``memory_M`` pairs (s, y) and builds the inverse-Hessian estimate H with
the BFGS recursion from (y·s)/(y·y)·I, oldest pair first; from then on a batch's step is
lr·H·gradient (plain lr·gradient before the first H), the learning rate decaying as sgd's.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

import numpy as np

from accord.components.hetero_lr import encoded, kernels, tables
from accord.components.hetero_lr.params import StochasticQuasiNewtonParam
from accord.computing import Block
from accord.crypto.vector import EncryptedVector

if TYPE_CHECKING:
    from accord.components.hetero_lr.guest import GuestTrainer
    from accord.components.hetero_lr.host import HostTrainer


class WeightRuns:
    """A party's mean weights over each run of ``interval`` batches; the step s when H is due."""

    def __init__(self, interval: int) -> None:
        self.interval = interval
        self.runs = -1
        self.current: np.ndarray | None = None
        self.last: np.ndarray | None = None

    def add(self, batch_number: int, weights: np.ndarray) -> np.ndarray | None:
        """Add the weights of the ``batch_number``-th batch (from 1); s when a Hessian update is due."""
        self.current = weights.copy() if self.current is None else self.current + weights
        if batch_number % self.interval != 0:
            return None
        self.runs += 1
        mean = self.current / self.interval
        step = mean - self.last if self.runs > 0 and self.last is not None else None
        self.last, self.current = mean, np.zeros_like(mean)
        return step


class InverseHessian:
    """The arbiter's side: the (s, y) memory and H."""

    def __init__(self, setting: StochasticQuasiNewtonParam) -> None:
        self.runs = WeightRuns(setting.update_interval_L)
        self.memory = setting.memory_M
        self.pairs: list[tuple[np.ndarray, np.ndarray]] = []
        self.matrix: np.ndarray | None = None
        self.weights: np.ndarray | None = None

    def direction(self, gradient: np.ndarray) -> np.ndarray:
        return gradient if self.matrix is None else np.asarray(self.matrix @ gradient, dtype=np.float64)

    def after_step(self, batch_number: int, step: np.ndarray) -> np.ndarray | None:
        """Track the running weights (from zero: only differences count); s when y is due."""
        self.weights = -step if self.weights is None else self.weights - step
        return self.runs.add(batch_number, self.weights)

    def update(self, s: np.ndarray, y: np.ndarray) -> None:
        self.pairs = [*self.pairs, (s, y)][-self.memory :]
        last_s, last_y = self.pairs[-1]
        size = len(s)
        identity = np.identity(size)
        matrix = float(last_y @ last_s) / float(last_y @ last_y) * identity
        for pair_s, pair_y in self.pairs:
            rho = 1.0 / float(pair_y @ pair_s)
            left = identity - rho * np.outer(pair_s, pair_y)
            right = identity - rho * np.outer(pair_y, pair_s)
            matrix = left @ matrix @ right + rho * np.outer(pair_s, pair_s)
        self.matrix = matrix


# ---- per partition (module level: the engines pickle it) ----------------------------------------


def guest_hess_fore(
    driver: int,
    key: kernels.KeyDict,
    coef: np.ndarray,
    intercept: float,
    scale: float,
    selections: kernels.Selections,
    block: Block,
    forward: Block,
) -> Block:
    """[[h]] = [[c·X_h·s_h]] + c·(X_g·s_g + s_b) of the sampled rows here (times their sample weights)."""
    public_key = kernels._key(driver, key)
    x, sections = kernels._features(block, selections)
    host = EncryptedVector.from_bytes(
        encoded.data(encoded.unpack(kernels._blob(forward)), "forward"), public_key
    )
    fore = host + scale * (x @ coef + intercept)
    if "w" in sections:
        fore = fore * encoded.array(sections, "w")
    return encoded.pack({"fore": fore.to_bytes(), "sum": fore.sum().to_bytes()})


# ---- the parties' Hessian-vector products -------------------------------------------------------


def _sample(setting: StochasticQuasiNewtonParam, positions: np.ndarray | None, count: int) -> np.ndarray:
    batch = np.arange(count) if positions is None else np.asarray(positions, dtype=np.int64)
    if setting.sample_size >= len(batch):
        return batch
    chosen = np.random.RandomState(setting.random_seed).choice(batch, setting.sample_size, replace=False)
    return np.sort(chosen)


def _l2(param: Any, s: np.ndarray) -> np.ndarray:
    # FATE's hess_vector_norm: alpha·s with L2 (the intercept's too), nothing otherwise.
    return np.asarray(param.alpha * s if param.penalty == "L2" else np.zeros_like(s), dtype=np.float64)


def guest_product(
    trainer: GuestTrainer,
    tag: str,
    rows: Any,
    positions: np.ndarray | None,
    bounds: np.ndarray,
    s: np.ndarray,
) -> None:
    ctx, param = trainer.ctx, trainer.param
    count = int(bounds[-1])
    sample = _sample(param.sqn_param, positions, count)
    trainer.transfer.remote(sample.tolist(), role="host", tag=f"sqn.sample.{tag}")
    chosen = tables.selections(sample, bounds)
    forwards = [
        tables.receive_table(
            ctx, role="host", tag=f"sqn.forward.{i}.{tag}", index=i, partitions=trainer.partitions
        )
        for i in range(trainer.hosts)
    ]
    host = tables.zip_all(forwards, functools.partial(kernels.add_forwards, trainer.driver, trainer.key))
    fit_intercept = param.init_param.fit_intercept
    coef, intercept = (s[:-1], float(s[-1])) if fit_intercept else (s, 0.0)
    fn = functools.partial(
        guest_hess_fore, trainer.driver, trainer.key, coef, intercept, trainer.hess_scale, chosen
    )
    fore = rows.zip_partitions(host, fn).persist()
    tables.send_table(
        ctx,
        fore.map_partitions_with_index(kernels.fore_only),
        role="host",
        tag=f"sqn.fore.{tag}",
        index="all",
    )
    stats = tables.x_stats(rows, chosen)
    gradient_fn = functools.partial(
        kernels.guest_gradient, trainer.driver, trainer.key, chosen, stats, param.dot_precision
    )
    parts = [encoded.unpack(blob) for blob in tables.collect(rows.zip_partitions(fore, gradient_fn))]
    fore.unpersist()
    public_key = kernels._key(trainer.driver, trainer.key)
    scale = 1.0 / len(sample)
    product = encoded.total([encoded.data(p, "gradient") for p in parts], public_key) * scale
    if fit_intercept:
        summed = encoded.total([encoded.data(p, "sum") for p in parts], public_key) * scale
        product = EncryptedVector.concatenate([product, summed])
    trainer.transfer.remote(product + _l2(param, s), role="arbiter", tag=f"sqn.hess.guest.{tag}", index=0)


def host_product(
    trainer: HostTrainer, tag: str, rows: Any, bounds: np.ndarray, key: Any, s: np.ndarray
) -> None:
    ctx, param, me = trainer.ctx, trainer.param, trainer.ctx.party_index
    sample = np.asarray(trainer.transfer.get(role="guest", tag=f"sqn.sample.{tag}", index=0), dtype=np.int64)
    chosen = tables.selections(sample, bounds)
    forward = rows.map_partitions_with_index(trainer.forward_kernel(key, s, chosen, False))
    tables.send_table(ctx, forward, role="guest", tag=f"sqn.forward.{me}.{tag}", index=0)
    fore = tables.receive_table(ctx, role="guest", tag=f"sqn.fore.{tag}", index=0, partitions=rows.partitions)
    stats = tables.x_stats(rows, chosen)
    fn = functools.partial(kernels.host_gradient, trainer.driver, key, chosen, stats, param.dot_precision)
    public_key = kernels._key(trainer.driver, key)
    product = encoded.total(tables.collect(rows.zip_partitions(fore, fn)), public_key) * (1.0 / len(sample))
    trainer.transfer.remote(product + _l2(param, s), role="arbiter", tag=f"sqn.hess.host.{me}.{tag}", index=0)


def arbiter_product(ctx: Any, private_key: Any, tag: str, hosts: int) -> np.ndarray:
    """y = ∇²F·s decrypted, laid out as the gradient is (the guest's part, then each host's)."""
    guest = private_key.decrypt(ctx.transfer.get(role="guest", tag=f"sqn.hess.guest.{tag}", index=0))
    parts = [
        private_key.decrypt(ctx.transfer.get(role="host", tag=f"sqn.hess.host.{i}.{tag}", index=i))
        for i in range(hosts)
    ]
    return np.concatenate([np.asarray(guest, dtype=np.float64), *(np.asarray(p) for p in parts)])
