"""Uploading and downloading stream: a file several times larger than what the process grows by.

Measured in a child process (peak RSS from getrusage), after a small upload and download of the same
shape have paid the one-time costs (code pages, thread pools, allocator arenas).
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np

ROWS = 300_000

_CHILD = textwrap.dedent(
    """
    import json, resource, sys
    from pathlib import Path
    from accord.persistence import Database, TableMetaRepository
    from accord.storage import TableStore, UploadConf

    work = Path(sys.argv[1])
    db = Database(f"sqlite:///{work / 'accord.db'}")
    db.migrate()
    store = TableStore(work / "tables", TableMetaRepository(db))

    def upload(name):
        conf = {"file": str(work / f"{name}.csv"), "table_name": name, "namespace": "ns"}
        return store.upload(UploadConf.parse(conf))

    def peak():
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024

    upload("small")
    store.download("ns", "small", work / "small.out")
    before = peak()
    count = upload("big").count
    after_upload = peak()
    store.download("ns", "big", work / "big.out")
    after_download = peak()
    print(json.dumps({"count": count, "upload": after_upload - before, "download": after_download - before}))
    """
)


def _generate(path: Path, rows: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    with path.open("w") as out:
        out.write("id,y," + ",".join(f"x{i}" for i in range(20)) + "\n")
        for start in range(0, rows, 50_000):
            count = min(50_000, rows - start)
            block = np.column_stack(
                [np.arange(start, start + count), rng.integers(0, 2, count), rng.normal(size=(count, 20))]
            )
            np.savetxt(out, block, fmt=["%d", "%d", *["%.6f"] * 20], delimiter=",")


def test_a_large_upload_and_download_grow_the_process_far_less_than_the_file(tmp_path: Path) -> None:
    _generate(tmp_path / "small.csv", 60_000, seed=1)
    _generate(tmp_path / "big.csv", ROWS, seed=2)
    size = (tmp_path / "big.csv").stat().st_size
    child = subprocess.run(
        [sys.executable, "-c", _CHILD, str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert child.returncode == 0, child.stderr
    measured = json.loads(child.stdout)
    assert measured["count"] == ROWS
    assert (tmp_path / "big.out").read_bytes() == (tmp_path / "big.csv").read_bytes()
    # A whole-file approach would grow by at least the file's size; streaming stays a small fraction.
    assert measured["upload"] < size / 4, (measured, size)
    assert measured["download"] < size / 4, (measured, size)
