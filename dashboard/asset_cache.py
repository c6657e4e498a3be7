"""How the map component's files reach the browser (two ASGI middlewares).

- Let phones keep the map component's script: its files are content-hashed, but Streamlit
  serves every component file with a bare ``Cache-Control: public`` and no validator, so a
  browser downloads the component's 56 KB script again on every page load (1.4 s on a 400 kbps
  link, a grid officer's phone in the field). Files whose names carry a content hash never
  change under that name: :class:`HashedComponentAssets` marks them immutable for a year.
- Start loading Leaflet with the map's frame: streamlit-folium's frame loads its own script,
  waits for the map's arguments and only then asks for Leaflet, one file after the other.
  :class:`MapFramePreload` adds ``Link: rel=preload`` headers for the vendored Leaflet to the
  frame's page, so the browser fetches it beside the component's script (every map here uses
  Leaflet alone: dashboard/components/offline.py refuses anything else).

Everything else (Streamlit's own files, the websocket) passes untouched.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from dashboard.components.offline import LEAFLET_FILES, path_prefix, static_url

__all__ = ["HashedComponentAssets", "IMMUTABLE", "MapFramePreload", "is_hashed_component_asset", "map_frame_links"]

IMMUTABLE = b"public, max-age=31536000, immutable"
# /component/<name>/static/js/main.521860b0.js (a bundler's hash of 8+ hex digits before the suffix)
_HASHED = re.compile(r"/component/[^/]+/static/(?:[^/]+/)*[^/]+\.[0-9a-f]{8,}(?:\.chunk)?\.(?:js|css|woff2?|svg|png)")

MAP_FRAME_PAGE = "/component/streamlit_folium.st_folium/index.html"

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]


def is_hashed_component_asset(path: str, base_url_path: str = "") -> bool:
    """True for a content-hashed file of a custom component under ``base_url_path``."""
    base = path_prefix(base_url_path)
    return path.startswith(base + "/component/") and _HASHED.fullmatch(path[len(base) :]) is not None


class HashedComponentAssets:
    """ASGI middleware: a successful GET of a hashed component file is cacheable for a year."""

    def __init__(self, app: Callable[[Scope, Receive, Send], Awaitable[None]], base_url_path: str = "") -> None:
        self.app = app
        self.base_url_path = base_url_path

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not is_hashed_component_asset(scope["path"], self.base_url_path):
            await self.app(scope, receive, send)
            return

        async def send_immutable(message: Message) -> None:
            if message["type"] == "http.response.start" and message["status"] == 200:
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"cache-control"]
                message = {**message, "headers": [*headers, (b"cache-control", IMMUTABLE)]}
            await send(message)

        await self.app(scope, receive, send_immutable)


def map_frame_links(base_url_path: str = "") -> bytes:
    """The ``Link`` header value preloading the vendored Leaflet for the map's frame."""
    return ", ".join(
        f"<{static_url(relative, base_url_path)}>; rel=preload; as={kind}" for relative, kind in LEAFLET_FILES
    ).encode("ascii")


class MapFramePreload:
    """ASGI middleware: the map component's page (a successful GET) says to preload Leaflet."""

    def __init__(self, app: Callable[[Scope, Receive, Send], Awaitable[None]], base_url_path: str = "") -> None:
        self.app = app
        self.page = path_prefix(base_url_path) + MAP_FRAME_PAGE
        self.links = map_frame_links(base_url_path)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != self.page:
            await self.app(scope, receive, send)
            return

        async def send_with_links(message: Message) -> None:
            if message["type"] == "http.response.start" and message["status"] == 200:
                message = {**message, "headers": [*message.get("headers", []), (b"link", self.links)]}
            await send(message)

        await self.app(scope, receive, send_with_links)
