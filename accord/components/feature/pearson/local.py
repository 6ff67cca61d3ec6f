"""Each party's own part: standardizing its columns, their correlations and VIF, on block tables.

Standardizing follows FATE: z = (x - mean) / sigma with the population sigma over all rows, and a column
of sigma 0 takes no part (its correlations are NaN). Two passes over the partitions: the column sums,
then the Gram matrix of the centred values, whose diagonal gives sigma; the local correlation is that
Gram matrix over n·sigma_i·sigma_j, which is Z^T Z / n exactly as FATE defines it.
VIF is FATE's: for each column the ratio of the pseudo-determinants (the product of the eigenvalue
magnitudes, leaving out as many as the full matrix has below 1e-8) of the matrix without that column
and of the full matrix; for a non-singular matrix that is the diagonal of its inverse.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa

from accord.components.sdk import Dataset, DataTable
from accord.computing import Block
from accord.errors import DataFormatError

VIF_EIGEN_FLOOR = 1e-8
# A column whose sigma is this small against its magnitude is constant up to float rounding of the mean.
RELATIVE_SIGMA_FLOOR = 1e-12


def _features(meta: Mapping[str, Any], cols: list[int], block: Block) -> np.ndarray:
    if isinstance(block, bytes):
        raise DataFormatError("a table of feature rows holds a blob partition")
    values: np.ndarray = Dataset.of(pa.Table.from_batches([block]), meta).features()[:, cols]
    return values


def sums_pass(meta: Mapping[str, Any], cols: list[int], block: Block) -> tuple[int, np.ndarray]:
    values = _features(meta, cols, block)
    return len(values), values.sum(axis=0)


def gram_pass(meta: Mapping[str, Any], cols: list[int], mean: np.ndarray, block: Block) -> np.ndarray:
    centred = _features(meta, cols, block) - mean
    gram: np.ndarray = centred.T @ centred
    return gram


def gather_pass(meta: Mapping[str, Any], cols: list[int], block: Block) -> list[tuple[list[str], np.ndarray]]:
    if isinstance(block, bytes):
        raise DataFormatError("a table of feature rows holds a blob partition")
    rows = Dataset.of(pa.Table.from_batches([block]), meta)
    return [([str(sid) for sid in rows.ids()], rows.features()[:, cols])]


def _add_sums(left: tuple[int, np.ndarray] | None, right: tuple[int, np.ndarray] | None) -> Any:
    if left is None or right is None:
        return right if left is None else left
    return left[0] + right[0], left[1] + right[1]


def _add(left: np.ndarray | None, right: np.ndarray | None) -> np.ndarray | None:
    if left is None or right is None:
        return right if left is None else left
    added: np.ndarray = left + right
    return added


def _concat(left: list[Any], right: list[Any]) -> list[Any]:
    return left + right


@dataclass(frozen=True)
class Standardized:
    """The chosen columns' count, mean and sigma, and which of them (positions) have sigma > 0."""

    count: int
    mean: np.ndarray
    sigma: np.ndarray
    gram: np.ndarray
    remaining: list[int]

    @property
    def local_corr(self) -> np.ndarray:
        """Correlations of the remaining columns (unclipped), Z^T Z / n."""
        keep = self.remaining
        sigma = self.sigma[keep]
        corr: np.ndarray = self.gram[np.ix_(keep, keep)] / (self.count * np.outer(sigma, sigma))
        return corr


def standardize(data: DataTable, cols: list[int]) -> Standardized:
    meta = data.meta()
    found = data.table.aggregate(None, functools.partial(sums_pass, meta, cols), _add_sums)
    if found is None or found[0] == 0:
        raise DataFormatError("HeteroPearson's input has no rows", hint="check the intersection's output")
    count, total = found
    mean = total / count
    gram = data.table.aggregate(None, functools.partial(gram_pass, meta, cols, mean), _add)
    if gram is None:
        raise DataFormatError("HeteroPearson's input has no rows")
    if np.isnan(gram).any():
        raise DataFormatError(
            "HeteroPearson's chosen columns have missing values",
            hint="fill them first (FeatureImputation, or DataTransform's missing_fill)",
        )
    sigma = np.sqrt(np.maximum(np.diag(gram), 0.0) / count)
    floor = RELATIVE_SIGMA_FLOOR * np.maximum(1.0, np.abs(mean))
    remaining = [i for i in range(len(cols)) if sigma[i] > floor[i]]
    return Standardized(count, mean, sigma, gram, remaining)


def standardized_rows(data: DataTable, cols: list[int], std: Standardized) -> tuple[list[str], np.ndarray]:
    """Every row's z-scores of the remaining columns, in id order (both parties order rows alike)."""
    nothing: list[tuple[list[str], np.ndarray]] = []
    parts = data.table.aggregate(nothing, functools.partial(gather_pass, data.meta(), cols), _concat)
    ids = [sid for part_ids, _ in parts for sid in part_ids]
    values = np.concatenate([v for _, v in parts], axis=0) if parts else np.zeros((0, len(cols)))
    order = sorted(range(len(ids)), key=ids.__getitem__)
    keep = std.remaining
    z = (values[order][:, keep] - std.mean[keep]) / std.sigma[keep]
    return [ids[i] for i in order], z


def ids_digest(ids: list[str]) -> str:
    digest = hashlib.sha256()
    for sid in ids:
        digest.update(sid.encode() + b"\n")
    return digest.hexdigest()


def spread(block: np.ndarray, rows: list[int], cols: list[int], shape: tuple[int, int]) -> np.ndarray:
    """``block`` (remaining x remaining) clipped to [-1, 1] in a NaN matrix of every chosen column."""
    full = np.full(shape, np.nan)
    full[np.ix_(rows, cols)] = np.clip(block, -1.0, 1.0)
    return full


def vif(corr: np.ndarray) -> np.ndarray:
    size = corr.shape[0]
    magnitudes = np.sort(np.abs(np.linalg.eigvalsh(corr)))
    dropped = int(np.count_nonzero(magnitudes < VIF_EIGEN_FLOOR))
    whole = float(np.prod(magnitudes[dropped:]))
    found = np.empty(size)
    for i in range(size):
        others = [j for j in range(size) if j != i]
        minor = np.sort(np.abs(np.linalg.eigvalsh(corr[np.ix_(others, others)])))
        found[i] = float(np.prod(minor[dropped:])) / whole
    return found
