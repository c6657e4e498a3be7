"""Stand-ins for the map components under AppTest, which cannot run them: ``st_folium`` (the
small maps) and ``dashboard.components.folium_view.show_map`` (the risk map). Both hand one
callable the text the browser would get (page header, HTML, script and asset links) and the
keyword arguments; its return value is the map's answer (e.g. a click)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from unittest import mock

Answer = Callable[[str, dict], dict | None]


@contextmanager
def fake_maps(answer: Answer) -> Iterator[None]:
    def via_st_folium(fig, **kwargs):
        return answer(fig.get_root().render(), kwargs)

    def via_show_map(doc, **kwargs):
        text = "\n".join([doc.header, doc.html, *doc.css_links, *doc.js_links, doc.script])
        return answer(text, kwargs)

    with (
        mock.patch("streamlit_folium.st_folium", via_st_folium),
        mock.patch("dashboard.components.folium_view.show_map", via_show_map),
    ):
        yield


MAP_TAB_KEY = "map_tab"  # the key of the risk map's st.tabs (dashboard/pages/risk_map.py)


def choose_map_tab(at, label: str) -> None:
    """Open a tab of the risk map for AppTest's next run: the page computes only the open tab."""
    at.session_state[MAP_TAB_KEY] = label
