"""HeteroFeatureSelection's model, plain JSON, laid out as FATE's FeatureSelectionMeta / Param.

``header`` (the columns the party had), ``select_cols`` (those the filters looked at), ``left_cols``
(those kept, in header order), ``results`` (per filter: its values and which columns it kept, and on the
guest the same for each host's anonymous columns) and ``host_col_names``. predict keeps ``left_cols``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from accord.errors import DataMismatchError, OperatingError

MODULE = "HeteroFeatureSelection"


def build(
    *,
    header: Sequence[str],
    anonymous_header: Sequence[str],
    select_cols: Sequence[str],
    left_cols: Sequence[str],
    filter_methods: Sequence[str],
    results: list[dict[str, Any]],
    host_col_names: list[dict[str, Any]],
    need_run: bool = True,
) -> dict[str, Any]:
    return {
        "module": MODULE,
        "need_run": need_run,
        "header": list(header),
        "anonymous_header": list(anonymous_header),
        "filter_methods": list(filter_methods),
        "select_cols": list(select_cols),
        "left_cols": list(left_cols),
        "results": results,
        "host_col_names": host_col_names,
    }


def find(models: Sequence[Mapping[str, Any]], component: str) -> Mapping[str, Any]:
    for model in models:
        if model.get("module") == MODULE:
            return model
    raise OperatingError(
        f"{component} applies a trained HeteroFeatureSelection model but was given none",
        hint="wire the training selection's model into this component's model input",
    )


def kept_indexes(model: Mapping[str, Any], header: Sequence[str], component: str) -> list[int]:
    """Positions in ``header`` of the model's kept columns, in the data's order."""
    if not model.get("need_run", True):
        return list(range(len(header)))
    left = set(model["left_cols"])
    missing = sorted(left - set(header))
    if missing:
        raise DataMismatchError(
            f"{component}: the selection model keeps {missing[:10]}, which this data does not have",
            hint="apply the model to data with the columns it was trained on",
        )
    return [index for index, name in enumerate(header) if name in left]
