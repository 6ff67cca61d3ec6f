"""DataStatistics' parameters: FATE 1.11's StatisticsParam, with its names, defaults and checks.

As in FATE, the statistics asked for are added to the basic ones (the "summary" list), so a conf
naming ``["95%", "stddev"]`` gets the summary plus the 95th percentile; percentiles are written
``"N%"`` with N from 0 to 100.
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel, ConfigDict, StrictBool, StrictStr, field_validator

# consts of FATE's StatisticsParam: every statistic it knows, and the "summary" set.
LEGAL_STATISTICS = (
    "count",
    "sum",
    "mean",
    "stddev",
    "median",
    "min",
    "max",
    "variance",
    "coefficient_of_variance",
    "missing_count",
    "missing_ratio",
    "skewness",
    "kurtosis",
)
BASIC_STATISTICS = (
    "sum",
    "mean",
    "stddev",
    "median",
    "min",
    "max",
    "missing_ratio",
    "missing_count",
    "skewness",
    "kurtosis",
    "coefficient_of_variance",
)
PERCENTILE = re.compile(r"^(100|[1-9]?[0-9])%$")
DEFAULT_RELATIVE_ERROR = 1e-4


def expand_statistics(asked: str | list[str]) -> list[str]:
    """The statistics FATE computes for ``asked``: the basic ones, then those asked beyond them."""
    names = list(BASIC_STATISTICS)
    for name in [asked] if isinstance(asked, str) else asked:
        if name != "summary" and name not in names:
            names.append(name)
    return names


class StatisticsParam(BaseModel):
    model_config = ConfigDict(extra="forbid")

    statistics: StrictStr | list[StrictStr] = "summary"
    column_names: list[StrictStr] | None = None
    # -1: every feature column (column_names then unused); a list: these indexes, then column_names.
    column_indexes: int | list[int] | None = -1
    need_run: StrictBool = True
    # Values that count as absent besides NaN (numbers; FATE's features here are numbers, so a text
    # item matches no cell).
    abnormal_list: list[Any] | None = None
    quantile_error: float = DEFAULT_RELATIVE_ERROR
    bias: StrictBool = True

    @field_validator("statistics")
    @classmethod
    def _statistics(cls, value: str | list[str]) -> str | list[str]:
        for name in [value] if isinstance(value, str) else value:
            if name != "summary" and name not in LEGAL_STATISTICS and not PERCENTILE.match(name):
                raise ValueError(
                    f"unknown statistic {name!r}: use 'summary', any of {', '.join(LEGAL_STATISTICS)}, "
                    "or a percentile such as '95%'"
                )
        return value

    @field_validator("column_indexes")
    @classmethod
    def _indexes(cls, value: int | list[int] | None) -> int | list[int] | None:
        if isinstance(value, int) and value != -1:
            raise ValueError("must be -1 (every feature column) or a list of column indexes, e.g. [0, 3]")
        if isinstance(value, list) and any(index < 0 for index in value):
            raise ValueError("column indexes count from 0 (use -1 alone, not in a list, for every column)")
        return value

    @field_validator("quantile_error")
    @classmethod
    def _error(cls, value: float) -> float:
        if not 0 <= value <= 1:
            raise ValueError("quantile_error is a relative rank error between 0 and 1 (default 1e-4)")
        return value

    @property
    def computed(self) -> list[str]:
        """Every statistic the component computes, in FATE's order."""
        return expand_statistics(self.statistics)
