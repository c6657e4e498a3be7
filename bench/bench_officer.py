"""The grid officer's workbench (/officer) on a phone over a slow mobile link, in real Chromium
(Playwright, Debian's /usr/bin/chromium) against the real app (``python -m dashboard.serve`` on
a free port, the managed database, the demo's grid officer logged in).

Targets (grid officer issue): usable within 5 s on a throttled 400 kbps / 400 ms connection,
and at most 300 KB transferred for the page's own data.

How it is measured:

- one browser context at 390×844 with touch, the officer's session cookie, and its HTTP cache
  kept between visits (non-local hosts are unresolvable, so nothing leaves the machine; the
  cache stays on because no request is intercepted: Playwright's routing would turn it off);
- a first visit, unthrottled, fills the cache with Streamlit's and the map component's static
  files (its bytes are reported: a phone downloads them once) and warms the server;
- then REPEAT visits, each in a new tab of that context with Chromium's network emulation
  (CDP ``Network.emulateNetworkConditions``: 400 ms latency, 400 kbps down and up, applied to
  HTTP and to the websocket), timed from navigation to usable: the four headline figures and the
  first due item (or the "nothing open" notice) visible, the cell map's legend visible and its
  layers drawn, then two animation frames;
- bytes of each throttled visit: every HTTP response's bytes on the wire (headers included,
  cached files count 0) plus every websocket message the page received (the script run's
  output, uncompressed: an upper bound of what the link carried). All of it counts as the
  page's own data, so the figure errs high;
- the same visit unthrottled, for comparison (a warm tab on this machine).

Medians are reported. A throttled visit faster than one round trip plus its HTTP bytes at 400 kbps
means the emulation did not apply, and the bench stops with an error.
"""

from __future__ import annotations

import base64
import os
import signal
import statistics
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlparse

from _browser import LOAD_TIMEOUT_S, LOCAL_HOSTS, MAP_FRAME, SETTLE_JS, log, session_cookie, streamlit_server, wait_idle
from _common import ROOT, report

from tests.support.chromium import CHROMIUM, CHROMIUM_ARGS

PHONE = {"width": 390, "height": 844}
PATH = "/officer"
REPEAT = 5
LATENCY_MS = 400
BITS_PER_S = 400_000
THROTTLE = {
    "offline": False,
    "latency": LATENCY_MS,
    "downloadThroughput": BITS_PER_S / 8,  # bytes per second
    "uploadThroughput": BITS_PER_S / 8,
    "connectionType": "cellular3g",
}
USABLE_S = 5.0
OWN_BYTES = 300_000
# Every host but this machine's is unresolvable: an offline intranet, without intercepting requests.
NO_INTERNET = "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1, EXCLUDE localhost"


def usable(page, timeout_s: float = LOAD_TIMEOUT_S) -> None:
    """The headline figures, the due list's first item (or its empty notice) and the cell map drawn."""
    timeout = timeout_s * 1000
    page.locator('[data-testid="wb-figure"]').first.wait_for(state="visible", timeout=timeout)
    page.locator('[data-testid="wb-due"], [data-testid="stAlertContentSuccess"]').first.wait_for(
        state="visible", timeout=timeout
    )
    frame = page.frame_locator(MAP_FRAME)
    frame.locator('[data-testid="risk-legend"]').wait_for(state="visible", timeout=timeout)
    frame.locator(".leaflet-overlay-pane canvas, .leaflet-overlay-pane svg").first.wait_for(
        state="attached", timeout=timeout
    )
    page.evaluate(SETTLE_JS)


class Wire:
    """What one tab received, from Chromium's own network events."""

    def __init__(self, cdp) -> None:
        self.http: dict[str, int] = {}
        self.cached: set[str] = set()
        self.websocket = 0
        self.foreign: list[str] = []
        cdp.on("Network.requestWillBeSent", self._request)
        cdp.on("Network.requestServedFromCache", lambda e: self.cached.add(e["requestId"]))
        cdp.on("Network.loadingFinished", lambda e: self.http.__setitem__(e["requestId"], int(e["encodedDataLength"])))
        cdp.on("Network.webSocketFrameReceived", self._frame)

    def _request(self, event: dict) -> None:
        host = urlparse(event["request"]["url"]).hostname or ""
        if event["request"]["url"].startswith("http") and host not in LOCAL_HOSTS:
            self.foreign.append(event["request"]["url"])

    def _frame(self, event: dict) -> None:
        response = event["response"]
        payload = response["payloadData"]
        self.websocket += len(base64.b64decode(payload)) if response["opcode"] == 2 else len(payload.encode())

    @property
    def http_bytes(self) -> int:
        return sum(size for request, size in self.http.items() if request not in self.cached)

    @property
    def total(self) -> int:
        return self.http_bytes + self.websocket


def visit(context, url: str, *, throttled: bool) -> tuple[float, Wire]:
    """Seconds from navigation to usable in a new tab of ``context``, and what it received."""
    page = context.new_page()
    try:
        cdp = context.new_cdp_session(page)
        cdp.send("Network.enable")
        wire = Wire(cdp)
        if throttled:
            cdp.send("Network.emulateNetworkConditions", THROTTLE)
        start = time.perf_counter()
        page.goto(url, wait_until="commit", timeout=LOAD_TIMEOUT_S * 1000)
        usable(page)
        elapsed = time.perf_counter() - start
        wait_idle(page)  # the run's last messages arrive before the tab closes
        return elapsed, wire
    finally:
        page.close()


def main() -> None:
    from playwright.sync_api import sync_playwright

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # run the finally blocks: stop the server
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    with (
        tempfile.TemporaryDirectory(prefix="bench_officer_") as tmp,
        streamlit_server([sys.executable, "-m", "dashboard.serve"], env, Path(tmp) / "server.log") as base,
        sync_playwright() as playwright,
    ):
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=[*CHROMIUM_ARGS, NO_INTERNET]
        )
        context = browser.new_context(viewport=PHONE, has_touch=True, locale="zh-CN", timezone_id="Asia/Shanghai")
        context.add_cookies([session_cookie(base, "grid_officer")])
        url = base + PATH
        first_s, first = visit(context, url, throttled=False)
        log(f"first visit (cold cache, unthrottled): {first_s:.2f} s, {first.total:,} bytes")
        visit(context, url, throttled=False)  # the server's caches and the tab's, warm
        throttled = [visit(context, url, throttled=True) for _ in range(REPEAT)]
        fast = [visit(context, url, throttled=False) for _ in range(REPEAT)]
        browser.close()

    times = [t for t, _ in throttled]
    for elapsed, wire in throttled:
        floor = LATENCY_MS / 1000 + wire.http_bytes * 8 / BITS_PER_S  # a round trip and the HTTP bytes
        if elapsed < floor:
            raise RuntimeError(f"a throttled visit took {elapsed:.2f} s, under {floor:.2f} s: no emulation?")
    foreign = sorted({u for _, wire in (*throttled, *fast) for u in wire.foreign})
    usable_s = statistics.median(times)
    own = statistics.median(w.total for _, w in throttled)
    websocket = statistics.median(w.websocket for _, w in throttled)
    http = statistics.median(w.http_bytes for _, w in throttled)
    print(f"throttled runs (s): {', '.join(f'{t:.2f}' for t in times)}")
    if foreign:
        print(f"requests to other hosts (unresolvable): {foreign}")
    report(
        "officer",
        [
            (f"{PATH} usable, 400 kbps / 400 ms, warm cache (median of {REPEAT})", usable_s, f"target ≤ {USABLE_S}"),
            ("  the same, unthrottled (this machine)", statistics.median(t for t, _ in fast), "reference"),
            ("  first visit ever, cold cache, unthrottled", first_s, "once"),
            ("page's own data per visit, bytes (HTTP + websocket)", own, f"target ≤ {OWN_BYTES:,}"),
            ("  of which websocket messages (uncompressed)", websocket, "bytes"),
            ("  of which HTTP on the wire (uncached)", http, "bytes"),
            ("first visit's static files, bytes (cached after)", first.total, "once per phone"),
            ("requests to other hosts", len(foreign), "should be 0"),
        ],
        {
            "officer_usable_throttled_s": usable_s,
            "officer_usable_s": statistics.median(t for t, _ in fast),
            "officer_page_bytes": own,
            "officer_first_visit_bytes": first.total,
        },
    )


if __name__ == "__main__":
    main()
