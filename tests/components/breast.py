"""The breast example split as FATE splits it: ten features and the label on the guest, twenty on the host."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from accord.components.sdk import Dataset

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "fate" / "examples" / "data"


def _read(name: str) -> tuple[list[str], np.ndarray, list[str]]:
    path = DATA / name
    header = path.read_text().splitlines()[0].split(",")
    table = np.loadtxt(path, delimiter=",", skiprows=1, dtype=str)
    return header, table, [str(sid) for sid in table[:, 0]]


def breast_parties(limit: int | None = None) -> tuple[Dataset, Dataset]:
    """Guest and host rows aligned by sorted id, as Intersection outputs them."""
    guest_header, guest, guest_ids = _read("breast_hetero_guest.csv")
    host_header, host, host_ids = _read("breast_hetero_host.csv")
    common = sorted(set(guest_ids) & set(host_ids))[:limit]
    guest_rows = [guest_ids.index(sid) for sid in common]
    host_rows = [host_ids.index(sid) for sid in common]
    guest_data = Dataset.instances(
        common,
        guest[guest_rows, 2:].astype(float),
        header=guest_header[2:],
        labels=guest[guest_rows, 1].astype(float),
        label_name="y",
    )
    host_data = Dataset.instances(common, host[host_rows, 1:].astype(float), header=host_header[1:])
    return guest_data, host_data
