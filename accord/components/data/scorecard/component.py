"""Scorecard: a model's predicted probabilities turned into credit scores, as FATE 1.11 scores them.

For each row's predict_score p (the probability of label 1), odds = (1 - p) / p and
score = offset + factor / ln(factor_base) * ln(odds); p within 1e-8 of 0 scores the upper limit
(upper_limit_ratio * offset), within 1e-8 of 1 the lower limit, and p outside [0, 1] scores -1; every
score is then cut to [lower_limit_value, upper limit] and rounded to 2 decimals. The output keeps
FATE's columns: label, predict_result, predict_score and credit_score (per row, by id).
"""

from __future__ import annotations

import functools

import numpy as np
import pyarrow as pa

from accord.components.data.scorecard.params import ScorecardParam
from accord.components.sdk import ComponentBase, ComponentContext, DataTable
from accord.computing import Block
from accord.computing.block import concat_batches
from accord.errors import DataFormatError

Context = ComponentContext[ScorecardParam]
# FATE's consts.FLOAT_ZERO.
FLOAT_ZERO = 1e-8
HEADER = ("label", "predict_result", "predict_score", "credit_score")
DROPPED = ("predict_detail", "type")


def credit_scores(scores: np.ndarray, params: ScorecardParam) -> np.ndarray:
    """FATE's compute_credit_score over an array of predict scores."""
    upper = params.upper_limit_ratio * params.offset
    lower = params.lower_limit_value
    p = np.asarray(scores, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        odds = (1.0 - p) / p
        result = params.offset + params.factor / np.log(params.factor_base) * np.log(odds)
    near_zero = (np.abs(p) <= FLOAT_ZERO) & (p >= 0)
    near_one = ~near_zero & (np.abs(p - 1) <= FLOAT_ZERO) & (p > 0)
    outside = ~near_zero & ~near_one & ((p > 1) | (p < 0))
    result = np.where(near_zero, upper, np.where(near_one, lower, np.where(outside, -1.0, result)))
    result = np.where(result > upper, upper, result)
    result = np.where(result < lower, lower, result)
    # Python's round, as FATE rounds each score (numpy's differs on some halves).
    return np.array([round(float(value), 2) for value in result], dtype=np.float64)


def score_block(params: dict[str, object], index: int, block: Block) -> Block:
    if isinstance(block, bytes):
        raise DataFormatError("a table of predictions holds a blob partition")
    param = ScorecardParam.model_validate(params)
    scores = np.asarray(block.column("predict_score").to_numpy(zero_copy_only=False), dtype=np.float64)
    table = pa.Table.from_batches([block])
    table = table.drop_columns([name for name in DROPPED if name in table.column_names])
    position = table.column_names.index("predict_score") + 1
    table = table.add_column(position, "credit_score", pa.array(credit_scores(scores, param), pa.float64()))
    return concat_batches(table.to_batches(), table.schema)


class Scorecard(ComponentBase[ScorecardParam]):
    params = ScorecardParam

    def fit(self, ctx: Context) -> None:
        if not ctx.params.need_run:
            # A party that does not score (the hosts) passes on whatever predictions it has.
            try:
                data = ctx.input_table("data")
            except DataFormatError:
                data = None
            if data is not None:
                ctx.save_table(data)
            return
        data = ctx.input_table("data")
        if data is None:
            raise DataFormatError(
                f"{ctx.component} has no predictions to score on {ctx.role} {ctx.party_id}",
                hint="feed it a model's output on the guest; set need_run false on the hosts",
            )
        missing = [name for name in HEADER[:3] if name not in _columns(data)]
        if data.kind != "predict" or missing:
            raise DataFormatError(
                f"{ctx.component} scores a model's predictions, and its input holds {data.kind} rows"
                + (f" without {missing}" if missing else ""),
                hint='feed it a model\'s output data, e.g. "data": ["hetero_lr_0.data"]',
            )
        fn = functools.partial(score_block, ctx.params.model_dump())
        scored = data.with_table(data.table.map_partitions_with_index(fn, preserves_sids=True), header=HEADER)
        ctx.save_table(scored)
        p = ctx.params
        formula = f"Score = {p.offset} + {p.factor} / ln({p.factor_base}) * ln(Odds)"
        ctx.tracker.set_summary({"scorecard_compute_formula": formula})
        if p.factor_base != 2:
            ctx.log.warning("%s: factor_base is %s, not 2", ctx.component, p.factor_base)
        ctx.log.info("%s: %s", ctx.component, formula)

    def predict(self, ctx: Context) -> None:
        # Scorecard learns nothing: in a predict job it scores the predictions it is given.
        self.fit(ctx)


def _columns(data: DataTable) -> list[str]:
    table = data.table.take(0)
    return list(table.column_names)
