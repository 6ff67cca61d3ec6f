"""DataTransform's missing fill and outlier replace, in fit and in predict, against numpy."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from accord.components.sdk import Dataset
from accord.errors import DataMismatchError
from accord.identity import Party
from tests.components.transform_support import (
    DATA,
    GUEST,
    HOST,
    harness,
    raw_from_file,
    raw_from_lines,
    run_transform,
    transform_job,
)

BREAST_GUEST = DATA / "breast_hetero_guest.csv"
BREAST_HOST = DATA / "breast_hetero_host.csv"


def _nan_stat(method: str, column: np.ndarray) -> float:
    """The statistic of the column's values that are present; NaN when none is."""
    present = column[~np.isnan(column)]
    if not present.size:
        return float("nan")
    if method == "mean":
        return float(np.mean(present))
    return float(np.min(present) if method == "min" else np.max(present))


def _fill(matrix: np.ndarray, method: str) -> np.ndarray:
    filled = matrix.copy()
    for j in range(matrix.shape[1]):
        filled[np.isnan(matrix[:, j]), j] = _nan_stat(method, matrix[:, j])
    return filled


def test_missing_fill_of_the_corpus_conf(tmp_path: Path) -> None:
    # data_transform/test_data_transform_missing_fill_conf.json: guest mean, host designated 0.
    guest_file, host_file = (
        DATA / "ionosphere_scale_hetero_guest.csv",
        DATA / "ionosphere_scale_hetero_host.csv",
    )
    guest_params = {
        "with_label": True,
        "label_name": "label",
        "missing_fill": True,
        "missing_fill_method": "mean",
    }
    host_params = {"missing_fill": True, "missing_fill_method": "designated", "default_value": 0}
    guest, host, guest_model, _ = run_transform(
        tmp_path, (raw_from_file(guest_file), guest_params), (raw_from_file(host_file), host_params)
    )
    guest_raw = np.genfromtxt(guest_file, delimiter=",", skip_header=1)
    host_raw = np.genfromtxt(host_file, delimiter=",", skip_header=1)

    # x2 is empty in every guest row: its mean is NaN, as FATE's column statistics give.
    assert np.array_equal(guest.features(), _fill(guest_raw[:, 2:], "mean"), equal_nan=True)
    assert np.array_equal(guest.labels(), guest_raw[:, 1])  # type: ignore[arg-type]
    assert np.array_equal(host.features(), np.nan_to_num(host_raw[:, 1:], nan=0.0))

    rates = guest_model["missing"]["rate"]
    assert rates == {
        name: float(r) for name, r in zip(guest.header, np.isnan(guest_raw[:, 2:]).mean(axis=0), strict=True)
    }
    summary = json.loads(
        (tmp_path / "jobs").glob("*/guest_9999/outputs/data_transform_0/summary.json").__next__().read_text()
    )
    assert set(summary["missing_fill_info"]["missing_impute_rate"]) == set(guest.header)


def _with_holes(path: Path, seed: int, markers: list[str]) -> tuple[list[str], np.ndarray, np.ndarray]:
    """The file with some value cells replaced by ``markers``: its lines, the clean matrix, and which
    marker went where (index into markers, -1 for none)."""
    lines = path.read_text().splitlines()
    rows = [line.split(",") for line in lines[1:]]
    first_value = 2 if lines[0].split(",")[1] == "y" else 1
    clean = np.array([[float(v) for v in row[first_value:]] for row in rows])
    rng = np.random.default_rng(seed)
    where = np.where(rng.random(clean.shape) < 0.08, rng.integers(0, len(markers), clean.shape), -1)
    for i, row in enumerate(rows):
        for j in np.flatnonzero(where[i] >= 0):
            row[first_value + j] = markers[where[i, j]]
    return [lines[0]] + [",".join(row) for row in rows], clean, where


@pytest.mark.parametrize("missing_method,outlier_method", [("mean", "max"), ("min", "mean"), (None, "min")])
def test_missing_then_outlier_against_numpy(
    tmp_path: Path, missing_method: str | None, outlier_method: str
) -> None:
    markers = ["", "NA", "-9999", "?"]
    lines, clean, where = _with_holes(BREAST_GUEST, 3, markers)
    params = {
        "with_label": True,
        "missing_fill": True,
        "missing_fill_method": missing_method,
        "outlier_replace": True,
        "outlier_replace_method": outlier_method,
        "outlier_impute": [-9999, "?"],
    }
    guest, _, model, _ = run_transform(
        tmp_path, (raw_from_lines(lines), params), (raw_from_file(BREAST_HOST), {})
    )

    missing, outlier = (where == 0) | (where == 1), (where == 2) | (where == 3)
    # Missing fill looks at every other cell that is a number (-9999 included, "?" not).
    before_fill = np.where(missing | (where == 3), np.nan, np.where(where == 2, -9999.0, clean))
    fills = [
        0.0 if missing_method is None else _nan_stat(missing_method, before_fill[:, j])
        for j in range(clean.shape[1])
    ]
    filled = np.where(missing, np.array(fills), before_fill)
    # A filled cell reads as its fill value: when that is -9999 (a min fill) it is an outlier too.
    outlier = outlier | (missing & (np.array(fills) == -9999.0))
    replaces = [
        _nan_stat(outlier_method, np.where(outlier[:, j], np.nan, filled[:, j]))
        for j in range(clean.shape[1])
    ]
    expected = np.where(outlier, np.array(replaces), filled)

    assert np.array_equal(guest.features(), expected)
    assert [float(model["missing"]["fill"][name]) for name in guest.header] == fills
    assert [float(model["outlier"]["fill"][name]) for name in guest.header] == replaces
    assert [model["outlier"]["rate"][name] for name in guest.header] == list(outlier.mean(axis=0))


def test_designated_values_per_column_and_missing_without_fill_is_nan(tmp_path: Path) -> None:
    lines, clean, where = _with_holes(BREAST_HOST, 11, ["", "-1"])
    designated = [float(j) / 10 for j in range(clean.shape[1])]
    host_params = {
        "outlier_replace": True,
        "outlier_impute": ["-1"],
        "outlier_replace_method": "designated",
        "outlier_replace_value": designated,
    }
    guest_lines, guest_clean, guest_where = _with_holes(BREAST_GUEST, 5, ["", "NULL", "null", "NA"])
    guest, host, _, _ = run_transform(
        tmp_path, (raw_from_lines(guest_lines), {"with_label": True}), (raw_from_lines(lines), host_params)
    )
    # Without missing_fill FATE's missing markers become NaN.
    assert np.array_equal(guest.features(), np.where(guest_where >= 0, np.nan, guest_clean), equal_nan=True)
    expected = np.where(where == 1, np.array(designated), np.where(where == 0, np.nan, clean))
    assert np.array_equal(host.features(), expected, equal_nan=True)


def test_tag_value_missing_fill_treats_absent_tags_as_missing(tmp_path: Path) -> None:
    path = DATA / "tag_value_1000_140.csv"
    params = {
        "input_format": "tag",
        "tag_with_value": True,
        "missing_fill": True,
        "missing_fill_method": "mean",
    }
    _, host, _, _ = run_transform(
        tmp_path, (raw_from_file(BREAST_GUEST), {"with_label": True}), (raw_from_file(path), params)
    )
    rows = [line.split(",") for line in path.read_text().splitlines()[1:]]
    tags = sorted({field.split(":")[0] for row in rows for field in row[1:]})
    column = {tag: j for j, tag in enumerate(tags)}
    present = np.full((len(rows), len(tags)), np.nan)
    for i, row in enumerate(rows):
        for field in row[1:]:
            tag, value = field.split(":")
            present[i, column[tag]] = float(value)
    assert np.allclose(host.features(), _fill(present, "mean"), rtol=0, atol=1e-12)


def _predict_job(
    tmp_path: Path, train: list[str], predict: list[str], params: dict[str, object]
) -> tuple[dict[str, Any], Dataset | BaseException]:
    dsl, conf = transform_job(params, {}, with_predict=True)
    with harness(tmp_path, dsl, conf) as running:
        running.plant(*GUEST, "reader_0", raw_from_lines(train))
        running.plant(*GUEST, "reader_1", raw_from_lines(predict))
        for name in ("reader_0", "reader_1"):
            running.plant(*HOST, name, raw_from_file(BREAST_HOST))
        running.run_ok("data_transform_0")
        results = running.run("data_transform_1")
        error = results[Party(role="guest", party_id=GUEST[1])]
        model = running.model(*GUEST, "data_transform_0")
        output = running.output(*GUEST, "data_transform_1") if error is None else error
    return model, output


def test_predict_reuses_training_header_and_fills(tmp_path: Path) -> None:
    train_lines, train_clean, train_where = _with_holes(BREAST_GUEST, 21, ["", "-9999"])
    predict_lines, predict_clean, predict_where = _with_holes(BREAST_GUEST, 22, ["", "-9999"])
    # The predict table has its columns in another order, an extra column, and no label.
    table = [line.split(",") for line in predict_lines]
    order = [0, *reversed(range(2, len(table[0])))]
    shuffled = [
        ",".join([*(row[k] for k in order), "extra" if i == 0 else "1"]) for i, row in enumerate(table)
    ]
    params = {
        "with_label": True,
        "missing_fill": True,
        "missing_fill_method": "mean",
        "outlier_replace": True,
        "outlier_impute": [-9999],
        "outlier_replace_method": "max",
    }
    model, output = _predict_job(tmp_path, train_lines, shuffled, params)

    train_missing = np.where(train_where == 0, np.nan, np.where(train_where == 1, -9999.0, train_clean))
    means = np.array([_nan_stat("mean", train_missing[:, j]) for j in range(train_clean.shape[1])])
    filled = np.where(train_where == 0, means, train_missing)
    maxima = np.array(
        [
            _nan_stat("max", np.where(train_where[:, j] == 1, np.nan, filled[:, j]))
            for j in range(filled.shape[1])
        ]
    )
    expected = np.where(predict_where == 0, means, np.where(predict_where == 1, maxima, predict_clean))

    assert isinstance(output, Dataset)
    assert list(output.header) == model["header"]
    assert np.array_equal(output.features(), expected)
    assert output.labels() is None


def test_predict_table_missing_a_training_column_is_a_mismatch(tmp_path: Path) -> None:
    lines = BREAST_GUEST.read_text().splitlines()
    without_x4 = [",".join(field for k, field in enumerate(line.split(",")) if k != 6) for line in lines]
    _, error = _predict_job(tmp_path, lines, without_x4, {"with_label": True})
    assert isinstance(error, DataMismatchError)
    assert "x4" in error.message
