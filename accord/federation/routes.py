"""Where each party's site listens for federation commands."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from accord.settings import Settings


class RouteTable:
    """Party id → ``host:port`` of the site hosting it, with a default for parties not listed.

    In standalone the default is this site's own address, so every party routes back to it.
    """

    def __init__(self, routes: Mapping[int, str] | None = None, *, default: str) -> None:
        self._routes: Mapping[int, str] = MappingProxyType(dict(routes or {}))
        self.default = default

    @classmethod
    def from_settings(cls, settings: Settings) -> RouteTable:
        # The same resolution as Settings.route: an explicit route, else default_route, else this site.
        return cls(settings.routes, default=settings.default_route or settings.federation_address)

    @property
    def routes(self) -> Mapping[int, str]:
        return self._routes

    def address(self, party_id: int) -> str:
        return self._routes.get(party_id) or self.default

    def __repr__(self) -> str:
        return f"RouteTable({dict(self._routes)!r}, default={self.default!r})"
