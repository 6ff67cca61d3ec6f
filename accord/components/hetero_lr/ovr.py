"""One-vs-rest multi-class for HeteroLR and HomoLR, as FATE 1.11's ``one_vs_rest/one_vs_rest.py``.

With more than two label values the component trains one binary model per class (sorted), on the
labels masked to 1 for that class and 0 for the others, each run of the plain binary protocol on a
:class:`~accord.components.sdk.scoped.ScopedContext` (values tagged ``ovr.<k>.``, metrics renamed
``<name>_<k>``). The classes are agreed first: hetero, the guest (the only party with labels) sends
them to the hosts and the arbiter; homo, every client sends its own to the arbiter, which sends the
union back (FATE has the guest collect them; the union is the same).

The model holds every class's binary model (FATE's ``one_vs_rest_result``: ``completed_models`` and
``one_vs_rest_classes``). Predictions are FATE's multi-class rows: ``predict_result`` the class of the
highest score, ``predict_score`` that score, ``predict_detail`` every class's score.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from typing import Any, Literal

import numpy as np
import pyarrow as pa

from accord.components.hetero_lr import common
from accord.components.sdk import ComponentContext, Dataset, DataTable, cross_validation, layout
from accord.components.sdk.dataset import LABEL
from accord.components.sdk.scoped import ScopedContext, data_ref
from accord.components.sdk.tables import save_table
from accord.computing import Block
from accord.errors import ComponentFeatureUnsupported, DataFormatError, DataMismatchError

Mode = Literal["hetero", "homo"]
Run = Callable[[ComponentContext[Any]], None]


def class_name(value: float) -> str:
    """A class as FATE names it in predict_detail and the model ("0", "1", ...)."""
    return str(int(value)) if float(value).is_integer() else str(value)


def is_one_vs_rest(model: dict[str, Any]) -> bool:
    return bool(model.get("meta", {}).get("need_one_vs_rest")) and "completed_models" in model.get(
        "param", {}
    )


# ---- per partition (module level: the engines pickle them) ------------------------------------


def _labels(block: Block) -> list[list[float] | None]:
    if isinstance(block, bytes) or LABEL not in block.schema.names:
        return [None]
    return [sorted({float(v) for v in block.column(LABEL).to_pylist() if v is not None})]


def _concat(left: list[Any], right: list[Any]) -> list[Any]:
    return left + right


def _relabel(positive: float, index: int, block: Block) -> Block:
    if isinstance(block, bytes):
        raise DataFormatError("one-vs-rest relabels rows, and this partition is a blob")
    position = block.schema.get_field_index(LABEL)
    labels = np.asarray(block.column(LABEL).to_numpy(zero_copy_only=False), dtype=np.float64)
    return block.set_column(position, LABEL, pa.array((labels == positive).astype(np.float64)))


# ---- the classes ------------------------------------------------------------------------------


def _labelled(ctx: ComponentContext[Any], mode: Mode) -> bool:
    return ctx.role == "guest" if mode == "hetero" else ctx.role != "arbiter"


def _train(ctx: ComponentContext[Any]) -> DataTable | None:
    return ctx.input_table("train_data") or ctx.input_table("data")


def _local_classes(data: DataTable | None) -> list[float] | None:
    if data is None:
        return None
    nothing: list[list[float] | None] = []
    parts = data.table.aggregate(nothing, _labels, _concat)
    if any(part is None for part in parts):
        return None
    return sorted({value for part in parts if part is not None for value in part})


def agreed_classes(ctx: ComponentContext[Any], mode: Mode) -> list[float] | None:
    """Every party's view of the classes when there are more than two (else None: train binary)."""
    classes: list[float] | None
    if mode == "hetero":
        if ctx.role == "guest":
            classes = _local_classes(_train(ctx))
            ctx.transfer.remote(classes, role="host", tag="ovr.classes")
            ctx.transfer.remote(classes, role="arbiter", tag="ovr.classes")
        else:
            classes = ctx.transfer.get(role="guest", tag="ovr.classes", index=0)
    elif ctx.role == "arbiter":
        found = [
            ctx.transfer.get(role=role, tag="ovr.labels") for role in ("guest", "host") if ctx.party_ids(role)
        ]
        every = [item for group in found for item in group]
        classes = None if any(item is None for item in every) else sorted({v for item in every for v in item})
        for role in ("guest", "host"):
            if ctx.party_ids(role):
                ctx.transfer.remote(classes, role=role, tag="ovr.classes")
    else:
        ctx.transfer.remote(_local_classes(_train(ctx)), role="arbiter", tag="ovr.labels")
        classes = ctx.transfer.get(role="arbiter", tag="ovr.classes", index=0)
    # No labels (the binary trainer says so) or two classes: the plain binary protocol.
    return [float(c) for c in classes] if classes is not None and len(classes) > 2 else None


# ---- training ---------------------------------------------------------------------------------


def fit_logistic(ctx: ComponentContext[Any], fit_binary: Run, mode: Mode, meta: dict[str, Any]) -> None:
    """HeteroLR's and HomoLR's training: cross validation when cv_param asks for it (the folds' models
    are not kept, only their metrics, summary and fold history, as FATE), else one fit — binary, or
    one-vs-rest with more than two classes."""
    one_fit = functools.partial(_fit_once, fit_binary=fit_binary, mode=mode)
    if ctx.params.cv_param.need_cv:
        if ctx.input_models():
            raise ComponentFeatureUnsupported(
                f"{ctx.component}: cross validation from a model input (warm start) is not supported",
                hint="drop the model input, or set cv_param.need_cv false to continue training the model",
            )
        cross_validation.fit_with_folds(ctx, ctx.params.cv_param, mode=mode, fit=one_fit, meta=meta)
    else:
        one_fit(ctx)


def _fit_once(ctx: ComponentContext[Any], *, fit_binary: Run, mode: Mode) -> None:
    classes = agreed_classes(ctx, mode)
    if classes is not None:
        fit(ctx, classes, fit_binary, mode)
    else:
        fit_binary(ctx)


def fit(ctx: ComponentContext[Any], classes: list[float], fit_binary: Run, mode: Mode) -> None:
    """Train one binary model per class with ``fit_binary``; save the whole model and predictions."""
    labelled = _labelled(ctx, mode)
    root = ctx.task.work_dir / "ovr"
    train = _train(ctx) if labelled else None
    validate = ctx.input_table("validate_data") if labelled else None
    models: list[dict[str, Any]] = []
    outputs: list[Dataset] = []
    summary: dict[str, Any] = {}
    warm = warm_models(ctx, classes)
    for index, positive in enumerate(classes):
        ctx.check_cancelled()
        here = root / f"class_{index}"
        inputs_root, refs = None, None
        if train is not None:
            inputs_root, refs = here / "in", []
            for slot, data in (("train_data", train), ("validate_data", validate)):
                if data is None:
                    continue
                ref = data_ref(slot, f"ovr_{slot}")
                relabelled = data.table.map_partitions_with_index(
                    functools.partial(_relabel, positive), preserves_sids=True
                )
                save_table(
                    data.with_table(relabelled), layout.data_path(inputs_root, ref.component, ref.output)
                )
                refs.append(ref)
        scoped = _scoped(
            ctx,
            index,
            len(classes),
            here,
            inputs_root=inputs_root,
            data_inputs=refs,
            models=None if warm is None else [warm[index]],
        )
        fit_binary(scoped)
        if scoped.saved_model is None:
            raise DataFormatError(f"{ctx.component}: the model of class {class_name(positive)} was not saved")
        models.append(scoped.saved_model)
        summary[class_name(positive)] = {**scoped.summary, "one_vs_rest": True}
        if scoped.output_path().exists():
            outputs.append(Dataset.load(scoped.output_path()))
        ctx.log.info("one-vs-rest: class %s done (%d/%d)", class_name(positive), index + 1, len(classes))
    if train is not None:
        labels = [_label_column(train)] + ([_label_column(validate)] if validate is not None else [])
        ctx.save_data(combined(outputs, classes, np.concatenate(labels)))
    else:
        ctx.save_data(common.empty_predictions())
    ctx.save_model(model_of(models, classes))
    ctx.tracker.set_summary(summary)


def warm_models(ctx: ComponentContext[Any], classes: list[float]) -> list[dict[str, Any]] | None:
    """Warm start of one-vs-rest: each class's binary model of the one-vs-rest model input, which must
    have the same classes (None: no model input, every class starts afresh)."""
    given = ctx.input_models()
    if not given:
        return None
    model = given[0]
    names = [class_name(c) for c in classes]
    if not is_one_vs_rest(model) or model["param"].get("one_vs_rest_classes") != names:
        raise DataMismatchError(
            f"{ctx.component}: the model to continue from was trained on other classes "
            f"({model.get('param', {}).get('one_vs_rest_classes', 'binary')}) than the data's {names}",
            hint="continue from a model trained on the same labels",
        )
    meta = {key: value for key, value in model["meta"].items() if key != "need_one_vs_rest"}
    return [{"meta": meta, "param": single} for single in model["param"]["completed_models"]]


def model_of(models: list[dict[str, Any]], classes: list[float]) -> dict[str, Any]:
    meta = {**models[0]["meta"], "need_one_vs_rest": True}
    first = models[0]["param"]
    return {
        "meta": meta,
        "param": {
            "one_vs_rest_classes": [class_name(c) for c in classes],
            "completed_models": [model["param"] for model in models],
            **({"header": first["header"]} if "header" in first else {}),
        },
    }


def _label_column(data: DataTable) -> np.ndarray:
    batches = data.table.to_arrow().column(LABEL)
    return np.asarray(batches.to_numpy(), dtype=np.float64)


def _scoped(
    ctx: ComponentContext[Any], index: int, count: int, here: Any, **inputs: Any
) -> ScopedContext[Any]:
    return ScopedContext(
        ctx,
        tag_prefix=f"ovr.{index}.",
        outputs_root=here / "out",
        metric_name=lambda name: f"{name}_{index}",
        share=(index, count),
        **inputs,
    )


def combined(outputs: list[Dataset], classes: list[float], labels: np.ndarray | None = None) -> Dataset:
    """FATE's multi-class rows from each class's binary prediction rows (the same rows, in order)."""
    first = outputs[0]
    if any(len(out) != len(first) for out in outputs) or (labels is not None and len(labels) != len(first)):
        raise DataMismatchError("one-vs-rest: the classes' predictions cover different rows")
    scores = np.column_stack([out.column("predict_score") for out in outputs])
    best = np.argmax(scores, axis=1)
    names = [class_name(c) for c in classes]
    details = [dict(zip(names, (float(v) for v in row), strict=True)) for row in scores]
    return Dataset.predictions(
        first.column("sid"),
        labels=labels if labels is not None else first.column("label"),
        predict_result=np.asarray(classes, dtype=np.float64)[best],
        predict_score=scores[np.arange(len(best)), best],
        predict_detail=details,
        data_type=[str(t) for t in first.column("type")],
    )


# ---- predicting -------------------------------------------------------------------------------


def predict(ctx: ComponentContext[Any], model: dict[str, Any], predict_binary: Run) -> None:
    """Score with every class's binary model and combine; parties without scores save none."""
    param = model["param"]
    classes = [float(name) for name in param["one_vs_rest_classes"]]
    meta = {key: value for key, value in model["meta"].items() if key != "need_one_vs_rest"}
    outputs: list[Dataset] = []
    for index, single in enumerate(param["completed_models"]):
        here = ctx.task.work_dir / "ovr" / f"class_{index}"
        scoped = _scoped(ctx, index, len(classes), here, models=[{"meta": meta, "param": single}])
        predict_binary(scoped)
        if scoped.output_path().exists():
            outputs.append(Dataset.load(scoped.output_path()))
    if outputs and len(outputs[0]) > 0:
        ctx.save_data(combined(outputs, classes))
    else:
        ctx.save_data(common.empty_predictions())


def detail_classes(detail: str) -> list[str]:
    return list(json.loads(detail))


def predict_logistic(ctx: ComponentContext[Any], predict_binary: Run) -> None:
    """A linear model's predict: the model input, refused when it is a cross-validation model (no
    weights kept), then one binary predict or one per class of a one-vs-rest model."""
    models = ctx.input_models()
    if not models:
        raise DataFormatError(f"{ctx.component} predicts but has no model input", hint="wire a model input")
    model = models[0]
    cross_validation.refuse_cv_model(model, ctx.component)
    if is_one_vs_rest(model):
        predict(ctx, model, predict_binary)
    else:
        predict_binary(ctx)
