"""HeteroKmeans' parameters: FATE 1.11's KmeansParam (names, defaults and checks)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, StrictFloat, StrictInt


class KmeansParam(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # The number of clusters; FATE refuses 1 or fewer.
    k: StrictInt = Field(default=5, gt=1)
    max_iter: StrictInt = Field(default=300, gt=0)
    # Converged when the centroids moved, in total squared distance over every party's features, by
    # less than this.
    tol: StrictFloat | StrictInt = Field(default=0.001, ge=0)
    # Seed of the guest's draw of the k initial centroids (None: a fresh draw each run).
    random_stat: StrictInt | None = Field(default=None, ge=0)
