"""Stand-ins for ``accord server`` and ``accord worker``: real processes that do what the stack checks.

They rebuild the settings from the ``ACCORD_*`` environment exactly as the real commands do, so a
stand-in that becomes ready proves the settings reached it. Run: ``python standins.py server|worker``.
"""

from __future__ import annotations

import signal
import socket
import sys
import threading
import time

from accord.settings import Settings
from accord.standalone.stack import worker_ready_file


def _listen(host: str, port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen()
    # Accept and drop every connection, as a real server answers: connections never accepted fill the
    # listen backlog, and once it is full every readiness check of the supervisor fails.
    threading.Thread(target=_drain, args=(sock,), daemon=True).start()
    return sock


def _drain(sock: socket.socket) -> None:
    while True:
        try:
            connection, _ = sock.accept()
        except OSError:
            return
        connection.close()


def main(role: str) -> None:
    settings = Settings.from_env()
    # Exit on SIGTERM through SystemExit, so that the finally below runs as in a real service.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    print(f"{role} stand-in starting for home {settings.home}", flush=True)
    held: list[socket.socket] = []
    ready = worker_ready_file(settings)
    try:
        if role == "server":
            held.append(_listen(settings.http_host, settings.http_port))
            held.append(_listen(settings.federation_host, settings.federation_port))
        else:
            ready.write_text("ready\n")
        while True:
            time.sleep(3600)
    finally:
        if role == "worker":
            ready.unlink(missing_ok=True)


if __name__ == "__main__":
    main(sys.argv[1])
