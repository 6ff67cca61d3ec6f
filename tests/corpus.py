"""The conformance corpus: FATE v1.11.4's example jobs named by its testsuites."""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
FATE_ROOT = SHARED / "fate"
DSL_V2 = FATE_ROOT / "examples" / "dsl" / "v2"


@dataclass(frozen=True)
class CorpusJob:
    suite: str
    task: str
    dsl_path: Path
    conf_path: Path
    deps: str | None

    @property
    def id(self) -> str:
        return f"{self.suite}/{self.task}"


def corpus_jobs() -> list[CorpusJob]:
    suites = sorted(DSL_V2.glob("*/*testsuite*.json"))
    if not suites:
        raise RuntimeError(f"the conformance corpus is missing: no testsuites under {DSL_V2}")
    jobs = []
    for suite in suites:
        tasks = json.loads(suite.read_text())["tasks"]
        for task, spec in tasks.items():
            jobs.append(
                CorpusJob(
                    suite=suite.parent.name,
                    task=task,
                    dsl_path=(suite.parent / spec["dsl"]).resolve(),
                    conf_path=(suite.parent / spec["conf"]).resolve(),
                    deps=spec.get("deps"),
                )
            )
    return jobs


def load(path: Path) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(path.read_text())
    return document


def bind_model(conf: dict[str, Any], model_id: str, model_version: str) -> dict[str, Any]:
    """What FATE-Test does for a task with ``deps``: the predict job uses the trained model."""
    bound = copy.deepcopy(conf)
    common = bound.setdefault("job_parameters", {}).setdefault("common", {})
    common.update(model_id=model_id, model_version=model_version, job_type="predict")
    return bound
