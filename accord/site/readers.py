"""At submit, the tables a job's Readers name on this site's parties must exist.

Without this check a job whose Reader names a missing (or misspelt) table is accepted and fails at
run time, after it has queued and reserved cores. A site checks only the parties it hosts: another
site's tables are not its to see, and a cluster job learns of a host's missing table from that host.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable

from accord.dsl_compiler.plan import JobPlan
from accord.errors import ReaderTableError
from accord.storage import TableInfo, TableStore

READER_MODULES = frozenset({"Reader"})


def check_reader_tables(plan: JobPlan, tables: TableStore, hosts_party: Callable[[int], bool]) -> None:
    """Refuse (10116) a job whose Reader names a table this site's party does not hold."""
    readers = [c.name for c in plan.components if c.module in READER_MODULES]
    if not readers:
        return
    known: list[TableInfo] | None = None
    for party in plan.parties:
        if not hosts_party(party.party_id):
            continue
        for name in readers:
            if name not in party.components:
                continue
            table = party.component_parameters.get(name, {}).get("table")
            if not isinstance(table, dict):
                continue  # the Reader's own parameter check names what is missing
            namespace, table_name = table.get("namespace"), table.get("name")
            if not isinstance(namespace, str) or not isinstance(table_name, str):
                continue
            if tables.find(namespace, table_name) is not None:
                continue
            if known is None:
                known = tables.list()
            raise ReaderTableError(
                f"{name} of {party.role} {party.party_id} reads table {namespace}.{table_name}, which "
                "this site does not hold",
                hint=_hint(namespace, table_name, known),
                component=name,
                namespace=namespace,
                table_name=table_name,
            )


def _hint(namespace: str, name: str, known: list[TableInfo]) -> str:
    full = [f"{t.namespace}.{t.name}" for t in known]
    close = difflib.get_close_matches(f"{namespace}.{name}", full, n=1, cutoff=0.6)
    if close:
        return f"did you mean {close[0]!r}? Upload the table first, or fix the Reader's table in the conf"
    return "upload the table first (`accord data upload -c CONF`), or fix the Reader's table in the conf"
