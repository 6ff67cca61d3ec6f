"""error_from_code rebuilds a peer's coded error as this process's class for that code."""

from __future__ import annotations

from typing import Any

import pytest

from accord.errors import (
    AccordError,
    ArgumentError,
    ConflictError,
    ConnectionFailure,
    NotFound,
    OperatingError,
    RecordNotFound,
    error_from_code,
)


class _CustomInit(OperatingError):
    """A subclass whose constructor does not take a bare message."""

    code = 10399

    def __init__(self, task: str, *, reason: str, **details: Any) -> None:
        super().__init__(f"task {task}: {reason}", **details)


@pytest.mark.parametrize(
    ("code", "cls"),
    [
        (100, AccordError),
        (101, ArgumentError),
        (105, ConnectionFailure),
        (404, NotFound),
        (10302, ConflictError),
        (40401, RecordNotFound),
        (10199, ArgumentError),  # unknown fine code: its family
        (10399, _CustomInit),
        (107, AccordError),  # unknown family
        (99999, AccordError),
        (0, AccordError),
    ],
)
def test_class_by_code(code: int, cls: type[AccordError]) -> None:
    error = error_from_code(code, "what went wrong. how to fix it")
    assert type(error) is cls
    assert error.retmsg == str(error) == "what went wrong. how to fix it"


def test_family_wins_over_subclass_inheriting_its_code() -> None:
    class _Plain(ArgumentError):
        pass

    assert _Plain.code == 101
    assert type(error_from_code(101, "m")) is ArgumentError
