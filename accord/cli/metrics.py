"""``accord metrics relay``: lets Prometheus scrape a cluster site, whose ``/metrics`` wants signatures."""

from __future__ import annotations

import logging

import click

from accord.cli.http import configured_credentials, resolve_server
from accord.cli.root import coded_errors
from accord.errors import ArgumentError


@click.group("metrics")
def metrics() -> None:
    """The site's operations metrics (Prometheus)."""


@metrics.command("relay")
@click.option("--listen", default="127.0.0.1:9390", show_default=True, help="HOST:PORT Prometheus scrapes")
@click.option("--server", help="the site's HTTP API (default ACCORD_SERVER, else what `accord init` saved)")
@coded_errors
def relay(listen: str, server: str | None) -> None:
    """Serve GET /metrics, fetching the site's with a signed request (ACCORD_APP_KEY, ACCORD_APP_SECRET).

    Prometheus cannot sign requests; run this next to it, on the site's network only: it answers
    whoever reaches it.
    """
    from accord.metrics.relay import SigningScraper, relay_server

    credentials = configured_credentials()
    if credentials is None:
        raise ArgumentError(
            "the relay needs an app key and secret of the site to sign its scrapes",
            hint="set ACCORD_APP_KEY and ACCORD_APP_SECRET (a key of the site's http.app_credentials)",
        )
    host, _, port = listen.rpartition(":")
    if not host or not port.isdigit():
        raise ArgumentError(f"--listen {listen!r} is not HOST:PORT", hint="e.g. --listen 0.0.0.0:9390")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    scraper = SigningScraper(resolve_server(server), credentials.app_key, credentials.app_secret)
    httpd = relay_server(host, int(port), scraper)
    logging.getLogger(__name__).info("relaying %s/metrics on http://%s/metrics", scraper.server, listen)
    try:
        httpd.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        httpd.server_close()
        scraper.close()


METRICS_COMMANDS = [metrics]
