"""PSI's parameters: FATE 1.11's PSIParam (max_bin_num, need_run, dense_missing_val, binning_error)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictFloat, StrictInt, StrictStr

# FATE's consts.DEFAULT_RELATIVE_ERROR, the quantile binning's error PSI uses by default.
DEFAULT_RELATIVE_ERROR = 1e-4


class PSIParam(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # Quantile bins of each feature on the expected (train) table; missing values get one more bin.
    max_bin_num: StrictInt = Field(default=20, gt=0)
    need_run: StrictBool = True
    # FATE compares this value with the bin indexes rather than the feature values; refused at submit
    # (PSI.check_supported) rather than run with that meaning. Missing values are NaN cells.
    dense_missing_val: StrictStr | StrictInt | StrictFloat | None = None
    binning_error: StrictInt | StrictFloat = Field(default=DEFAULT_RELATIVE_ERROR, ge=0, le=1)
