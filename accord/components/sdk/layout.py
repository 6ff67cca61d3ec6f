"""Where a party's task files live under the site's home; the one place that knows the layout."""

from __future__ import annotations

from pathlib import Path


def party_dir(home: Path, job_id: str, role: str, party_id: int) -> Path:
    return home / "jobs" / job_id / f"{role}_{party_id}"


def task_dir(party: Path, component: str, task_version: int) -> Path:
    """Scratch space of one run of a task."""
    return party / f"{component}_v{task_version}"


def output_dir(party: Path, component: str) -> Path:
    """A component's outputs; a rerun replaces them, so downstream reads the successful run's."""
    return party / "outputs" / component


def data_path(party: Path, component: str, output: str) -> Path:
    return output_dir(party, component) / f"data_{output}.parquet"


def cache_dir(party: Path, component: str, output: str) -> Path:
    return output_dir(party, component) / f"cache_{output}"
