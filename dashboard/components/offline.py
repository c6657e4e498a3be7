"""Serve every map asset from the app itself.

folium loads Leaflet, jQuery, Bootstrap and Font Awesome from public CDNs by default, which
leaves a blank map on a government intranet. The maps here need Leaflet only; it is vendored
under dashboard/static/vendor (scripts/vendor_assets.sh) and served by Streamlit's static
file serving at ``<baseUrlPath>/app/static/``.
"""

from __future__ import annotations

from collections.abc import Iterator

import folium
from branca.element import Element

__all__ = [
    "LEAFLET_FILES",
    "LEAFLET_VERSION",
    "OfflineAssetError",
    "localise_assets",
    "path_prefix",
    "static_url",
    "walk_elements",
]

LEAFLET_VERSION = "1.9.4"
_VENDOR = f"vendor/leaflet-{LEAFLET_VERSION}"
# Every file a map loads (under the static root) and what it is: scripts, then stylesheets.
LEAFLET_FILES = ((f"{_VENDOR}/leaflet.js", "script"), (f"{_VENDOR}/leaflet.css", "style"))


class OfflineAssetError(ValueError):
    """A map element wants a script or stylesheet that is not vendored."""


def path_prefix(base_url_path: str = "") -> str:
    """The app's absolute path prefix for Streamlit's ``server.baseUrlPath``: "" at the root,
    "/gridrisk" for "gridrisk/" (prepend it to an absolute path such as "/app/static/…")."""
    base = base_url_path.strip("/")
    return f"/{base}" if base else ""


def static_url(relative: str, base_url_path: str = "") -> str:
    return f"{path_prefix(base_url_path)}/app/static/{relative}"


def walk_elements(element: Element) -> Iterator[Element]:
    yield element
    for child in element._children.values():
        yield from walk_elements(child)


def localise_assets(m: folium.Map, *, base_url_path: str = "") -> folium.Map:
    """Point the map's scripts and stylesheets at the vendored copies; refuse anything else.

    Raises :class:`OfflineAssetError` naming the element and URL when an element needs an
    asset that is not vendored (vendor it, or do without the element).
    """
    (script, _), (stylesheet, _) = LEAFLET_FILES
    m.default_js = [("leaflet", static_url(script, base_url_path))]
    m.default_css = [("leaflet_css", static_url(stylesheet, base_url_path))]
    for element in walk_elements(m):
        if element is m:
            continue
        wanted = [url for _, url in (*getattr(element, "default_js", []), *getattr(element, "default_css", []))]
        external = [url for url in wanted if not url.startswith("/")]
        if external:
            raise OfflineAssetError(
                f"{type(element).__name__} needs {external}, which would be fetched from the internet; "
                "vendor it under dashboard/static/vendor (scripts/vendor_assets.sh) or use another element"
            )
    return m
