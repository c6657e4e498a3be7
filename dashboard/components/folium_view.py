"""A folium map shown through streamlit-folium's component, with its rendering done once and cached.

``st_folium`` turns a ``folium.Map`` into the component's arguments on every script run: it
renders the whole figure twice, walks every element's script again and hashes the result.
For the district's risk map (1,900 cells, 20,000 points: 1.2 MB of script) that is ≈ 0.2 s of
every rerun, on top of building the map (≈ 0.2 s), even when nothing on the map changed, e.g.
when the user opens another tab beside it.

:func:`map_document` makes the same arguments from a map once (one render), as a small picklable
value; :func:`cached_map_document` keeps it per (scope, data stamp, page, view) in
``st.cache_data`` so a view already drawn costs nothing to draw again; :func:`show_map` hands it
to streamlit-folium's own component exactly as ``st_folium`` does (same iframe, same frontend,
same return value). ``tests/test_folium_view.py`` checks that the arguments equal the ones
``st_folium`` sends for the same map, which pins this module to the streamlit-folium version in
requirements.txt.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import folium
import streamlit as st
import streamlit_folium
from pydantic import BaseModel, SecretStr

from dashboard.components.offline import walk_elements

__all__ = [
    "MapDocument",
    "map_document",
    "cached_map_document",
    "component_kwargs",
    "settings_key",
    "show_map",
    "has_drawn",
    "NOT_DRAWN",
]

CACHE_TTL_S = 600


@dataclass(frozen=True)
class MapDocument:
    """What the component needs to draw one map: its script, page header and HTML, the element id,
    the stylesheets and scripts it loads, and its initial bounds and zoom."""

    script: str
    header: str
    html: str
    map_id: str
    css_links: tuple[str, ...]
    js_links: tuple[str, ...]
    bounds: tuple[tuple[float | None, float | None], tuple[float | None, float | None]]
    zoom: float | None


def _links(m: folium.Map) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The stylesheets and scripts of every element, in order, once each (as st_folium collects them)."""
    elements = list(walk_elements(m))
    css = [href for element in elements for _, href in getattr(element, "default_css", [])]
    js = [src for element in elements for _, src in getattr(element, "default_js", [])]
    return tuple(dict.fromkeys(css)), tuple(dict.fromkeys(js))


def map_document(m: folium.Map) -> MapDocument:
    """The component's arguments for ``m``, rendered once. ``m`` is consumed: streamlit-folium
    renames its elements while collecting their scripts."""
    m.get_root().render()  # fills the figure's header and HTML from every element
    html = streamlit_folium._get_html(m)
    header = streamlit_folium._get_header(m)
    css_links, js_links = _links(m)
    try:
        (south, west), (north, east) = m.get_bounds()
    except AttributeError:
        south = west = north = east = None
    script = streamlit_folium._get_map_string(m)
    map_id = streamlit_folium.get_full_id(m)  # after the renaming, as st_folium reads it
    return MapDocument(
        script=script,
        header=header,
        html=html,
        map_id=map_id,
        css_links=css_links,
        js_links=js_links,
        bounds=((south, west), (north, east)),
        zoom=m.options.get("zoom"),
    )


@st.cache_data(ttl=CACHE_TTL_S, max_entries=32, show_spinner=False)
def cached_map_document(
    scope_key: str, stamp: str, page: str, view_key: tuple, _build: Callable[[], folium.Map]
) -> MapDocument:
    """The document of the map ``_build()`` makes, once per (scope, data stamp, page, view).

    ``view_key`` must hold everything the map depends on besides the scope's data (the view
    state, the day); ``scope_key`` keeps users of different scopes apart (``st.cache_data`` is
    shared by every session) and ``stamp`` (db.analysis.data_stamp) changes with every load
    and regrade. ``_build`` is not part of the key: it is only called on a miss.
    """
    del scope_key, stamp, page, view_key  # the cache key only
    return map_document(_build())


_DEFAULTS = {
    "last_clicked": None,
    "last_object_clicked": None,
    "last_object_clicked_count": None,
    "last_object_clicked_tooltip": None,
    "last_object_clicked_popup": None,
    "all_drawings": None,
    "last_active_drawing": None,
    "bounds": None,
    "zoom": None,
    "last_circle_radius": None,
    "last_circle_polygon": None,
    "selected_layers": None,
    "selected_tags": None,
    "last_geocoder_result": None,
}


# The value a map reports until its component has drawn it (see show_map's ``report_drawn``).
NOT_DRAWN = {"gridrisk": "not drawn yet"}


def has_drawn(value: dict | None) -> bool:
    """Whether a value from :func:`show_map` came from the drawn map (not the placeholder)."""
    return value is not None and NOT_DRAWN not in value.values()


def component_kwargs(
    doc: MapDocument,
    *,
    key: str | None,
    height: int,
    width: int | None,
    returned_objects: Iterable[str] | None,
    report_drawn: bool = False,
) -> dict:
    """The keyword arguments ``st_folium`` passes to its component for this document (without
    its ``on_change`` callback); ``report_drawn``: see :func:`show_map`."""
    (south, west), (north, east) = doc.bounds
    initial = dict(
        _DEFAULTS,
        bounds={"_southWest": {"lat": south, "lng": west}, "_northEast": {"lat": north, "lng": east}},
        zoom=doc.zoom,
    )
    returned = list(returned_objects) if returned_objects is not None else None
    default = {k: v for k, v in initial.items() if returned is None or k in returned}
    if report_drawn:
        default = {k: NOT_DRAWN for k in default}
    return {
        "script": doc.script,
        "header": doc.header,
        "html": doc.html,
        "id": doc.map_id,
        "key": streamlit_folium.generate_js_hash(doc.script, key, False),
        "height": height,
        "width": width,
        "returned_objects": returned,
        "default": default,
        "zoom": None,
        "center": None,
        "feature_group": None,
        "return_on_hover": False,
        "layer_control": None,
        "pixelated": False,
        "css_links": list(doc.css_links),
        "js_links": list(doc.js_links),
        "wrap_longitude": False,
    }


def show_map(
    doc: MapDocument,
    *,
    key: str,
    height: int,
    returned_objects: Iterable[str] | None = None,
    report_drawn: bool = False,
    on_change: Callable[[], None] | None = None,
) -> dict | None:
    """Draw ``doc`` with streamlit-folium's component at the container's width; returns what
    ``st_folium`` returns (the ``returned_objects`` of the last interaction).

    With ``report_drawn`` the component starts from a placeholder value (:data:`NOT_DRAWN`),
    which its frontend replaces as soon as the map is drawn: that change reruns the page (and
    calls ``on_change``) once, so a page can send the map first and the rest after it.
    """
    kwargs = component_kwargs(
        doc, key=key, height=height, width=None, returned_objects=returned_objects, report_drawn=report_drawn
    )
    component_key = kwargs["key"]

    def _on_change() -> None:
        st.session_state[key] = st.session_state.get(component_key, {})
        if on_change is not None:
            on_change()

    return streamlit_folium._component_func(**kwargs, on_change=_on_change)


def settings_key(*models: BaseModel) -> str:
    """A digest of settings a map is drawn with (palette, basemap, map defaults), secrets
    included but not readable, for cache keys: a changed key or colour draws a new map."""

    def reveal(value: object) -> object:
        return value.get_secret_value() if isinstance(value, SecretStr) else str(value)

    text = json.dumps([m.model_dump() for m in models], default=reveal, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()
