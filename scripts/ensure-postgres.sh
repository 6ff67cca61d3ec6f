#!/usr/bin/env bash
# The tests start their own PostgreSQL from Debian's server binaries; install them when absent.
set -euo pipefail
if compgen -G "/usr/lib/postgresql/*/bin/initdb" > /dev/null; then
    exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
    echo "PostgreSQL server binaries are missing: run 'sudo apt-get install -y postgresql'" >&2
    exit 1
fi
echo "installing Debian's PostgreSQL server (tests start their own instance)"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q postgresql
