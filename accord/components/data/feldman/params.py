"""FATE 1.11's FeldmanVerifiableSumParam: ``sum_cols`` (column indexes, empty: every column) and ``q_n``.

``q_n`` is the number of decimal digits kept: each value is encoded as ``int(value * 10**q_n)``
(truncated toward zero, as FATE does), so a sum is exact to ``parties * 10**-q_n``.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StrictInt


class FeldmanVerifiableSumParam(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    sum_cols: list[StrictInt] | None = None
    q_n: Annotated[StrictInt, Field(ge=0, le=16)] = 6
