"""The CLI's side of model archives: one fetched and checked, one sent as the request body.

Imported only by ``accord model export`` and ``import``, so other commands start without httpx.
"""

from __future__ import annotations

import hashlib
from typing import Any

import httpx

from accord.cli.http import Api, resolve_server
from accord.errors import AccordError, ConnectionFailure, TransferError

EXPORT_PATH = "/v1/model/export"
IMPORT_PATH = "/v1/model/import"
ARCHIVE_SHA_HEADER = "x-archive-sha256"
ARCHIVE_TIMEOUT_S = 600.0


class ArchiveApi(Api):
    @classmethod
    def connect(cls, server: str | None) -> ArchiveApi:
        return cls(resolve_server(server), timeout_s=ARCHIVE_TIMEOUT_S)

    def fetch_archive(self, body: dict[str, Any]) -> bytes:
        """The archive of one party's version, refused unless it matches the sha256 the site sent."""
        response = self._send(EXPORT_PATH, json=body)
        if response.headers.get("content-type", "").startswith("application/json"):
            self._checked(self._envelope(response))
            raise AccordError(f"the server at {self.server} answered the export without an archive")
        data = response.content
        sent = response.headers.get(ARCHIVE_SHA_HEADER)
        # A reply cut short or changed on the way must not end up on disk as a model archive.
        if sent is None or hashlib.sha256(data).hexdigest() != sent:
            raise TransferError(
                f"the archive from {self.server} does not match the sha256 the site sent with it",
                hint="the transfer was damaged; export again",
            )
        return data

    def send_archive(self, data: bytes, *, force: bool, trust_unsigned: bool = False) -> dict[str, Any]:
        """POST the archive itself; the checked envelope of the import."""
        flags = {"force": force, "trust_unsigned": trust_unsigned}
        response = self._send(
            IMPORT_PATH,
            content=data,
            params={name: "true" for name, given in flags.items() if given} or None,
            headers={"Content-Type": "application/zip"},
        )
        return self._checked(self._envelope(response))

    def _send(self, path: str, **request: Any) -> httpx.Response:
        try:
            return self._client.post(path, **request)
        except (httpx.ConnectError, httpx.ConnectTimeout):
            raise ConnectionFailure(
                f"cannot reach the accord server at {self.server}",
                hint="start a site with `accord up`, or point the CLI at it with `accord init`",
            ) from None
        except httpx.HTTPError as error:
            raise ConnectionFailure(
                f"the transfer with the accord server at {self.server} failed: {type(error).__name__}",
                hint="check that the site still runs, then try again",
            ) from None
