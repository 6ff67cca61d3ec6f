"""Which ids go to train, validate and test: FATE 1.11's DataSplitter arithmetic, in plain numpy.

FATE sorts the ids, then calls scikit-learn's ``train_test_split`` twice: train against the rest, then
the rest into validate and test. scikit-learn is not a runtime dependency here, so its procedure is
written out (the row counts it derives from the sizes, ShuffleSplit's permutation, StratifiedShuffleSplit's
per-class allocation by approximate mode and its draws from ``numpy.random.RandomState``): with the same
``random_state`` the same ids land in the same part as in FATE, and the tests hold it to scikit-learn.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from accord.components.data.split.params import DataSplitParam
from accord.errors import DataFormatError

# FATE's consts.FLOAT_ZERO.
FLOAT_ZERO = 1e-8
Size = int | float


@dataclass(frozen=True)
class Sizes:
    train: Size
    validate: Size
    test: Size


def resolve(param: DataSplitParam, count: int, component: str) -> Sizes:
    """FATE's param_validator: fill the sizes left None so the three make up all rows (1.0 or count)."""
    test, train, validate = param.test_size, param.train_size, param.validate_size
    total: Size = 1.0 if any(isinstance(v, float) for v in (test, train, validate)) else count
    if train is None:
        if validate is None:
            assert test is not None  # all three None was given FATE's defaults by the parameters
            train = total - test
            validate = total - (test + train)
        else:
            test = 0 if test is None else test
            train = total - (validate + test)
    elif test is None:
        if validate is None:
            test = total - train
            validate = total - (test + train)
        else:
            test = total - (validate + train)
    elif validate is None:
        validate = total - (test + train)
    assert test is not None and validate is not None
    if abs(abs(train) + abs(test) + abs(validate) - total) > FLOAT_ZERO:
        raise DataFormatError(
            f"{component}: train_size {train}, validate_size {validate} and test_size {test} do not add up "
            f"to {'1.0' if isinstance(total, float) else f'the {count} rows'}",
            hint="give shares (floats) summing to 1, or counts (ints) summing to the rows, or leave one None",
        )
    return Sizes(train, validate, test)


def _share(part: Size, whole: Size) -> float:
    share = part / whole if whole > FLOAT_ZERO else 0.0
    return min(share, 1.0)


def second_split_sizes(validate: Size, test: Size) -> tuple[Size, Size]:
    """FATE's get_train_test_size: counts stay counts; otherwise validate and test as shares of the rest."""
    if isinstance(validate, int) and isinstance(test, int):
        return validate, test
    whole = validate + test
    return _share(validate, whole), _share(test, whole)


def _kind(size: Size | None) -> str:
    return "" if size is None else ("i" if isinstance(size, int) else "f")


def row_counts(count: int, test: Size, train: Size, component: str) -> tuple[int, int]:
    """scikit-learn's (n_train, n_test) for these sizes, refused where scikit-learn refuses them."""

    def refuse(message: str) -> DataFormatError:
        return DataFormatError(
            f"{component}: {message}",
            hint="change train_size / validate_size / test_size so each part gets at least one row",
        )

    for name, size in (("test", test), ("train", train)):
        if (_kind(size) == "i" and not 0 < size < count) or (_kind(size) == "f" and not 0 < size < 1):
            raise refuse(f"a {name} part of {size} of {count} rows is empty or the whole set")
    if _kind(train) == "f" and _kind(test) == "f" and train + test > 1:
        raise refuse(f"shares {train} and {test} add up to more than 1")
    n_test = math.ceil(test * count) if _kind(test) == "f" else int(test)
    n_train = math.floor(train * count) if _kind(train) == "f" else int(train)
    if n_train + n_test > count:
        raise refuse(f"{n_train} train and {n_test} test rows are more than the {count} rows")
    if n_train == 0:
        raise refuse(f"with {count} rows the train part would be empty")
    return n_train, n_test


def _approximate_mode(class_counts: np.ndarray, draws: int, rng: np.random.RandomState) -> np.ndarray:
    """Rows per class for ``draws`` rows: proportional shares floored, the rest by largest remainder
    (ties broken at random), as scikit-learn allocates a stratified split."""
    continuous = class_counts / class_counts.sum() * draws
    floored = np.floor(continuous)
    missing = int(draws - floored.sum())
    if missing > 0:
        remainder = continuous - floored
        for value in np.sort(np.unique(remainder))[::-1]:
            (candidates,) = np.where(remainder == value)
            take = min(len(candidates), missing)
            floored[rng.choice(candidates, size=take, replace=False)] += 1
            missing -= take
            if missing == 0:
                break
    counts: np.ndarray = floored.astype(int)
    return counts


def _stratified(
    labels: np.ndarray, n_train: int, n_test: int, rng: np.random.RandomState, component: str
) -> tuple[np.ndarray, np.ndarray]:
    classes, inverse, class_counts = np.unique(labels, return_inverse=True, return_counts=True)
    if class_counts.min() < 2:
        raise DataFormatError(
            f"{component}: a stratified split needs at least 2 rows of each class; "
            f"{classes[class_counts < 2].tolist()[:10]} have one",
            hint="set stratified false, or (for a continuous label) choose split_points with fuller bins",
        )
    for part, rows in (("train", n_train), ("test", n_test)):
        if rows < len(classes):
            raise DataFormatError(
                f"{component}: the stratified {part} part of {rows} rows is smaller than the "
                f"{len(classes)} classes",
                hint="give that part a larger size, or set stratified false",
            )
    by_class = np.split(np.argsort(inverse, kind="stable"), np.cumsum(class_counts)[:-1])
    train_per_class = _approximate_mode(class_counts, n_train, rng)
    test_per_class = _approximate_mode(class_counts - train_per_class, n_test, rng)
    train: list[int] = []
    test: list[int] = []
    for index, members in enumerate(by_class):
        shuffled = members.take(rng.permutation(class_counts[index]), mode="clip")
        cut = train_per_class[index]
        train.extend(shuffled[:cut])
        test.extend(shuffled[cut : cut + test_per_class[index]])
    return rng.permutation(np.asarray(train, dtype=np.int64)), rng.permutation(
        np.asarray(test, dtype=np.int64)
    )


def train_test(
    count: int,
    labels: np.ndarray | None,
    *,
    test: Size,
    train: Size,
    param: DataSplitParam,
    component: str,
) -> tuple[np.ndarray, np.ndarray]:
    """Positions of the train and the test rows, as FATE's ``_split`` (scikit-learn's
    train_test_split) picks them from ``count`` rows; ``labels`` given for a stratified split."""
    everything = np.arange(count)
    nothing = np.zeros(0, dtype=np.int64)
    if test <= FLOAT_ZERO:
        return everything, nothing
    if train <= FLOAT_ZERO:
        return nothing, everything
    if not isinstance(test, int):
        train = round(train * count)
        test = count - train
    n_train, n_test = row_counts(count, test, train, component)
    if not param.shuffle:
        if param.stratified:
            raise DataFormatError(
                f"{component}: a stratified split needs shuffle", hint="set shuffle true or stratified false"
            )
        return np.arange(n_train), np.arange(n_train, n_train + n_test)
    # scikit-learn checks the derived counts once more before drawing.
    row_counts(count, n_test, n_train, component)
    # A fixed random_state seeds a fresh generator for each split, as scikit-learn's does.
    rng = np.random.RandomState(param.random_state)
    if param.stratified:
        assert labels is not None
        return _stratified(labels, n_train, n_test, rng, component)
    permutation = rng.permutation(count)
    return permutation[n_test : n_test + n_train], permutation[:n_test]


def regression_bins(labels: np.ndarray, split_points: list[float]) -> np.ndarray:
    """FATE's binned continuous label: the number of split points below the value (NaN past the last)."""
    bins = np.searchsorted(np.asarray(split_points, dtype=np.float64), labels, side="left")
    return np.where(np.isnan(labels), len(split_points) + 1, bins)


@dataclass(frozen=True)
class Assignment:
    train: np.ndarray
    validate: np.ndarray
    test: np.ndarray
    # Stratification labels of each part (None when not stratified).
    labels: tuple[np.ndarray, np.ndarray, np.ndarray] | None


def assign(ids: np.ndarray, labels: np.ndarray | None, param: DataSplitParam, component: str) -> Assignment:
    """The ids of each part: ``ids`` sorted as FATE sorts them, ``labels`` aligned to ``ids``."""
    order = sorted(range(len(ids)), key=lambda position: ids[position])
    sorted_ids = np.asarray(ids, dtype=object)[order]
    count = len(sorted_ids)
    sizes = resolve(param, count, component)
    y = np.zeros(count) if labels is None else np.asarray(labels, dtype=np.float64)[order]
    points = param.sorted_split_points()
    if param.stratified and points:
        y = regression_bins(y, points)
    train, rest = train_test(
        count,
        y if param.stratified else None,
        test=sizes.test + sizes.validate,
        train=sizes.train,
        param=param,
        component=component,
    )
    validate_size, test_size = second_split_sizes(sizes.validate, sizes.test)
    rest_y = y[rest]
    validate, test = train_test(
        len(rest),
        rest_y if param.stratified else None,
        test=test_size,
        train=validate_size,
        param=param,
        component=component,
    )
    parts_y = (y[train], rest_y[validate], rest_y[test]) if param.stratified else None
    return Assignment(sorted_ids[train], sorted_ids[rest][validate], sorted_ids[rest][test], parts_y)
