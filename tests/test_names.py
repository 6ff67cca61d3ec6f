"""The one rule for names that become files, keys and payloads, and the document check of the compiler."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from accord.dsl_compiler.jsonio import check_document
from accord.errors import ArgumentError, NameInvalid
from accord.names import check_name, text_problem
from accord.storage.names import TableNamePart, check_table_key


@pytest.mark.parametrize(
    ("value", "says"),
    [
        ("", "empty"),
        ("\ud800", "lone surrogate"),
        ("x" * 129, "129 characters"),
        ("é" * 128, "256 bytes"),
        ("a\x00b", "control character"),
        (5, "must be text"),
    ],
)
def test_names_that_cannot_be_a_file_or_key(value: Any, says: str) -> None:
    problem = text_problem(value, max_chars=128)
    assert problem is not None and says in problem
    with pytest.raises(NameInvalid) as refused:
        check_name(value, "tag", max_chars=128, hint="h")
    assert refused.value.code == 10130 and refused.value.details["field"] == "tag"


def test_usable_names_pass() -> None:
    for value in ("breast_hetero_guest", "experiment", "é" * 127, "x" * 128):
        assert text_problem(value, max_chars=128) is None
    check_table_key("experiment", "breast_hetero_guest")


def test_table_names_are_refused_with_their_field() -> None:
    with pytest.raises(NameInvalid, match="table_name"):
        check_table_key("experiment", "表" * 100)

    class Body(BaseModel):
        namespace: TableNamePart

    with pytest.raises(ValidationError, match="bytes"):
        Body(namespace="表" * 100)
    assert Body(namespace="experiment").namespace == "experiment"


def test_document_check_is_iterative_and_names_the_path() -> None:
    deep: dict[str, Any] = {}
    for _ in range(5000):  # far deeper than recursion could follow
        deep = {"a": deep}
    with pytest.raises(ArgumentError, match=r"x\.a\.a.* more than 64"):
        check_document({"x": deep}, "conf")
    check_document({"x": [1, 2.5, None, True, "text", {"y": []}]}, "conf")
    for bad in (float("nan"), "\udc80", {"\ud800": 1}, {1: 2}, b"bytes"):
        with pytest.raises(ArgumentError):
            check_document({"x": bad}, "conf")
