"""Compile time of the 237 corpus jobs: how long `dsl validate` and job submission spend compiling.

Run: ``make bench`` (or ``.venv/bin/python bench/compile.py [--rounds N] [--json]``).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from accord.dsl_compiler import CompileOptions, compile_job
from tests.corpus import corpus_jobs, load


def measure(rounds: int) -> dict[str, float]:
    jobs = [(load(job.dsl_path), load(job.conf_path)) for job in corpus_jobs()]
    options = CompileOptions(allow_unbound_model=True)
    samples: list[float] = []
    for _ in range(rounds):
        for dsl, conf in jobs:
            start = time.perf_counter()
            compile_job(dsl, conf, options)
            samples.append((time.perf_counter() - start) * 1000)
    samples.sort()
    return {
        "jobs": float(len(jobs)),
        "compiles": float(len(samples)),
        "compile_ms_median": statistics.median(samples),
        "compile_ms_p95": samples[int(len(samples) * 0.95) - 1],
        "compile_ms_max": samples[-1],
        "compiles_per_s": len(samples) / (sum(samples) / 1000),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args()
    figures = measure(args.rounds)
    if args.json:
        print(json.dumps(figures, indent=2))
        return
    print(f"{'metric':<20} {'value':>10}")
    for key, value in figures.items():
        print(f"{key:<20} {value:>10.3f}")


if __name__ == "__main__":
    main()
