"""Automatic reuse of finished components: FATE's breast hetero-LR job, then again with a new Evaluation.

Starts a real standalone site in a temporary home, uploads FATE's breast tables and measures, from
submit to success:
- ``first_s``: ``hetero_lr_normal`` (max_iter 30, as FATE ships it) on a fresh site: nothing to reuse;
- ``reused_s``: the same job with one Evaluation parameter changed: reader, data transform,
  intersection and HeteroLR are reused on both parties, Evaluation runs;
- ``no_reuse_s``: that second job again with ``job_parameters.common.reuse: false``: everything runs;
- ``reused_components``: how many of the second job's components were reused (of 5);
- ``auc_equal``: 1 when the reused and the plain run's Evaluation AUC are the same number.

Run: ``.venv/bin/python bench/reuse.py [--json]``.
"""

from __future__ import annotations

import argparse
import copy
import json
import sys
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.hetero_lr import GUEST, LR, call, evaluation, example_site, print_figures, submit  # noqa: E402


def breast(
    evaluation_params: dict[str, Any] | None = None, **common: Any
) -> tuple[dict[str, Any], dict[str, Any]]:
    dsl = json.loads((LR / "hetero_lr_normal_dsl.json").read_text())
    conf = copy.deepcopy(json.loads((LR / "hetero_lr_normal_conf.json").read_text()))
    if evaluation_params is not None:
        conf["component_parameters"]["common"]["evaluation_0"] = evaluation_params
    conf.setdefault("job_parameters", {}).setdefault("common", {}).update(common)
    return dsl, conf


def reused_count(http: httpx.Client, job_id: str) -> int:
    rows = call(http, "/v1/job/task/query", {"job_id": job_id, "role": "guest", "party_id": GUEST})["data"]
    return sum(1 for row in rows if row.get("f_reused_from"))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    changed = {"eval_type": "binary", "metrics": ["auc", "ks"]}
    with example_site("breast_hetero_guest", "breast_hetero_host") as (http, _):
        _, first = submit(http, *breast())
        reused_job, reused = submit(http, *breast(changed))
        plain_job, plain = submit(http, *breast(changed, reuse=False))
        figures = {
            "first_s": first,
            "reused_s": reused,
            "no_reuse_s": plain,
            "speedup": plain / reused,
            "reused_components": float(reused_count(http, reused_job)),
            "auc_equal": float(evaluation(http, reused_job)["auc"] == evaluation(http, plain_job)["auc"]),
        }
    if args.json:
        print(json.dumps(figures, indent=2))
        return
    print_figures(figures, {"reused_components": "4 (all but evaluation_0)", "auc_equal": "1"}, width=22)


if __name__ == "__main__":
    main()
