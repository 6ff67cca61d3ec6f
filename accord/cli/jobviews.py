"""How ``job list``, ``job query`` and ``job view`` read on a terminal: aligned tables, not JSON.

The JSON envelope stays the output wherever stdout is not a terminal (scripts, pipes, tests) and
with ``--json``.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

import click

from accord.cli.follow import worst
from accord.cli.root import emit

Column = tuple[str, Callable[[dict[str, Any]], object]]
_REASON_CHARS = 60


def wants_json(json_flag: bool) -> bool:
    return json_flag or not sys.stdout.isatty()


def table(rows: Sequence[dict[str, Any]], columns: Sequence[Column]) -> str:
    cells = [[h for h, _ in columns]] + [[_text(get(row)) for _, get in columns] for row in rows]
    widths = [max(len(line[i]) for line in cells) for i in range(len(columns))]
    return "\n".join(
        "  ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)).rstrip() for line in cells
    )


def _text(value: object) -> str:
    if value is None:
        return "-"
    return " ".join(str(value).split())


def when(ms: object) -> str:
    if not isinstance(ms, int):
        return "-"
    return datetime.fromtimestamp(ms / 1000, UTC).astimezone().strftime("%Y-%m-%d %H:%M:%S")


def duration(ms: object) -> str:
    if not isinstance(ms, int):
        return "-"
    seconds = ms // 1000
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


def short(text: object, limit: int = _REASON_CHARS) -> str:
    words = " ".join(str(text or "").split())
    return words if len(words) <= limit else words[: limit - 3] + "..."


JOB_COLUMNS: list[Column] = [
    ("JOB ID", lambda r: r.get("f_job_id")),
    ("ROLE", lambda r: r.get("f_role")),
    ("PARTY", lambda r: r.get("f_party_id")),
    ("STATUS", lambda r: r.get("f_status")),
    ("PROGRESS", lambda r: f"{r.get('f_progress') or 0}%"),
    ("START", lambda r: when(r.get("f_start_time"))),
    ("ELAPSED", lambda r: duration(r.get("f_elapsed"))),
    ("REASON", lambda r: short(r.get("f_status_reason"))),
]


def print_jobs(envelope: dict[str, Any], rows: list[dict[str, Any]]) -> None:
    if envelope.get("retcode"):
        emit(envelope)
        return
    click.echo(table(rows, JOB_COLUMNS) if rows else "no jobs")


def print_query(envelope: dict[str, Any]) -> None:
    rows: list[dict[str, Any]] = envelope.get("data") or []
    print_jobs(envelope, rows)
    for row in rows:
        for component, source in (row.get("f_reused") or {}).items():
            click.echo(f"{row.get('f_role')} {row.get('f_party_id')}: {component} reused from {source}")
    live = next((r.get("f_live") for r in rows if r.get("f_live")), None)
    if live and live.get("components"):
        click.echo("")
        parts = [
            {"name": name, **view} for name, view in live["components"].items() if isinstance(view, dict)
        ]
        click.echo(
            table(
                parts,
                [
                    ("COMPONENT", lambda c: c.get("name")),
                    ("STATUS", lambda c: c.get("status")),
                    ("ERROR", lambda c: short(c.get("error"))),
                ],
            )
        )


def job_view(job: dict[str, Any], tasks: list[dict[str, Any]]) -> dict[str, Any]:
    """FATE's ``job view`` as a summary: the job and, per component, its newest tasks on each party."""
    modules = {
        name: spec.get("module")
        for name, spec in ((job.get("f_dsl") or {}).get("components") or {}).items()
        if isinstance(spec, dict)
    }
    newest: dict[str, int] = {}
    for task in tasks:
        name = str(task["f_component_name"])
        newest[name] = max(newest.get(name, 0), int(task["f_task_version"]))
    components = []
    for name in list(modules) + [n for n in newest if n not in modules]:
        mine = [t for t in tasks if t["f_component_name"] == name and t["f_task_version"] == newest.get(name)]
        parties = [
            {
                "role": t["f_role"],
                "party_id": t["f_party_id"],
                "status": t["f_party_status"],
                "elapsed": t.get("f_elapsed"),
                "progress": t.get("f_progress", 0),
                "progress_done": t.get("f_progress_done", 0),
                "progress_total": t.get("f_progress_total", 0),
                "note": t.get("f_progress_note", ""),
                "error": t.get("f_error", ""),
                "reused_from": t.get("f_reused_from"),
            }
            for t in mine
        ]
        components.append(
            {
                "component": name,
                "module": modules.get(name),
                "task_version": newest.get(name),
                "status": worst(str(t["f_status"]) for t in mine) if mine else "waiting",
                "parties": parties,
            }
        )
    return {
        "job_id": job.get("f_job_id"),
        "status": job.get("f_status"),
        "status_reason": job.get("f_status_reason"),
        "progress": job.get("f_progress"),
        "start_time": job.get("f_start_time"),
        "elapsed": job.get("f_elapsed"),
        "components": components,
    }


def print_view(view: dict[str, Any]) -> None:
    reason = f": {view['status_reason']}" if view.get("status_reason") else ""
    click.echo(f"job {view['job_id']} {view['status']}{reason} ({view.get('progress') or 0}% done)")
    rows = [
        {"component": c["component"], "module": c["module"], "version": c["task_version"], **p}
        for c in view["components"]
        for p in c["parties"] or [{"role": "-", "party_id": "-", "status": c["status"]}]
    ]
    click.echo(
        table(
            rows,
            [
                ("COMPONENT", lambda r: r["component"]),
                ("MODULE", lambda r: r["module"]),
                ("V", lambda r: r["version"]),
                ("PARTY", lambda r: f"{r['role']} {r['party_id']}"),
                ("STATUS", lambda r: r["status"]),
                ("ELAPSED", lambda r: duration(r.get("elapsed"))),
                ("ITERATION", lambda r: _iteration(r)),
                ("NOTE / ERROR", lambda r: short(r.get("error") or _reused(r) or r.get("note"))),
            ],
        )
    )


def _reused(row: dict[str, Any]) -> str:
    return f"reused from {row['reused_from']}" if row.get("reused_from") else ""


def _iteration(row: dict[str, Any]) -> str:
    total = row.get("progress_total") or 0
    return f"{row.get('progress_done') or 0}/{total}" if total else "-"
