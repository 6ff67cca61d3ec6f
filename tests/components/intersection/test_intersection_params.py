"""Intersection's parameter model against FATE's: every corpus section validates, and what is not run is
refused by name."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from accord.components.intersection.params import IntersectionParams, require_supported, unsupported_options
from accord.dsl_compiler.params import merge_all, ordered_sections
from accord.errors import ComponentFeatureUnsupported
from tests.corpus import DSL_V2


@dataclass(frozen=True)
class Section:
    conf: Path
    component: str
    party: str
    parameters: dict[str, Any]

    @property
    def id(self) -> str:
        return f"{self.conf.relative_to(DSL_V2)}:{self.component}:{self.party}"


def _intersection_names(directory: Path) -> set[str]:
    names = set()
    for dsl_path in directory.glob("*dsl*.json"):
        components = json.loads(dsl_path.read_text()).get("components") or {}
        names |= {name for name, body in components.items() if body.get("module") == "Intersection"}
    return names


def corpus_sections() -> Iterator[Section]:
    """Each party's merged Intersection parameters in every conf whose directory's DSLs use the module."""
    for conf_path in sorted(DSL_V2.glob("**/*conf*.json")):
        names = _intersection_names(conf_path.parent)
        conf = json.loads(conf_path.read_text())
        parameters = conf.get("component_parameters") or {}
        if not names or not parameters:
            continue
        roles = conf.get("role") or {}
        by_role = parameters.get("role") or {}
        for name in sorted(names):
            common = (parameters.get("common") or {}).get(name)
            for role in ("guest", "host"):
                sections = ordered_sections(by_role.get(role) or {}, len(roles.get(role) or []), role)
                for index in range(len(roles.get(role) or [])):
                    layers = [body.get(name) for indexes, body in sections if index in indexes]
                    merged = merge_all([layer for layer in [common, *layers] if layer is not None])
                    if common is not None or any(layer is not None for layer in layers):
                        yield Section(conf_path, name, f"{role}{index}", merged)


SECTIONS = list(corpus_sections())


def test_the_corpus_has_intersection_sections_of_every_kind() -> None:
    assert len(SECTIONS) > 300
    methods = {str(s.parameters.get("intersect_method", "rsa")).lower() for s in SECTIONS}
    assert methods == {"rsa", "dh", "ecdh"}
    for flag in ("cardinality_only", "run_cache", "run_preprocess", "sync_intersect_ids", "only_output_key"):
        assert any(flag in s.parameters for s in SECTIONS), flag
    assert any(s.parameters.get("rsa_params", {}).get("split_calculation") for s in SECTIONS)


def expected_refusals(parameters: dict[str, Any]) -> set[str]:
    """What the corpus section asks for that is not run here, read straight from the raw JSON."""
    method = str(parameters.get("intersect_method", "rsa")).lower()
    refused = {"run_cache"} if parameters.get("run_cache") and method == "raw" else set()
    if str(parameters.get("join_method", "inner_join")).lower() != "inner_join":
        refused.add("join_method")
    return refused


@pytest.mark.parametrize("section", SECTIONS, ids=[s.id for s in SECTIONS])
def test_every_corpus_section_validates_and_unsupported_options_are_named(section: Section) -> None:
    params = IntersectionParams.model_validate(section.parameters)
    refused = {name for name, _ in unsupported_options(params)}
    assert refused == expected_refusals(section.parameters)
    if refused:
        with pytest.raises(ComponentFeatureUnsupported) as raised:
            require_supported(params, component=section.component)
        assert raised.value.code == 10127
        assert all(f"{name}:" in str(raised.value) for name in refused)
        assert "rsa" in str(raised.value) and "raw" in str(raised.value)
    else:
        require_supported(params, component=section.component)


# ---- FATE's own rules -----------------------------------------------------------------------------


def test_defaults_are_fate_1_11s() -> None:
    params = IntersectionParams()
    assert (params.intersect_method, params.sync_intersect_ids, params.only_output_key) == (
        "rsa",
        True,
        False,
    )
    rsa = params.rsa
    assert (rsa.key_length, rsa.random_bit, rsa.hash_method, rsa.final_hash_method) == (
        2048,
        128,
        "sha256",
        "sha256",
    )
    assert (rsa.split_calculation, rsa.random_base_fraction, rsa.salt) == (False, None, "")
    raw = params.raw
    assert (raw.use_hash, raw.hash_method, raw.join_role, raw.base64) == (False, "none", "guest", False)
    assert params.join_method == "inner_join" and params.sample_id_generator == "guest"


def test_choices_ignore_letter_case_as_in_fate() -> None:
    params = IntersectionParams.model_validate(
        {"intersect_method": "RSA", "rsa_params": {"hash_method": "SHA512", "final_hash_method": "Md5"}}
    )
    assert (params.intersect_method, params.rsa.hash_method, params.rsa.final_hash_method) == (
        "rsa",
        "sha512",
        "md5",
    )


def test_deprecated_top_level_fields_feed_the_method_sections() -> None:
    params = IntersectionParams.model_validate(
        {
            "random_bit": 64,
            "join_role": "host",
            "with_encode": True,
            "encode_params": {"encode_method": "sha1"},
        }
    )
    assert params.rsa.random_bit == 64
    assert (params.raw.join_role, params.raw.use_hash, params.raw.hash_method) == ("host", True, "sha1")


@pytest.mark.parametrize(
    ("parameters", "words"),
    [
        ({"random_bit": 64, "rsa_params": {"random_bit": 32}}, "random_bit"),
        ({"join_role": "host", "raw_params": {"join_role": "guest"}}, "join_role"),
        ({"with_encode": True, "raw_params": {"use_hash": True}}, "with_encode"),
        ({"encode_params": {}, "raw_params": {}}, "encode_params"),
        ({"join_method": "left_join", "sync_intersect_ids": False}, "left_join"),
        ({"run_cache": True, "rsa_params": {"split_calculation": True}}, "split_calculation"),
        (
            {
                "cardinality_only": True,
                "cardinality_method": "rsa",
                "rsa_params": {"split_calculation": True},
            },
            "split",
        ),
        ({"cardinality_only": True, "cardinality_method": "psi"}, "cardinality_method"),
        ({"run_preprocess": True, "intersect_preprocess_params": {"false_positive_rate": 0.001}}, "0.01"),
        ({"rsa_params": {"key_length": 1000}}, "rsa_params.key_length"),
        ({"rsa_params": {"random_base_fraction": 1.5}}, "random_base_fraction"),
        ({"raw_params": {"hash_method": "blake2b"}}, "raw_params.hash_method"),
        ({"ecdh_params": {"curve": "p256"}}, "ecdh_params.curve"),
        ({"sync_intersect_ids": "yes"}, "sync_intersect_ids"),
        ({"rsa_params": {"salt": 7}}, "rsa_params.salt"),
        ({"rsa_param": {}}, "rsa_param"),
    ],
)
def test_what_fate_refuses_is_refused(parameters: dict[str, Any], words: str) -> None:
    with pytest.raises(ValidationError) as raised:
        IntersectionParams.model_validate(parameters)
    assert words in str(raised.value)
