"""PositiveUnlabeled (guest and host): the rows a model scored, with unlabeled rows relabeled positive.

Its ``data`` input holds two tables: the intersected rows and a model's predictions of them (FATE's
``[intersection_0.data, hetero_lr_0.data]``, in either order). Label 0 counts as unlabeled. The guest
orders the predictions by score, highest first (ties by id, so the choice is the same on every run), and
relabels as 1, as FATE does:

- ``probability``: every unlabeled row scored at least ``threshold``;
- ``quantity``: the first ``threshold`` unlabeled rows;
- ``proportion``: the unlabeled rows among the first ``int(rows · threshold)``;
- ``distribution``: the unlabeled rows among the first ``int(unlabeled / rows · threshold)`` (FATE's
  cut, which is not scaled by the row count).

Its output is the intersected rows with the new labels; the host's is its intersected rows unchanged.
The count of relabeled rows is the summary and a metric, as FATE's "count of converted unlabeled".
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pyarrow as pa

from accord.components.data.positive_unlabeled.params import PositiveUnlabeledParam
from accord.components.sdk import ComponentBase, ComponentContext, Dataset
from accord.components.sdk.dataset import LABEL
from accord.errors import DataFormatError, DataMismatchError

_CONVERTED = "count of converted unlabeled"


class PositiveUnlabeled(ComponentBase[PositiveUnlabeledParam]):
    params = PositiveUnlabeledParam

    def fit(self, ctx: ComponentContext[PositiveUnlabeledParam]) -> None:
        rows, scored = _inputs(ctx)
        if ctx.role != "guest":
            ctx.save_data(rows)
            return
        if scored is None:
            raise DataFormatError(
                f"{ctx.component} on the guest needs a model's predictions beside the rows",
                hint="wire the data output of a model (e.g. hetero_lr_0.data) next to the intersection's",
            )
        relabeled, converted = relabel(rows, scored, ctx.params, ctx.component)
        ctx.save_data(relabeled)
        ctx.tracker.set_summary({_CONVERTED: converted})
        ctx.tracker.log_metric(
            "train", "positive_unlabeled", [[_CONVERTED, converted]], metric_type="PU_MODEL"
        )
        ctx.log.info("%s: %d unlabeled rows relabeled positive", ctx.component, converted)

    def predict(self, ctx: ComponentContext[PositiveUnlabeledParam]) -> None:
        # No model: in a predict job the rows pass through, as the host's do.
        rows, _ = _inputs(ctx)
        ctx.save_data(rows)


def _inputs(ctx: ComponentContext[PositiveUnlabeledParam]) -> tuple[Dataset, Dataset | None]:
    """The intersected rows and, where this party has them, a model's (non-empty) predictions."""
    given = ctx.input_data("data")
    rows = [data for data in given if data.kind == "instances"]
    scored = [data for data in given if data.kind == "predict" and len(data)]
    if len(rows) != 1 or len(scored) > 1:
        raise DataFormatError(
            f"{ctx.component} takes two data inputs: the intersected rows and a model's predictions of them",
            hint="wire data: [intersection_0.data, <model>.data]",
        )
    return rows[0], scored[0] if scored else None


def relabel(
    rows: Dataset, scored: Dataset, params: PositiveUnlabeledParam, component: str
) -> tuple[Dataset, int]:
    """``rows`` with the labels the strategy gives, and how many unlabeled rows became positive."""
    labels = rows.labels()
    if labels is None:
        raise DataFormatError(
            f"{component}: the guest's rows have no labels to relabel",
            hint="read the guest's table with with_label true in DataTransform",
        )
    ids = [str(i) for i in rows.ids()]
    position = {sid: i for i, sid in enumerate(ids)}
    scored_ids = [str(i) for i in scored.ids()]
    missing = [sid for sid in scored_ids if sid not in position]
    if missing or len(scored_ids) != len(ids):
        raise DataMismatchError(
            f"{component}: the predictions cover {len(scored_ids)} rows, the intersected rows are {len(ids)}",
            hint="wire the predictions of the same rows (the model's train_data is this intersection's data)",
        )
    at = np.asarray([position[sid] for sid in scored_ids], dtype=np.int64)
    scores = np.asarray(scored.table.column("predict_score").to_pylist(), dtype=np.float64)
    predicted_labels = np.asarray(scored.table.column(LABEL).to_pylist(), dtype=np.float64)
    new = chosen_positive(params, predicted_labels, scores, np.asarray(scored_ids, dtype=object))
    updated = labels.copy()
    updated[at[new]] = 1.0
    table = rows.table.set_column(rows.table.column_names.index(LABEL), LABEL, pa.array(updated))
    return replace(rows, table=table), int(new.sum())


def chosen_positive(
    params: PositiveUnlabeledParam, labels: np.ndarray, scores: np.ndarray, ids: np.ndarray
) -> np.ndarray:
    """Which rows (in the given order) turn from unlabeled (0) to positive under the strategy."""
    unlabeled = labels == 0
    if params.strategy == "probability":
        return np.asarray(unlabeled & (scores >= params.threshold))
    order = np.lexsort((ids.astype(str), -scores))  # by score, highest first; ties by id
    chosen = np.zeros(len(labels), dtype=bool)
    if params.strategy == "quantity":
        first = order[unlabeled[order]][: int(params.threshold)]
    else:
        # FATE's cut: a share of all rows (proportion), or the unlabeled share times the threshold.
        cut = (
            len(labels) * params.threshold
            if params.strategy == "proportion"
            else unlabeled.mean() * params.threshold
        )
        top = order[: int(cut)] if len(labels) else order
        first = top[unlabeled[top]]
    chosen[first] = True
    return chosen
