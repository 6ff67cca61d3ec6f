"""The local references of FATE's benchmark-quality cases: scikit-learn on the same rows, in-process.

FATE 1.11's local scripts fit scikit-learn's SGD models on the parties' files put together — hetero:
the guest's rows in its order with the host's columns of the same id; homo: the guest's rows then the
host's — and score the training rows. What each does:

- ``hetero_lr/sklearn-lr-binary.py``: ``SGDClassifier`` (log loss, the YAML's penalty and alpha,
  ``learning_rate="optimal"``, ``max_iter=100``, ``random_state=105``); auc, macro recall and
  precision, accuracy;
- ``hetero_lr/sklearn-lr-multi.py``: the same with the YAML's ``max_iter`` and ``shuffle=False``;
  accuracy;
- ``homo_lr/sklearn-lr-binary.py``: as the hetero one, ``max_iter=100``, no seed in FATE's script
  (here :data:`HOMO_BINARY_SEED`, so that runs repeat); auc;
- ``homo_lr/sklearn-lr-multi.py``: the YAML's ``max_iter``, ``random_state=123``; accuracy;
- ``hetero_linear_regression/local-linr.py``: ``SGDRegressor`` (squared loss, the YAML's penalty,
  its ``max_iter``, ``average`` = its ``batch_size``, ``random_state=42``, the other settings
  scikit-learn's defaults); r2, mean squared error, its root, explained variance.

FATE's scripts were written for an older scikit-learn: its ``loss="log"`` and ``"squared_loss"`` are
today's ``"log_loss"`` and ``"squared_error"``, and its penalty ``"L2"`` is given lower-cased.
"""

from __future__ import annotations

import csv
import warnings
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.exceptions import ConvergenceWarning  # type: ignore[import-untyped]
from sklearn.linear_model import SGDClassifier, SGDRegressor  # type: ignore[import-untyped]
from sklearn.metrics import (  # type: ignore[import-untyped]
    accuracy_score,
    explained_variance_score,
    mean_squared_error,
    precision_score,
    r2_score,
    recall_score,
    roc_auc_score,
)

from accord.errors import DataFormatError, DataMismatchError

HOMO_BINARY_SEED = 0
Rows = tuple[np.ndarray, np.ndarray]


def _read(path: Path, id_column: str, label: str | None) -> tuple[list[str], np.ndarray, np.ndarray | None]:
    """Ids, features (every column but the id and ``label``) and labels of a CSV with a header."""
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle)
        header = next(reader)
        rows = list(reader)
    if id_column not in header:
        raise DataFormatError(f"{path.name} has no id column {id_column!r}")
    id_at = header.index(id_column)
    label_at = header.index(label) if label is not None and label in header else None
    feature_at = [i for i in range(len(header)) if i not in (id_at, label_at)]
    try:
        features = np.array([[float(row[i]) for i in feature_at] for row in rows])
        labels = None if label_at is None else np.array([float(row[label_at]) for row in rows])
    except ValueError as error:
        raise DataFormatError(f"{path.name}: a value is not a number ({error})") from None
    return [row[id_at] for row in rows], features, labels


def hetero_rows(guest: Path, host: Path, id_column: str, label: str) -> Rows:
    """The guest's rows in its order, each with the host's features of the same id appended."""
    guest_ids, guest_x, labels = _read(guest, id_column, label)
    host_ids, host_x, _ = _read(host, id_column, None)
    position = {row_id: i for i, row_id in enumerate(host_ids)}
    missing = [row_id for row_id in guest_ids if row_id not in position]
    if missing or labels is None:
        raise DataMismatchError(
            f"{guest.name} and {host.name} do not join: "
            + (f"{len(missing)} guest ids missing from the host" if missing else f"no label {label!r}")
        )
    joined = np.hstack([guest_x, host_x[[position[row_id] for row_id in guest_ids]]])
    return joined, labels


def homo_rows(guest: Path, host: Path, id_column: str, label: str) -> Rows:
    """The guest's rows, then the host's."""
    parts = [_read(path, id_column, label) for path in (guest, host)]
    labels = [part[2] for part in parts]
    if any(part is None for part in labels):
        raise DataFormatError(f"{guest.name} or {host.name} has no label {label!r}")
    return np.vstack([part[1] for part in parts]), np.concatenate(
        [part for part in labels if part is not None]
    )


def _classifier(yaml: Mapping[str, Any], max_iter: int, **fixed: Any) -> SGDClassifier:
    return SGDClassifier(
        loss="log_loss",
        penalty=str(yaml["penalty"]).lower(),
        max_iter=max_iter,
        alpha=float(yaml["alpha"]),
        learning_rate="optimal",
        eta0=float(yaml["learning_rate"]),
        **fixed,
    )


def _fit(model: Any, rows: Rows) -> Any:
    with warnings.catch_warnings():
        # FATE's scripts stop at their max_iter on purpose.
        warnings.simplefilter("ignore", ConvergenceWarning)
        return model.fit(*rows)


def _binary(rows: Rows, model: SGDClassifier, *, all_metrics: bool) -> dict[str, float]:
    fitted = _fit(model, rows)
    labels = rows[1]
    predicted = fitted.predict(rows[0])
    result = {"auc": float(roc_auc_score(labels, fitted.predict_proba(rows[0])[:, 1]))}
    if all_metrics:
        result.update(
            recall=float(recall_score(labels, predicted, average="macro")),
            precision=float(precision_score(labels, predicted, average="macro")),
            accuracy=float(accuracy_score(labels, predicted)),
        )
    return result


def _accuracy(rows: Rows, model: SGDClassifier) -> dict[str, float]:
    fitted = _fit(model, rows)
    return {"accuracy": float(accuracy_score(rows[1], fitted.predict(rows[0])))}


def _regression(rows: Rows, yaml: Mapping[str, Any]) -> dict[str, float]:
    model = SGDRegressor(
        loss="squared_error",
        penalty=str(yaml["penalty"]).lower(),
        random_state=42,
        fit_intercept=True,
        max_iter=int(yaml["max_iter"]),
        average=int(yaml["batch_size"]),
    )
    fitted = _fit(model, rows)
    predicted = fitted.predict(rows[0])
    error = float(mean_squared_error(rows[1], predicted))
    return {
        "r2_score": float(r2_score(rows[1], predicted)),
        "mean_squared_error": error,
        "root_mean_squared_error": float(np.sqrt(error)),
        "explained_variance": float(explained_variance_score(rows[1], predicted)),
    }


_Reference = Callable[[Rows, Mapping[str, Any]], dict[str, float]]
# (folder, script) -> (how the files are put together, what is fitted and reported)
REFERENCES: dict[tuple[str, str], tuple[Callable[[Path, Path, str, str], Rows], _Reference]] = {
    ("hetero_lr", "sklearn-lr-binary.py"): (
        hetero_rows,
        lambda rows, y: _binary(rows, _classifier(y, 100, random_state=105), all_metrics=True),
    ),
    ("hetero_lr", "sklearn-lr-multi.py"): (
        hetero_rows,
        lambda rows, y: _accuracy(rows, _classifier(y, int(y["max_iter"]), random_state=105, shuffle=False)),
    ),
    ("homo_lr", "sklearn-lr-binary.py"): (
        homo_rows,
        lambda rows, y: _binary(rows, _classifier(y, 100, random_state=HOMO_BINARY_SEED), all_metrics=False),
    ),
    ("homo_lr", "sklearn-lr-multi.py"): (
        homo_rows,
        lambda rows, y: _accuracy(rows, _classifier(y, int(y["max_iter"]), random_state=123)),
    ),
    ("hetero_linear_regression", "local-linr.py"): (hetero_rows, _regression),
}


def is_local_script(folder: str, script: str) -> bool:
    return (folder, script.rsplit("/", 1)[-1]) in REFERENCES


def run_local(folder: str, script: str, yaml: Mapping[str, Any], fate_root: Path) -> dict[str, float]:
    """The metrics the local script reports for ``yaml``, its data files read under ``fate_root``."""
    rows_of, reference = REFERENCES[(folder, script.rsplit("/", 1)[-1])]
    rows = rows_of(
        fate_root / str(yaml["data_guest"]),
        fate_root / str(yaml["data_host"]),
        str(yaml["idx"]),
        str(yaml["label_name"]),
    )
    return reference(rows, yaml)
