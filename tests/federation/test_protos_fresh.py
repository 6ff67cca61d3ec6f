"""The checked-in generated modules are exactly what scripts/gen_protos.sh makes of the .proto now."""

from __future__ import annotations

import os
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PROTO_DIR = Path("accord/federation/proto")
GENERATED = ("*_pb2.py", "*_pb2.pyi", "*_pb2_grpc.py")


def _generated(root: Path) -> dict[str, bytes]:
    return {
        path.name: path.read_bytes()
        for pattern in GENERATED
        for path in sorted((root / PROTO_DIR).glob(pattern))
    }


def test_generated_modules_are_fresh(tmp_path: Path) -> None:
    subprocess.run(
        ["bash", str(ROOT / "scripts" / "gen_protos.sh"), str(tmp_path)],
        check=True,
        cwd=ROOT,
        env={**os.environ, "PYTHON": sys.executable},
        capture_output=True,
    )
    fresh, checked_in = _generated(tmp_path), _generated(ROOT)
    assert fresh, "gen_protos.sh produced nothing"
    stale = sorted(
        name for name in fresh.keys() | checked_in.keys() if fresh.get(name) != checked_in.get(name)
    )
    assert not stale, (
        f"generated modules differ from federation.proto: {stale}; run scripts/gen_protos.sh and commit "
        f"(the output also depends on the grpcio-tools version, here {version('grpcio-tools')})"
    )
