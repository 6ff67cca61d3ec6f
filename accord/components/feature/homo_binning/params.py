"""HomoFeatureBinning's parameters: the names, defaults and checks of FATE 1.11's
HomoFeatureBinningParam (with HeteroFeatureBinning's TransformParam).

method ``virtual_summary`` (default) reads the quantiles off the global ranks of ``sample_bins``
evenly spaced values; ``recursive_query`` bisects towards each quantile's rank until it is within
``ceil(error·N)`` (at most ``max_iter`` rounds, FATE caps it at 100). compress_thres and head_size
tune FATE's quantile summary; Accord counts ranks exactly, so they are checked and change nothing.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, StrictInt

from accord.components.feature.binning.params import BinningParam


class HomoFeatureBinningParam(BinningParam):
    method: Literal["virtual_summary", "recursive_query"] = "virtual_summary"
    sample_bins: StrictInt = Field(default=100, gt=0)
    max_iter: StrictInt = Field(default=100, gt=0, le=100)
