"""Let phones keep the map component's script: its files are content-hashed, but Streamlit
serves every component file with a bare ``Cache-Control: public`` and no validator, so a
browser downloads the component's 56 KB script again on every page load (1.4 s on a 400 kbps
link, a grid officer's phone in the field). Files whose names carry a content hash never
change under that name: this ASGI middleware marks them immutable for a year. Everything
else (the component's index.html, Streamlit's own files, the websocket) passes untouched.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

__all__ = ["HashedComponentAssets", "IMMUTABLE", "is_hashed_component_asset"]

IMMUTABLE = b"public, max-age=31536000, immutable"
# /component/<name>/static/js/main.521860b0.js (a bundler's hash of 8+ hex digits before the suffix)
_HASHED = re.compile(r"/component/[^/]+/static/(?:[^/]+/)*[^/]+\.[0-9a-f]{8,}(?:\.chunk)?\.(?:js|css|woff2?|svg|png)")

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]


def is_hashed_component_asset(path: str, base_url_path: str = "") -> bool:
    """True for a content-hashed file of a custom component under ``base_url_path``."""
    base = "/" + base_url_path.strip("/") if base_url_path.strip("/") else ""
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
