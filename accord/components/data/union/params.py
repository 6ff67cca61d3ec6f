"""Union's parameters: FATE 1.11's UnionParam (need_run, allow_missing, keep_duplicate)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, StrictBool


class UnionParam(BaseModel):
    model_config = ConfigDict(extra="forbid")

    need_run: StrictBool = True
    # FATE checks each row's feature count against the header unless this is set. Rows here hold a
    # fixed-width feature list named by the header, so they always pass that check; the option is
    # accepted and changes nothing.
    allow_missing: StrictBool = False
    # Keep every row: each id becomes "<id>_<input key>" (in every input), so no two rows clash.
    keep_duplicate: StrictBool = False
