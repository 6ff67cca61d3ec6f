#!/usr/bin/env bash
# Regenerates the checked-in Python modules of every .proto under accord/federation/proto.
#
# Usage: scripts/gen_protos.sh [OUT_DIR]   (OUT_DIR defaults to the repository root; the freshness
# test passes a temporary directory and compares the result with the checked-in files).
#
# The include root is the repository root, so protoc itself writes package imports
# (`from accord.federation.proto import federation_pb2`) into the grpc module: no import fix-up.
# Output depends on the grpcio-tools version, which is why the dev extra pins it.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
# A relative PYTHON is taken from the repository root; a relative OUT_DIR from where you are.
PYTHON="${PYTHON:-.venv/bin/python}"
OUT="$(mkdir -p "${1:-$ROOT}" && cd "${1:-$ROOT}" && pwd)"
cd "$ROOT"
"$PYTHON" -m grpc_tools.protoc \
    --proto_path=. \
    --python_out="$OUT" \
    --pyi_out="$OUT" \
    --grpc_python_out="$OUT" \
    accord/federation/proto/*.proto
