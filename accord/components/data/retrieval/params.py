"""FATE 1.11's SecureInformationRetrievalParam (names, defaults and checks).

The three protocol choices each have one value FATE accepts (any letter case): ``OT_Hauck``,
``CommutativeEncryptionPohligHellman`` and ``aes``. ``key_size`` and ``raw_retrieval`` are FATE's
deprecated spellings: a ``key_size`` given sets ``dh_params.key_length``, and ``raw_retrieval`` true
acts as ``security_level`` 0 (raw retrieval). ``target_cols`` is a name or a list of names; empty
retrieves the host's label.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    StrictStr,
    model_validator,
)

from accord.components.intersection.params import DhParams


def _lower_choice(choice: str, value: Any) -> str:
    if not isinstance(value, str) or value.lower() != choice.lower():
        raise ValueError(f"{value!r} is not supported; use {choice}")
    return value.lower()


def _choice(choice: str) -> BeforeValidator:
    return BeforeValidator(lambda value: _lower_choice(choice, value))


def _names(value: Any) -> Any:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


class SecureInformationRetrievalParam(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    security_level: Annotated[StrictInt | float, Field(ge=0, le=1)] = 0.5
    oblivious_transfer_protocol: Annotated[str, _choice("OT_Hauck")] = "ot_hauck"
    commutative_encryption: Annotated[str, _choice("CommutativeEncryptionPohligHellman")] = (
        "commutativeencryptionpohlighellman"
    )
    non_committing_encryption: Annotated[str, _choice("aes")] = "aes"
    key_size: Annotated[StrictInt, Field(ge=1024)] = 1024
    dh_params: DhParams = Field(default_factory=DhParams)
    raw_retrieval: StrictBool = False
    target_cols: Annotated[list[StrictStr], BeforeValidator(_names)] = Field(default_factory=list)

    @model_validator(mode="after")
    def _deprecated_key_size(self) -> SecureInformationRetrievalParam:
        # FATE: a key_size given replaces dh_params.key_length.
        if "key_size" in self.model_fields_set:
            object.__setattr__(
                self, "dh_params", self.dh_params.model_copy(update={"key_length": self.key_size})
            )
        return self

    @property
    def raw(self) -> bool:
        return self.raw_retrieval or self.security_level == 0

    @property
    def key_length(self) -> int:
        return self.dh_params.key_length
