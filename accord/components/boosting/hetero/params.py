"""HeteroSecureBoost's parameters: FATE 1.11's HeteroSecureBoostParam names, defaults and checks.

Options Accord does not run are accepted by pydantic (so a FATE conf validates) and refused, by name,
in :func:`check_supported` at submit.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from accord.components.boosting.core.params import BoostingParam
from accord.components.hetero_lr.params import EncryptedModeCalculatorParam
from accord.errors import ComponentFeatureUnsupported


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class EncryptParam(_Section):
    method: Literal["Paillier", "paillier", "IterativeAffine", "RandomIterativeAffine"] | None = "Paillier"
    key_length: int = Field(default=1024, ge=768)


class HeteroSecureBoostParam(BoostingParam):
    encrypt_param: EncryptParam = EncryptParam()
    encrypted_mode_calculator_param: EncryptedModeCalculatorParam = EncryptedModeCalculatorParam()
    early_stopping_rounds: int | None = Field(default=None, ge=1)
    complete_secure: bool = False
    use_first_metric_only: bool = False
    random_seed: int = Field(default=100, ge=0)
    # FATE 1.11 keeps it but no longer reads it ("abandoned in FATE-1.7.1"); here it runs the host's
    # sparse-point histograms (same splits, fewer ciphertext additions on mostly-zero tables).
    sparse_optimization: bool = False
    run_goss: bool = False
    top_rate: float = Field(default=0.2, gt=0, lt=1)
    other_rate: float = Field(default=0.1, gt=0, lt=1)
    cipher_compress_error: int | None = Field(default=None, ge=0, le=15)
    cipher_compress: bool = True
    new_ver: bool = True
    boosting_strategy: Literal["std", "mix", "layered"] = "std"
    work_mode: Literal["mix", "layered"] | None = None
    tree_num_per_party: int = Field(default=1, ge=1)
    guest_depth: int = Field(default=2, ge=1)
    host_depth: int = Field(default=3, ge=1)
    EINI_inference: bool = False
    EINI_random_mask: bool = False
    EINI_complexity_check: bool = False
    need_run: bool = True

    @model_validator(mode="after")
    def _goss_rates(self) -> HeteroSecureBoostParam:
        if self.top_rate + self.other_rate >= 1:
            raise ValueError("top_rate + other_rate must be below 1")
        return self

    # ---- what the protocol uses ----------------------------------------------------------------

    @property
    def strategy(self) -> str:
        return self.work_mode or self.boosting_strategy

    def validate_at(self, round_: int) -> bool:
        """Whether validation runs after boosting round ``round_`` (1-based)."""
        freqs = self.validate_every
        if freqs is None:
            return False
        if isinstance(freqs, int):
            return round_ % freqs == 0
        return round_ in freqs

    @property
    def stopping_rounds(self) -> int | None:
        return self.callback_param.early_stopping_rounds or self.early_stopping_rounds

    @property
    def first_metric_only(self) -> bool:
        return self.use_first_metric_only or self.callback_param.use_first_metric_only


class HeteroFastSecureBoostParam(HeteroSecureBoostParam):
    work_mode: Literal["mix", "layered"] | None = "mix"
    guest_depth: int = Field(default=1, ge=1)
    host_depth: int = Field(default=1, ge=1)


_RUN_CALLBACKS = frozenset({"EarlyStopping", "PerformanceEvaluate"})


def check_supported(param: HeteroSecureBoostParam, component: str, hosts: int | None = None) -> None:
    """Refuse, naming the field, what FATE offers and Accord's HeteroSecureBoost does not run."""
    unrun = [name for name in param.callback_param.callbacks if name not in _RUN_CALLBACKS]
    refusals = {
        "encrypt_param.method": (
            param.encrypt_param.method not in ("Paillier", "paillier"),
            "HeteroSecureBoost encrypts with Paillier; set method to Paillier",
        ),
        "callback_param.callbacks": (
            bool(unrun),
            f"drop {unrun}: model checkpoints are not saved yet; {sorted(_RUN_CALLBACKS)} run",
        ),
        "boosting_strategy": (
            param.strategy == "layered" and hosts is not None and hosts > 1,
            "layered mode takes one host (as FATE's); use std or mix",
        ),
    }
    for field, (refused, hint) in refusals.items():
        if refused:
            raise ComponentFeatureUnsupported(
                f"{component}: {field} asks for what Accord's HeteroSecureBoost does not do", hint=hint
            )
