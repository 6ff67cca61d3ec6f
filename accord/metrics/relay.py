"""A scrape relay for cluster sites: Prometheus cannot sign requests, this process signs them for it.

In cluster mode ``/metrics`` takes only requests signed with one of the site's app keys
(:mod:`accord.api.auth`), a scheme Prometheus does not speak. ``accord metrics relay`` listens on the
site's own network, and answers each ``GET /metrics`` by fetching the site's ``/metrics`` with a
freshly signed request. It holds the app key and secret (give it a key of its own in
``app_credentials``, so it can be revoked alone) and must listen only where the site's Prometheus
reaches it: it answers anyone who reaches it.
"""

from __future__ import annotations

import logging
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx

from accord.api.auth import body_digest, signed_headers
from accord.metrics.exposition import METRICS_PATH

log = logging.getLogger(__name__)

_EMPTY_DIGEST = body_digest(b"")


class SigningScraper:
    """Fetches a site's ``/metrics`` signed with an app key and secret."""

    def __init__(self, server: str, app_key: str, app_secret: str, *, timeout_s: float = 10.0) -> None:
        self.server = server.rstrip("/")
        self._key = app_key
        self._secret = app_secret
        self._client = httpx.Client(base_url=self.server, timeout=timeout_s)

    def fetch(self) -> httpx.Response:
        headers = signed_headers(self._key, self._secret, "GET", METRICS_PATH.encode(), _EMPTY_DIGEST)
        return self._client.get(METRICS_PATH, headers=headers)

    def close(self) -> None:
        self._client.close()


def relay_server(host: str, port: int, scraper: SigningScraper) -> ThreadingHTTPServer:
    """An HTTP server answering ``GET /metrics`` with the site's, fetched through ``scraper``."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path.split("?", 1)[0] != METRICS_PATH:
                self._answer(404, b"only GET /metrics is relayed\n", "text/plain; charset=utf-8")
                return
            try:
                reply = scraper.fetch()
            except httpx.HTTPError as error:
                log.warning("cannot scrape %s: %s", scraper.server, error)
                self._answer(502, f"cannot reach {scraper.server}: {error}\n".encode(), "text/plain")
                return
            if reply.status_code != 200:
                # The site's refusal (a wrong key or secret, a clock out of sync) says what to fix.
                log.warning(
                    "%s refused the scrape: %s %s", scraper.server, reply.status_code, reply.text[:500]
                )
            content_type = reply.headers.get("content-type", "text/plain")
            self._answer(reply.status_code, reply.content, content_type)

        def _answer(self, status: int, body: bytes, content_type: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            log.debug("relay: " + format, *args)

    return ThreadingHTTPServer((host, port), Handler)
