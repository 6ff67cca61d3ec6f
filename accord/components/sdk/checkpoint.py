"""Model checkpoints of a training task (FATE's ModelCheckpoint callback): the model as it stood after
an iteration, kept as JSON beside the task's scratch files.

Layout, under the task's directory: ``checkpoints/<step_index>#<step_name>.json`` per checkpoint and
``checkpoints/index.json`` listing them in the order saved (step index, step name, file, time), which is
what a ``checkpoint list|get`` reads. A run inside a run (one class of one-vs-rest, one fold) keeps its
own in a sub-directory named by its scope. Files are 0600 in 0700 directories: a model is the party's own.
"""

from __future__ import annotations

import json
import os
import re
import time
import uuid
from pathlib import Path
from typing import Any

from accord.errors import DataFormatError

INDEX_FILE = "index.json"
_STEP_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,100}$")


def _write_private(path: Path, body: bytes) -> None:
    """Write ``body`` to ``path`` (0600) through a sibling file, so a reader never sees half of it."""
    staging = path.with_name(f".{path.name}.{uuid.uuid4().hex}")
    descriptor = os.open(staging, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(body)
        os.replace(staging, path)
    finally:
        if staging.exists():
            staging.unlink()


def list_checkpoints(folder: Path) -> list[dict[str, Any]]:
    """The checkpoints saved in ``folder``, oldest first (none: an empty list)."""
    try:
        entries: list[dict[str, Any]] = json.loads((folder / INDEX_FILE).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return []
    return entries


def save_checkpoint(folder: Path, step_index: int, step_name: str, model: dict[str, Any]) -> Path:
    """Save ``model`` as the checkpoint of ``step_index`` and record it in the folder's index."""
    if not _STEP_NAME.match(step_name):
        raise ValueError(f"checkpoint step name {step_name!r} is not a plain name")
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    name = f"{int(step_index)}#{step_name}.json"
    path = folder / name
    _write_private(path, json.dumps(model).encode("utf-8"))
    # A step saved again (a rerun in the same directory) replaces its entry rather than adding one.
    entries = [entry for entry in list_checkpoints(folder) if entry["file"] != name]
    entries.append({"step_index": int(step_index), "step_name": step_name, "file": name, "time": time.time()})
    _write_private(folder / INDEX_FILE, json.dumps(entries).encode("utf-8"))
    return path


def load_checkpoint(folder: Path, step_index: int | None = None) -> dict[str, Any]:
    """The model of checkpoint ``step_index`` in ``folder`` (None: the last one saved)."""
    entries = list_checkpoints(folder)
    chosen = [entry for entry in entries if step_index is None or entry["step_index"] == step_index]
    if not chosen:
        raise DataFormatError(
            f"no checkpoint{'' if step_index is None else f' of step {step_index}'} in {folder}",
            hint="list the task's checkpoints and pick a saved step",
        )
    model: dict[str, Any] = json.loads((folder / chosen[-1]["file"]).read_text(encoding="utf-8"))
    return model
