"""FATE's benchmark-quality cases of the linear models: scikit-learn's local reference beside Accord's jobs.

Starts a real standalone site (Temporal dev server, server, worker) in a temporary home, then for each
case of FATE 1.11's ``examples/benchmark_quality/{hetero_lr,homo_lr,hetero_linear_regression}``
``*_benchmark.json``: runs the ``local`` entry in this process with scikit-learn on the same rows as
FATE's local script, runs each FATE pipeline entry (HeteroLR, HeteroSSHELR, HomoLR, HeteroLinR,
HeteroSSHELinR) as an Accord job built from its YAML (uploaded from the benchmark's ``data`` entries),
reads the guest's Evaluation summary and matches the metrics every entry reports as FATE-Test does:
each within ``compare_setting.relative_tol`` of the local value (``accord/suite/benchmark.py``).

A case whose data files are not in ``../shared/fate/examples/data`` prints "no data: <file>"; the
others print a table: metric, the local value, each FATE entry's value (relative difference), match.
Exit status 1 if a case fails.

Run: ``.venv/bin/python bench/quality.py [--cases hetero_lr-binary-0,multi] [--json]``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from accord.cli.http import CONF_ENV, TOKEN_ENV  # noqa: E402
from accord.cli.suite import CheckedApi  # noqa: E402
from accord.cli.transfer import TransferApi  # noqa: E402
from accord.security.local_token import ensure_local_token  # noqa: E402
from accord.suite.benchmark import load_benchmark  # noqa: E402
from accord.suite.quality import CaseResult, CaseStatus, QualityRunner  # noqa: E402
from bench.hetero_lr import EXAMPLES, example_site  # noqa: E402

BENCHMARKS = [
    EXAMPLES / "benchmark_quality" / "hetero_lr" / "hetero_lr_sklearn_benchmark.json",
    EXAMPLES / "benchmark_quality" / "homo_lr" / "homo_lr_sklearn_benchmark.json",
    EXAMPLES / "benchmark_quality" / "hetero_linear_regression" / "hetero_linr_benchmark.json",
]


def run(only: set[str], progress: bool) -> list[dict[str, Any]]:
    """Every case (``only`` these, when given) on a fresh site; with ``progress`` each case's table is
    printed as it ends."""
    rows: list[dict[str, Any]] = []
    suites = [load_benchmark(path) for path in BENCHMARKS]
    known = {case.name for suite in suites for case in suite.cases}
    if only - known:
        raise SystemExit(f"no case {', '.join(sorted(only - known))}; cases: {', '.join(sorted(known))}")
    with example_site() as (_, settings), contextlib.ExitStack() as stack:
        os.environ[TOKEN_ENV] = ensure_local_token(settings.home)
        # Never credentials `accord init` saved for another site.
        os.environ[CONF_ENV] = str(settings.home / "cli.json")
        api = CheckedApi(stack.enter_context(TransferApi(settings.http_address, timeout_s=300)))
        runner = QualityRunner(
            lambda role: api,
            EXAMPLES.parent,
            progress=(lambda line: print(line, file=sys.stderr, flush=True))
            if progress
            else (lambda line: None),
        )
        for suite in suites:
            for case in suite.cases:
                if only and case.name not in only:
                    continue
                started = time.perf_counter()
                result = runner.run_case(suite, case)
                row = {
                    "suite": suite.folder,
                    **result.to_dict(),
                    "seconds": round(time.perf_counter() - started, 1),
                }
                rows.append(row)
                if progress:
                    print(table(result, row["seconds"]), flush=True)
    return rows


def table(result: CaseResult, seconds: float) -> str:
    head = f"{result.case}  [{result.status.value}]"
    if result.status in (CaseStatus.NO_DATA, CaseStatus.NOT_SUPPORTED):
        return f"{head}: {result.message}"
    tolerance = "FATE-Test's default" if result.relative_tol is None else f"{result.relative_tol:g}"
    lines = [
        f"{head}  relative_tol {tolerance}  {seconds:.0f} s"
        + (f"  {result.message}" if result.message else "")
    ]
    entries = [entry.entry for entry in result.entries]
    width = max([24, *(len(name) + 2 for name in entries)])
    lines.append(f"  {'metric':<26}" + "".join(f"{name:<{width}}" for name in entries) + "match")
    for match in result.comparison.metrics:
        cells = []
        for index, name in enumerate(entries):
            value = match.values.get(name)
            cell = "-" if value is None else f"{value:.6f}"
            if value is not None and index > 0:
                cell += f" ({match.relative_error(name):.2%})"
            cells.append(f"{cell:<{width}}")
        lines.append(f"  {match.metric:<26}" + "".join(cells) + ("yes" if match.matched else "NO"))
    for entry in result.entries:
        elapsed = "" if entry.elapsed_s is None else f" {entry.elapsed_s:.1f} s"
        job = f" job {entry.job_id}" if entry.job_id else ""
        note = f": {entry.message[:200]}" if entry.message else ""
        lines.append(f"  {entry.entry}: {entry.outcome.value}{job}{elapsed}{note}")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--cases", default="", help="comma-separated case names (default: every case)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    only = {name.strip() for name in args.cases.split(",") if name.strip()}
    rows = run(only, progress=not args.json)
    failed = [row["case"] for row in rows if row["status"] == CaseStatus.FAIL.value]
    if args.json:
        print(json.dumps(rows, indent=2))
    else:
        print()
        print(f"{'suite':<26} {'case':<38} {'status':<14} {'s':>7}")
        for row in rows:
            print(f"{row['suite']:<26} {row['case']:<38} {row['status']:<14} {row['seconds']:>7.1f}")
    if failed:
        sys.exit(1)


if __name__ == "__main__":
    main()
