"""Accord's coded errors at the Temporal activity edge.

An activity that lets an AccordError escape is failed by Temporal as a retryable error named after the
Python class, so a party's permanent refusal (PermissionDenied and its family) was asked again until
the job's timeout. Mapped here, the failure carries the stable code as its type and is retried only
when the error's class says that asking again can help.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, ParamSpec, TypeVar

from temporalio.exceptions import ApplicationError

from accord.errors import AccordError

P = ParamSpec("P")
R = TypeVar("R")


def application_error(error: AccordError, *, context: str = "") -> ApplicationError:
    """The Temporal failure for ``error``: type is its code, retried only if the error is retryable.

    ``context`` (who answered, what was asked) goes before the error's own message.
    """
    message = f"{context}: {error.retmsg}" if context else error.retmsg
    return ApplicationError(message, type=str(error.code), non_retryable=not error.retryable)


def coded_errors(activity_fn: Callable[P, Awaitable[R]]) -> Callable[P, Coroutine[Any, Any, R]]:
    """Wrap an activity (under ``@activity.defn``) so an AccordError leaves it as application_error."""

    @functools.wraps(activity_fn)
    async def run(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return await activity_fn(*args, **kwargs)
        except AccordError as error:
            # The code and message say everything; the local traceback would only repeat it.
            raise application_error(error) from None

    return run
