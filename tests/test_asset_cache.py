"""The map component's content-hashed files are served cacheable, its page preloads Leaflet;
nothing else changes."""

import asyncio
from concurrent.futures import ThreadPoolExecutor

import pytest

from dashboard.asset_cache import IMMUTABLE, HashedComponentAssets, MapFramePreload, is_hashed_component_asset


@pytest.mark.parametrize(
    ("path", "base", "hashed"),
    [
        ("/component/streamlit_folium.st_folium/static/js/main.521860b0.js", "", True),
        ("/gridrisk/component/streamlit_folium.st_folium/static/js/main.521860b0.js", "gridrisk", True),
        ("/component/x/static/css/main.0123abcd.chunk.css", "/gridrisk/", False),  # outside the base path
        ("/component/streamlit_folium.st_folium/index.html", "", False),  # the page: revalidated
        ("/component/streamlit_folium.st_folium/bootstrap.min.css", "", False),  # no hash in its name
        ("/static/js/index.DormvYxC.js", "", False),  # Streamlit's own (it marks them immutable itself)
        ("/component/x/static/js/main.521860b0.js.map", "", False),
        ("/officer", "", False),
    ],
)
def test_only_hashed_component_files_are_immutable(path, base, hashed):
    assert is_hashed_component_asset(path, base) is hashed


def _serve(
    path: str, *, status: int = 200, kind: str = "http", middleware=HashedComponentAssets, **options
) -> list[dict]:
    sent: list[dict] = []

    async def inner(scope, receive, send):
        await send({"type": "http.response.start", "status": status, "headers": [(b"cache-control", b"public")]})
        await send({"type": "http.response.body", "body": b"x"})

    async def record(message):
        sent.append(message)

    async def receive():
        return {"type": "http.request"}

    coroutine = middleware(inner, **options)({"type": kind, "path": path}, receive, record)
    # In its own thread: in the whole suite Playwright's sync API keeps a loop running in this one.
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(asyncio.run, coroutine).result()
    return sent


def test_the_middleware_replaces_the_cache_header_of_hashed_files_only():
    start, body = _serve("/component/c/static/js/main.521860b0.js")
    assert start["headers"] == [(b"cache-control", IMMUTABLE)] and body["body"] == b"x"
    assert _serve("/component/c/index.html")[0]["headers"] == [(b"cache-control", b"public")]
    # an error is never cached for a year
    assert _serve("/component/c/static/js/main.521860b0.js", status=404)[0]["headers"] == [
        (b"cache-control", b"public")
    ]
    assert _serve("/component/c/static/js/main.521860b0.js", kind="websocket")[0]["headers"] == [
        (b"cache-control", b"public")
    ]


def test_the_map_frame_s_page_preloads_the_vendored_leaflet():
    page = "/component/streamlit_folium.st_folium/index.html"
    links = dict(_serve(page, middleware=MapFramePreload)[0]["headers"])[b"link"].decode()
    assert links == (
        "</app/static/vendor/leaflet-1.9.4/leaflet.js>; rel=preload; as=script, "
        "</app/static/vendor/leaflet-1.9.4/leaflet.css>; rel=preload; as=style"
    )
    based = dict(_serve("/gridrisk" + page, middleware=MapFramePreload, base_url_path="gridrisk/")[0]["headers"])
    assert based[b"link"].startswith(b"</gridrisk/app/static/vendor/leaflet-1.9.4/leaflet.js>")
    # other files, other components' pages, errors and the websocket pass untouched
    for path, status, kind in (
        ("/component/streamlit_folium.st_folium/static/js/main.521860b0.js", 200, "http"),
        ("/component/other.component/index.html", 200, "http"),
        (page, 404, "http"),
        (page, 200, "websocket"),
    ):
        assert _serve(path, status=status, kind=kind, middleware=MapFramePreload)[0]["headers"] == [
            (b"cache-control", b"public")
        ]
