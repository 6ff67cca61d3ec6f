"""``remote`` and ``get``: how a component exchanges values with the other parties of its task.

Values are addressed by job, component, task version, tag, source and destination party, so each
exchange needs a tag unique within the task (e.g. ``"gradient.3.1"`` for iteration 3, batch 1).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, Literal

from accord.components.sdk.services import ExchangeKey, ValueExchange
from accord.errors import ArgumentError
from accord.identity import Party

PartyIndex = int | Sequence[int] | Literal["all"]


class Transfer:
    def __init__(
        self,
        *,
        job_id: str,
        component: str,
        task_version: int,
        party: Party,
        roles: Mapping[str, Sequence[int]],
        exchange: ValueExchange,
        timeout_s: float,
        sleep: Callable[[float], None],
    ) -> None:
        self._job_id = job_id
        self._component = component
        self._task_version = task_version
        self.party = party
        self._roles = roles
        self._exchange = exchange
        self.timeout_s = timeout_s
        self._sleep = sleep

    def parties(self, role: str, index: PartyIndex = "all") -> list[Party]:
        ids = self._roles.get(role)
        if not ids:
            raise ArgumentError(f"the job has no {role} party", hint="check the conf's role section")
        if index == "all":
            positions: Sequence[int] = range(len(ids))
        elif isinstance(index, int):
            positions = [index]
        else:
            positions = list(index)
        for position in positions:
            if not 0 <= position < len(ids):
                raise ArgumentError(f"the job has no {role} with index {position}; it has {len(ids)}")
        return [Party(role=role, party_id=ids[position]) for position in positions]

    def _key(self, tag: str, source: Party, destination: Party) -> ExchangeKey:
        return ExchangeKey(
            job_id=self._job_id,
            component=self._component,
            task_version=self._task_version,
            tag=tag,
            source=source,
            destination=destination,
        )

    def remote(self, value: Any, *, role: str, tag: str, index: PartyIndex = "all") -> None:
        """Send ``value`` to the ``role`` parties picked by ``index``; returns once each has it stored."""
        keys = [self._key(tag, self.party, destination) for destination in self.parties(role, index)]
        self._exchange.send(keys, value)

    def get(self, *, role: str, tag: str, index: PartyIndex = "all") -> Any:
        """What each picked ``role`` party sent under ``tag``: one value for an int index, else a list."""
        values = [
            self._exchange.receive(
                self._key(tag, source, self.party), timeout_s=self.timeout_s, sleep=self._sleep
            )
            for source in self.parties(role, index)
        ]
        return values[0] if isinstance(index, int) else values
