"""The root command group and the error handling every command shares."""

from __future__ import annotations

import functools
import json
import os
import sys
from collections.abc import Callable
from typing import Any, TypeVar

import click

from accord import __version__
from accord.errors import AccordError, RetCode, exit_code

F = TypeVar("F", bound=Callable[..., Any])


def emit(body: dict[str, Any]) -> None:
    click.echo(json.dumps(body, indent=4, ensure_ascii=False))


def coded_errors(command: F) -> F:
    """Turn every failure into ``{"retcode", "retmsg"}`` and an exit status; never a traceback."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except AccordError as error:
            emit(error.to_dict())
            sys.exit(exit_code(error))
        except (click.exceptions.Exit, click.ClickException, click.Abort):
            raise
        except Exception as error:
            if os.environ.get("ACCORD_DEBUG"):
                raise
            message = f"internal error: {type(error).__name__}: {error}"
            emit({"retcode": int(RetCode.EXCEPTION), "retmsg": message})
            sys.exit(1)

    return wrapper  # type: ignore[return-value]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="accord")
def main() -> None:
    """Accord: FATE DSL v2 federated-learning jobs on durable workflows."""
