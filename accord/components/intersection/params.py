"""FATE's IntersectParam as a pydantic model, and the part of it this implementation runs.

The model accepts exactly what FATE 1.11 accepts (names, defaults, choices, the cross-field rules and the
deprecated aliases ``random_bit``, ``join_role``, ``with_encode`` and ``encode_params``), so any FATE
job's parameters validate. :func:`require_supported` then refuses, naming the field, every option whose
effect this implementation does not provide; nothing FATE would act on is silently ignored.

Compatibility facts worth knowing:

- FATE's default ``intersect_method`` is ``rsa``, with a 2048-bit key and 128-bit blinding factors.
- FATE 1.11's parameter check replaces ``raw`` with ``ecdh``; here ``raw`` runs FATE's raw protocol (the
  ids, hashed when ``raw_params.use_hash`` is set, go to the ``join_role`` party). The output is the same
  set of rows either way.
- ``new_sample_id`` and ``sample_id_generator`` only act on data with match ids or with ``left_join``;
  the instances here have no match id, so, as in FATE, they have no effect.
- ``intersect_cache_param``, ``repeated_id_process``, ``repeated_id_owner``, ``allow_info_share``,
  ``info_owner`` and ``with_sample_id`` are ignored since FATE 1.7; they are accepted and ignored here too.
"""

from __future__ import annotations

import hashlib
from functools import partial
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StrictBool, StrictInt, model_validator

from accord.errors import ComponentFeatureUnsupported

RSA_HASHES = ("sha256", "sha384", "sha512", "sm3")
FINAL_HASHES = ("md5", "sha1", "sha224", "sha256", "sha384", "sha512", "sm3")
RAW_HASHES = ("none", *FINAL_HASHES)
METHODS = ("rsa", "raw", "dh", "ecdh")
SUPPORTED_METHODS = ("rsa", "raw", "dh", "ecdh")
# The MODP groups (RFC 2409, RFC 3526) DH runs in, by key length.
DH_KEY_LENGTHS = (1024, 1536, 2048, 3072, 4096, 6144, 8192)
ROLES = ("guest", "host")


def _lower_choice(value: Any, choices: tuple[str, ...]) -> str:
    # FATE's check_and_change_lower: any letter case, stored lower-cased.
    if not isinstance(value, str) or value.lower() not in choices:
        raise ValueError(f"{value!r} is not supported; use one of {', '.join(choices)}")
    return value.lower()


def _choice(choices: tuple[str, ...]) -> BeforeValidator:
    return BeforeValidator(partial(_lower_choice, choices=choices))


RsaHash = Annotated[str, _choice(RSA_HASHES)]
FinalHash = Annotated[str, _choice(FINAL_HASHES)]
RawHash = Annotated[str, _choice(RAW_HASHES)]
Role = Annotated[str, _choice(ROLES)]
Number = StrictInt | float


class _Section(BaseModel):
    # FATE refuses parameters it does not know ("redundant parameters") and checks types strictly.
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class EncodeParams(_Section):
    """Deprecated spelling of ``raw_params`` (with ``with_encode`` for ``use_hash``)."""

    salt: str = ""
    encode_method: RawHash = "none"
    base64: StrictBool = False


class RawParams(_Section):
    use_hash: StrictBool = False
    salt: str = ""
    hash_method: RawHash = "none"
    base64: StrictBool = False
    join_role: Role = "guest"


class RsaParams(_Section):
    salt: str = ""
    hash_method: RsaHash = "sha256"
    final_hash_method: FinalHash = "sha256"
    split_calculation: StrictBool = False
    # Share one blinding factor among this fraction of ids (0.01 to 0.99); None or 0: one factor per id.
    random_base_fraction: Annotated[Number, Field(ge=0, le=1)] | None = None
    key_length: Annotated[StrictInt, Field(ge=1024)] = 2048
    random_bit: Annotated[StrictInt, Field(gt=0)] = 128


class DhParams(_Section):
    salt: str = ""
    hash_method: RawHash = "sha256"
    key_length: Annotated[StrictInt, Field(ge=1024)] = 2048


class EcdhParams(_Section):
    salt: str = ""
    hash_method: RsaHash = "sha256"
    curve: Annotated[str, _choice(("curve25519",))] = "curve25519"


class IntersectCacheParams(_Section):
    # FATE stopped checking these in 1.7; any value is taken.
    use_cache: Any = False
    id_type: Any = "phone"
    encrypt_type: Any = "sha256"


class PreprocessParams(_Section):
    false_positive_rate: Annotated[Number, Field(gt=0, le=0.5)] = 1e-3
    encrypt_method: Annotated[str, _choice(("rsa",))] = "rsa"
    hash_method: FinalHash = "sha256"
    preprocess_method: FinalHash = "sha256"
    preprocess_salt: str = ""
    random_state: Annotated[Number, Field(ge=0)] | None = None
    filter_owner: Role = "guest"


class IntersectionParams(_Section):
    """FATE's IntersectParam (FATE 1.11 names and defaults)."""

    intersect_method: Annotated[str, _choice(METHODS)] = "rsa"
    random_bit: Annotated[StrictInt, Field(gt=0)] = 128
    sync_intersect_ids: StrictBool = True
    join_role: Role = "guest"
    only_output_key: StrictBool = False
    with_encode: StrictBool = False
    encode_params: EncodeParams = Field(default_factory=EncodeParams)
    raw_params: RawParams = Field(default_factory=RawParams)
    rsa_params: RsaParams = Field(default_factory=RsaParams)
    dh_params: DhParams = Field(default_factory=DhParams)
    ecdh_params: EcdhParams = Field(default_factory=EcdhParams)
    join_method: Annotated[str, _choice(("inner_join", "left_join"))] = "inner_join"
    new_sample_id: StrictBool = False
    sample_id_generator: Role = "guest"
    intersect_cache_param: IntersectCacheParams = Field(default_factory=IntersectCacheParams)
    run_cache: StrictBool = False
    cardinality_only: StrictBool = False
    sync_cardinality: StrictBool = False
    cardinality_method: str = "ecdh"
    run_preprocess: StrictBool = False
    intersect_preprocess_params: PreprocessParams = Field(default_factory=PreprocessParams)
    repeated_id_process: Any = False
    repeated_id_owner: Any = "guest"
    with_sample_id: Any = False
    allow_info_share: Any = False
    info_owner: Any = "guest"

    @model_validator(mode="after")
    def _fate_rules(self) -> IntersectionParams:
        given = self.model_fields_set
        if "random_bit" in given and "random_bit" in self.rsa_params.model_fields_set:
            raise ValueError(
                "random_bit and rsa_params.random_bit cannot both be set; keep rsa_params.random_bit"
            )
        if "join_role" in given and "join_role" in self.raw_params.model_fields_set:
            raise ValueError(
                "join_role and raw_params.join_role cannot both be set; keep raw_params.join_role"
            )
        if given & {"with_encode", "encode_params"}:
            if "with_encode" in given and "use_hash" in self.raw_params.model_fields_set:
                raise ValueError("with_encode and raw_params.use_hash cannot both be set; keep raw_params")
            if "encode_params" in given and "raw_params" in given:
                raise ValueError("encode_params and raw_params cannot both be set; keep raw_params")
        if self.join_method == "left_join" and not self.sync_intersect_ids:
            raise ValueError("join_method left_join needs sync_intersect_ids true")
        split = self.rsa_params.split_calculation
        if self.cardinality_only:
            if self.cardinality_method not in ("rsa", "dh", "ecdh"):
                raise ValueError(
                    f"cardinality_method {self.cardinality_method!r} is not one of rsa, dh, ecdh"
                )
            if self.cardinality_method == "rsa" and split:
                raise ValueError("cardinality_only with rsa needs rsa_params.split_calculation false")
        if self.run_preprocess:
            if self.intersect_preprocess_params.false_positive_rate < 0.01:
                raise ValueError(
                    "run_preprocess needs intersect_preprocess_params.false_positive_rate >= 0.01"
                )
            if self.cardinality_only:
                raise ValueError("run_preprocess cannot be combined with cardinality_only")
        if self.run_cache:
            if self.intersect_method == "rsa" and split:
                raise ValueError("run_cache needs rsa_params.split_calculation false")
            if self.cardinality_only or self.run_preprocess:
                raise ValueError("run_cache cannot be combined with cardinality_only or run_preprocess")
        return self

    # ---- the values in effect once FATE's deprecated aliases are applied ------------------------

    @property
    def protocol(self) -> str:
        """What runs: ``cardinality_method`` with ``cardinality_only``, else ``intersect_method``."""
        return self.cardinality_method if self.cardinality_only else self.intersect_method

    @property
    def rsa(self) -> RsaParams:
        if "random_bit" in self.model_fields_set:
            return self.rsa_params.model_copy(update={"random_bit": self.random_bit})
        return self.rsa_params

    @property
    def raw(self) -> RawParams:
        raw = self.raw_params
        if "join_role" in self.model_fields_set:
            raw = raw.model_copy(update={"join_role": self.join_role})
        if self.model_fields_set & {"with_encode", "encode_params"}:
            encode = self.encode_params
            raw = raw.model_copy(
                update={
                    "use_hash": self.with_encode,
                    "hash_method": encode.encode_method,
                    "salt": encode.salt,
                    "base64": encode.base64,
                }
            )
        return raw


def unsupported_options(params: IntersectionParams) -> list[tuple[str, str]]:
    """``(field, why)`` for each requested option this implementation cannot carry out."""
    problems: list[tuple[str, str]] = []
    if params.intersect_method not in SUPPORTED_METHODS:
        problems.append(
            (
                "intersect_method",
                f"{params.intersect_method!r} is not supported; use one of {', '.join(SUPPORTED_METHODS)}",
            )
        )
    method = params.protocol
    if method == "dh" and params.dh_params.key_length not in DH_KEY_LENGTHS:
        problems.append(
            (
                "dh_params.key_length",
                f"{params.dh_params.key_length} has no MODP group; use one of "
                f"{', '.join(map(str, DH_KEY_LENGTHS))}",
            )
        )
    if params.run_cache and params.intersect_method == "raw":
        problems.append(("run_cache", "raw intersection has no encrypted ids to cache; use rsa, dh or ecdh"))
    if params.join_method != "inner_join":
        problems.append(
            (
                "join_method",
                f"{params.join_method!r} needs match ids, which instances do not have; use inner_join",
            )
        )
    hashes = {
        "rsa": {
            "rsa_params.hash_method": params.rsa.hash_method,
            "rsa_params.final_hash_method": params.rsa.final_hash_method,
        },
        "raw": {"raw_params.hash_method": params.raw.hash_method},
        "dh": {"dh_params.hash_method": params.dh_params.hash_method},
        "ecdh": {"ecdh_params.hash_method": params.ecdh_params.hash_method},
    }[method]
    for name, method in hashes.items():
        if method != "none" and method not in hashlib.algorithms_available:
            problems.append((name, f"{method!r} is not available in this Python's hashlib; use sha256"))
    return problems


def require_supported(params: IntersectionParams, *, component: str) -> None:
    problems = unsupported_options(params)
    if problems:
        listed = "; ".join(f"{name}: {why}" for name, why in problems)
        raise ComponentFeatureUnsupported(
            f"{component} (Intersection) asks for what Accord does not run: {listed}",
            hint="Accord's Intersection runs intersect_method rsa (unified or split calculation), raw, dh "
            "and ecdh, with or without run_preprocess or run_cache (not raw), and cardinality_only with "
            "rsa, dh or ecdh, all with inner_join; remove or change the fields named",
            component=component,
        )
