"""The conformance corpus: every FATE testsuite under ``examples/dsl/v2`` through ``accord suite``.

Starts a real standalone site (Temporal dev server, server, worker) in a temporary home and runs each
``*testsuite.json`` with ``accord suite --json`` against it, one suite after another (tasks within a suite
``--parallel``). Reported per suite: its tasks, how many ended in success, failed, or "not supported"
(a module or option the site refuses at submit), and the seconds the suite took; then the corpus total.

Run: ``.venv/bin/python bench/corpus.py [--only hetero_sshe_lr,psi] [--parallel 2] [--json]``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from accord.standalone.stack import Stack  # noqa: E402
from bench.hetero_lr import EXAMPLES  # noqa: E402
from tests.support import loopback_settings  # noqa: E402

SUITES = EXAMPLES / "dsl" / "v2"
OUTCOMES = ("success", "failed", "not supported")


def testsuites(only: set[str]) -> list[Path]:
    found = sorted(SUITES.glob("*/*testsuite*.json"))
    return [path for path in found if not only or path.parent.name in only]


def run_suite(path: Path, server: str, home: Path, parallel: int) -> dict[str, Any]:
    started = time.perf_counter()
    done = subprocess.run(
        [
            str(Path(sys.executable).parent / "accord"),
            "suite",
            "-i",
            str(path),
            "--data-base-dir",
            str(EXAMPLES.parent),
            "--server",
            server,
            "--parallel",
            str(parallel),
            "--json",
        ],
        capture_output=True,
        text=True,
        env={**os.environ, "ACCORD_HOME": str(home)},
        check=False,
    )
    seconds = time.perf_counter() - started
    try:
        body = json.loads(done.stdout[done.stdout.index("{") :])
        rows = body["data"]["tasks"]
    except (ValueError, KeyError, TypeError):
        return {
            "suite": path.parent.name,
            "tasks": 0,
            "error": (done.stdout + done.stderr)[-500:],
            "seconds": seconds,
        }
    counts = {outcome: sum(1 for row in rows if row["status"] == outcome) for outcome in OUTCOMES}
    unsuccessful = {row["task"]: row["status"] for row in rows if row["status"] != "success"}
    return {
        "suite": path.parent.name,
        "tasks": len(rows),
        **counts,
        "others": unsuccessful,
        "seconds": seconds,
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--only", default="", help="comma-separated suite folders (default: all)")
    parser.add_argument("--parallel", type=int, default=2, help="tasks at once within a suite")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    only = {name.strip() for name in args.only.split(",") if name.strip()}
    os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="accord-corpus-") as folder:
        home = Path(folder)
        settings = loopback_settings(home, upload_roots=(EXAMPLES.parent,))
        stack = Stack(settings)
        stack.up()
        try:
            for path in testsuites(only):
                rows.append(run_suite(path, settings.http_address, home, args.parallel))
                if not args.json:
                    print(json.dumps(rows[-1]), flush=True)
        finally:
            stack.down()
    total = {key: sum(int(row.get(key, 0)) for row in rows) for key in ("tasks", *OUTCOMES)}
    if args.json:
        print(json.dumps({"suites": rows, "total": total}, indent=2))
        return
    print(f"{'suite':<28} {'tasks':>5} {'success':>7} {'failed':>6} {'n/s':>4} {'s':>7}")
    for row in rows:
        print(
            f"{row['suite']:<28} {row['tasks']:>5} {row.get('success', 0):>7} {row.get('failed', 0):>6} "
            f"{row.get('not supported', 0):>4} {row['seconds']:>7.1f}"
        )
    print(
        f"{'total':<28} {total['tasks']:>5} {total['success']:>7} {total['failed']:>6} "
        f"{total['not supported']:>4}"
    )


if __name__ == "__main__":
    main()
