"""K-fold cross validation (FATE's ``cv_param``) for any training component.

What FATE 1.11's ``model_selection/k_fold.py`` does, as one piece every training component opts into:

- the folds are scikit-learn's ``KFold(n_splits, shuffle, random_state=random_seed)`` over the sorted
  sample ids (re-implemented: the same permutation, ``RandomState(seed).shuffle``, and fold sizes).
  ``mode="hetero"``: the label party (the guest) draws them and sends each sid's fold to the hosts, so
  every party puts each row in the same fold; ``mode="homo"``: each client draws its own over its own
  rows. Parties without data (the arbiter) only run the folds;
- per fold the component's own fit runs on a :class:`ScopedContext` whose ``train_data`` is the
  fold's training rows and ``validate_data`` its held-out rows (FATE's ``model.fit(train, test)``);
  values it exchanges carry ``cv.<fold>.``, its metrics are renamed ``<name>.<fold>`` (FATE's
  ``callback_metric`` under cv) and its summary becomes the task's ``fold_<k>``;
- the label party evaluates each fold's train and validate predictions and records them as FATE's
  Evaluation does for cv (namespace ``train``/``validate``, name ``train_fold_<k>`` /
  ``validate_fold_<k>``, an EVALUATION_SUMMARY of ``[metric, value]``), then their mean and standard
  deviation over the folds (``train_fold_mean`` / ``..._std``, what FATE-Board shows for cv);
- the data output is FATE's fold history when ``output_fold_history``: with ``history_value_type``
  "score" every fold's predictions with ids ``<id>#fold<k>#<train|validate>`` (a party without labels:
  the fold number of each such id), with "instance" every fold's input rows under those ids; else the
  input rows unchanged.

How a component opts in: give its parameters FATE's ``cv_param`` section; in ``check_supported`` call
:func:`check_supported`; in ``fit``, when ``cv_param.need_cv``, call ``fit_with_folds(ctx,
ctx.params.cv_param, mode=..., fit=<the plain fit>, meta=...)`` (the plain fit reads ``train_data`` /
``validate_data`` and saves data, model and summary through the context it is given); in ``predict``
and ``scorer`` call :func:`refuse_cv_model`. ``evaluate`` scores one split's predictions
(default: binary AUC/KS, or accuracy/precision/recall for multi-class predict details); regression
passes its own.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Protocol, TypeVar

import numpy as np
import pyarrow as pa

from accord.components.sdk import layout
from accord.components.sdk.context import ComponentContext
from accord.components.sdk.dataset import SID, Dataset
from accord.components.sdk.scoped import ScopedContext, data_ref
from accord.components.sdk.tables import DataTable, save_table
from accord.computing import Block
from accord.errors import ComponentFeatureUnsupported, ComponentParameterError, DataFormatError

FoldFit = Callable[[ComponentContext[Any]], None]
Evaluate = Callable[[Dataset], dict[str, float]]
TRAIN, VALIDATE = "train", "validate"
R = TypeVar("R")


class CvSettings(Protocol):
    @property
    def n_splits(self) -> int: ...
    @property
    def shuffle(self) -> bool: ...
    @property
    def random_seed(self) -> int | None: ...
    @property
    def output_fold_history(self) -> bool: ...


def kfold(count: int, n_splits: int, shuffle: bool, seed: int | None) -> np.ndarray:
    """The fold of each of ``count`` positions, as scikit-learn's KFold splits them."""
    if n_splits < 2 or n_splits > count:
        raise ComponentParameterError(
            f"cv_param.n_splits is {n_splits} for {count} rows",
            hint="give n_splits between 2 and the number of rows",
            field="cv_param.n_splits",
        )
    order = np.arange(count)
    if shuffle:
        np.random.RandomState(seed).shuffle(order)
    sizes = np.full(n_splits, count // n_splits, dtype=np.int64)
    sizes[: count % n_splits] += 1
    folds = np.empty(count, dtype=np.int64)
    folds[order] = np.repeat(np.arange(n_splits), sizes)
    return folds


# ---- per partition (module level: the engines pickle them) ------------------------------------


def _sids(block: Block) -> list[list[str]]:
    if isinstance(block, bytes):
        raise DataFormatError("cross validation reads rows, and this partition is a blob")
    return [[str(sid) for sid in block.column(SID).to_pylist()]]


def _concat(left: list[Any], right: list[Any]) -> list[Any]:
    return left + right


def _select(folds: tuple[np.ndarray, ...], fold: int, held_out: bool, index: int, block: Block) -> Block:
    if isinstance(block, bytes):
        raise DataFormatError("cross validation reads rows, and this partition is a blob")
    mine = folds[index]
    return block.filter(pa.array(mine == fold if held_out else (mine != fold) & (mine >= 0)))


# ---- evaluation -------------------------------------------------------------------------------


def classification_scores(predicted: Dataset) -> dict[str, float]:
    """FATE's single-value default metrics for a classifier's predictions of one split."""
    from accord.components.evaluation.metrics import binary_metrics, multiclass_metrics

    if len(predicted) == 0:
        return {}
    labels = predicted.column("label")
    details = predicted.column("predict_detail")
    if len(json.loads(str(details[0]))) > 2:
        found = multiclass_metrics(
            labels, predicted.column("predict_result"), metrics=["accuracy", "precision", "recall"]
        )
    elif len(np.unique(labels)) < 2:
        return {}
    else:
        found = binary_metrics(labels, predicted.column("predict_score"), metrics=["auc", "ks"])
    return {name: float(result.value) for name, result in found.items() if result.value is not None}


def regression_scores(predicted: Dataset) -> dict[str, float]:
    """A regressor's predictions of one split: FATE's default regression metrics for validation."""
    from accord.components.evaluation.regression import regression_metrics

    if len(predicted) == 0:
        return {}
    found = regression_metrics(
        predicted.column("label"),
        predicted.column("predict_result"),
        metrics=["root_mean_squared_error", "mean_absolute_error"],
    )
    return {name: float(result.value) for name, result in found.items() if result.value is not None}


# ---- the folds --------------------------------------------------------------------------------


def run(
    ctx: ComponentContext[Any],
    cv: CvSettings,
    *,
    mode: Literal["hetero", "homo"],
    fit: FoldFit,
    evaluate: Evaluate = classification_scores,
    label_role: str = "guest",
) -> dict[str, Any]:
    """Run ``fit`` once per fold (see the module's doc); returns the task's summary."""
    data = ctx.input_table("train_data") or ctx.input_table("data")
    scratch = ctx.task.work_dir / "cv"
    summary: dict[str, Any] = {}
    width = fold_parallelism(ctx, cv.n_splits)
    if data is None:
        # A party without rows (the arbiter) takes part in every fold's protocol.
        def arbitrate(fold: int) -> dict[str, Any]:
            scoped = _scoped(ctx, fold, cv.n_splits, scratch, inputs=None)
            fit(scoped)
            return scoped.summary

        for fold, fold_summary in enumerate(_each_fold(cv.n_splits, width, arbitrate)):
            summary[f"fold_{fold}"] = fold_summary
        summary["fold_num"] = cv.n_splits
        return summary

    folds = _agree(ctx, cv, data, mode, label_role)
    labelled = mode == "homo" or ctx.role == label_role
    # FATE's history_value_type: the folds' predictions ("score") or their input rows ("instance").
    instances = getattr(cv, "history_value_type", "score") == "instance"
    keep_rows = instances and cv.output_fold_history
    if width > 1:
        ctx.log.info("cross validation: %d folds, %d at a time (task_parallelism)", cv.n_splits, width)
    runs = _each_fold(
        cv.n_splits,
        width,
        functools.partial(_fit_fold, ctx, fit, data, folds, cv.n_splits, scratch, keep_rows),
    )
    history: list[Dataset] = []
    scores: dict[str, list[dict[str, float]]] = {TRAIN: [], VALIDATE: []}
    # Recorded in fold order whatever order the folds finished in.
    for fold, done in enumerate(runs):
        summary[f"fold_{fold}"] = done.summary
        history.extend(done.rows)
        output = done.output
        if labelled and output is not None and output.kind == "predict":
            for split in (TRAIN, VALIDATE):
                found = evaluate(_rows_of(output, split))
                scores[split].append(found)
                ctx.tracker.log_metric(
                    split,
                    f"{split}_fold_{fold}",
                    [[name, round(value, 6)] for name, value in found.items()],
                    metric_type="EVALUATION_SUMMARY",
                    meta={"metrics": list(found), "curve_name": f"{split}_fold_{fold}"},
                )
            if cv.output_fold_history and not instances:
                history.append(_renamed(output, fold))
        elif cv.output_fold_history and not instances:
            history.append(_fold_numbers(data, folds, fold))
    summary["fold_num"] = cv.n_splits
    if labelled:
        summary.update(_record_spread(ctx, scores))
    if cv.output_fold_history and history:
        ctx.save_data(
            Dataset(
                pa.concat_tables([part.table for part in history]),
                history[0].kind,
                history[0].header,
                history[0].sid_name,
                history[0].label_name,
            )
        )
    else:
        ctx.save_table(data)
    return summary


def fold_parallelism(ctx: ComponentContext[Any], n_splits: int) -> int:
    """How many folds run at once: the job's ``task_parallelism``, at most ``n_splits``.

    The job holds ``task_cores`` x ``task_parallelism`` cores, so as many folds as FATE would run
    tasks at once fit in them; with the default of 1 the folds run one after another.
    """
    params = ctx.plan.party(ctx.role, ctx.party_id).job_parameters
    return max(1, min(n_splits, params.task_parallelism))


@dataclass(frozen=True)
class _FoldRun:
    summary: dict[str, Any]
    output: Dataset | None
    rows: list[Dataset]  # the fold's train and held-out input rows (history_value_type "instance")


def _each_fold(n_splits: int, width: int, work: Callable[[int], R]) -> list[R]:
    """``work(fold)`` for every fold, ``width`` at a time, results in fold order.

    Each fold's exchanges carry their own ``cv.<fold>.`` tags, so folds in flight at once never read
    each other's values, and a peer running them in another order only makes this party wait.
    """
    if width <= 1:
        return [work(fold) for fold in range(n_splits)]
    pool = ThreadPoolExecutor(max_workers=width, thread_name_prefix="cv-fold")
    try:
        return list(pool.map(work, range(n_splits)))
    except BaseException:
        # A failed fold fails the task now; folds not started yet never start.
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    finally:
        pool.shutdown(wait=True)


def _fit_fold(
    ctx: ComponentContext[Any],
    fit: FoldFit,
    data: DataTable,
    folds: tuple[np.ndarray, ...],
    n_splits: int,
    scratch: Path,
    keep_rows: bool,
    fold: int,
) -> _FoldRun:
    ctx.check_cancelled()
    root = scratch / f"fold_{fold}"
    inputs = []
    rows: list[Dataset] = []
    for slot, name, held_out in (("train_data", "fold_train", False), ("validate_data", "fold_test", True)):
        part = data.table.map_partitions_with_index(
            functools.partial(_select, folds, fold, held_out), preserves_sids=True
        )
        ref = data_ref(slot, name)
        path = layout.data_path(root / "in", ref.component, ref.output)
        save_table(data.with_table(part), path)
        inputs.append(ref)
        if keep_rows:
            rows.append(_tagged(Dataset.load(path), fold, VALIDATE if held_out else TRAIN))
    scoped = _scoped(ctx, fold, n_splits, root, inputs=(root / "in", inputs))
    fit(scoped)
    output_path = scoped.output_path()
    output = Dataset.load(output_path) if output_path.exists() else None
    ctx.log.info("cross validation: fold %d/%d done", fold + 1, n_splits)
    return _FoldRun(scoped.summary, output, rows)


def _scoped(
    ctx: ComponentContext[Any],
    fold: int,
    folds: int,
    root: Any,
    inputs: tuple[Any, list[Any]] | None,
) -> ScopedContext[Any]:
    return ScopedContext(
        ctx,
        tag_prefix=f"cv.{fold}.",
        outputs_root=root / "out",
        inputs_root=inputs[0] if inputs is not None else None,
        data_inputs=inputs[1] if inputs is not None else [],
        metric_name=lambda name: f"{name}.{fold}",
        share=(fold, folds),
    )


def _agree(
    ctx: ComponentContext[Any], cv: CvSettings, data: DataTable, mode: str, label_role: str
) -> tuple[np.ndarray, ...]:
    """Each partition's fold of each row (-1: a row the label party does not have)."""
    nothing: list[list[str]] = []
    sids = data.table.aggregate(nothing, _sids, _concat)
    every = [sid for part in sids for sid in part]
    if mode == "homo" or ctx.role == label_role:
        ordered = sorted(set(every))
        drawn = kfold(len(ordered), cv.n_splits, cv.shuffle, cv.random_seed)
        by_sid = dict(zip(ordered, drawn.tolist(), strict=True))
        if mode == "hetero":
            ctx.transfer.remote({"sids": ordered, "folds": drawn.tolist()}, role="host", tag="cv.folds")
    else:
        sent = ctx.transfer.get(role=label_role, tag="cv.folds", index=0)
        by_sid = dict(zip(sent["sids"], sent["folds"], strict=True))
    return tuple(np.array([by_sid.get(sid, -1) for sid in part], dtype=np.int64) for part in sids)


def _rows_of(predicted: Dataset, split: str) -> Dataset:
    chosen = np.flatnonzero(predicted.column("type") == split)
    return predicted.take(chosen)


def _renamed(predicted: Dataset, fold: int) -> Dataset:
    """FATE's fold history ids: ``<id>#fold<k>#<type>``."""
    ids = predicted.column(SID)
    types = predicted.column("type")
    renamed = [f"{sid}#fold{fold}#{kind}" for sid, kind in zip(ids, types, strict=True)]
    position = predicted.table.column_names.index(SID)
    table = predicted.table.set_column(position, SID, pa.array(renamed, type=pa.string()))
    return Dataset(table, predicted.kind, predicted.header, predicted.sid_name, predicted.label_name)


def _tagged(rows: Dataset, fold: int, kind: str) -> Dataset:
    """A fold's input rows under FATE's fold history ids (history_value_type "instance")."""
    position = rows.table.column_names.index(SID)
    renamed = [f"{sid}#fold{fold}#{kind}" for sid in rows.column(SID)]
    table = rows.table.set_column(position, SID, pa.array(renamed, type=pa.string()))
    return Dataset(table, rows.kind, rows.header, rows.sid_name, rows.label_name)


def _fold_numbers(data: DataTable, folds: tuple[np.ndarray, ...], fold: int) -> Dataset:
    """A party without labels: each row's id as FATE names it in the history, and its fold number."""
    nothing: list[list[str]] = []
    sids = [sid for part in data.table.aggregate(nothing, _sids, _concat) for sid in part]
    where = np.concatenate(folds) if folds else np.zeros(0, dtype=np.int64)
    ids = [
        f"{sid}#fold{fold}#{VALIDATE if at == fold else TRAIN}"
        for sid, at in zip(sids, where.tolist(), strict=True)
        if at >= 0
    ]
    values = np.full((len(ids), 1), float(fold))
    return Dataset.instances(ids, values, header=["fold_num"], sid_name=data.sid_name)


def _record_spread(ctx: ComponentContext[Any], scores: dict[str, list[dict[str, float]]]) -> dict[str, Any]:
    """Mean and standard deviation of each metric over the folds, recorded and returned."""
    spread: dict[str, Any] = {}
    for split, per_fold in scores.items():
        names = [name for name in (per_fold[0] if per_fold else {}) if all(name in f for f in per_fold)]
        if not names:
            continue
        values = {name: np.array([f[name] for f in per_fold]) for name in names}
        for stat, fn in (("mean", np.mean), ("std", np.std)):
            points = [[name, round(float(fn(values[name])), 6)] for name in names]
            ctx.tracker.log_metric(
                split,
                f"{split}_fold_{stat}",
                points,
                metric_type="EVALUATION_SUMMARY",
                meta={"metrics": names, "curve_name": f"{split}_fold_{stat}"},
            )
            spread[f"{split}_{stat}"] = {name: value for name, value in points}
    return spread


def fit_with_folds(
    ctx: ComponentContext[Any],
    cv: CvSettings,
    *,
    mode: Literal["hetero", "homo"],
    fit: FoldFit,
    meta: dict[str, Any],
    regression: bool = False,
) -> None:
    """FATE's cv as a training component runs it: :func:`run`, then a model of ``meta`` marked
    ``need_cv`` holding the folds' summary (no weights), and that summary as the task's."""
    evaluate = regression_scores if regression else classification_scores
    summary = run(ctx, cv, mode=mode, fit=fit, evaluate=evaluate)
    ctx.save_model({"meta": {**meta, "need_cv": True}, "param": {"cv_summary": summary}})
    ctx.tracker.set_summary(summary)


def refuse_cv_model(model: Any, component: str) -> None:
    """A cross-validation run's model keeps no weights: predicting or serving with it is refused."""
    meta = model.get("meta") if isinstance(model, dict) else None
    if isinstance(meta, dict) and meta.get("need_cv"):
        raise ComponentFeatureUnsupported(
            f"{component} was given the model of a cross-validation run, which keeps no weights",
            hint="train with cv_param.need_cv false to get a model to predict with",
        )


def check_supported(cv: Any, component: str) -> None:
    """Refuse, naming the field, the cv options this module does not run (at submit)."""
    if not getattr(cv, "need_cv", False):
        return
    kind = getattr(cv, "history_value_type", "score")
    if cv.output_fold_history and kind not in ("score", "instance"):
        raise ComponentParameterError(
            f"{component}: cv_param.history_value_type {kind!r} is not one of score, instance",
            hint="use history_value_type 'score' (the folds' predictions) or 'instance' (their rows)",
            field="cv_param.history_value_type",
        )
    if cv.n_splits < 2:
        raise ComponentParameterError(
            f"{component}: cv_param.n_splits must be at least 2, it is {cv.n_splits}",
            hint="give n_splits of 2 or more",
            field="cv_param.n_splits",
        )
