"""What the browser benchmarks share: a Streamlit server on a free port, a demo account's
session cookie, and waiting for Streamlit's script run to end."""

from __future__ import annotations

import sys
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from _common import ROOT

from tests.support.server import streamlit_process

LOAD_TIMEOUT_S = 90
LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1", "[::1]"}
MAP_FRAME = 'iframe[title="streamlit_folium.st_folium"]'
# Two animation frames: what was drawn into the DOM or a canvas has been painted.
SETTLE_JS = "() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(() => r(true))))"


@contextmanager
def streamlit_server(cmd: list[str], env: dict[str, str], log: Path) -> Iterator[str]:
    """A Streamlit process on a free port, healthy before yielding; terminated on exit."""
    with streamlit_process(cmd, env=env, log=log, cwd=ROOT) as base:
        yield base


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def session_cookie(base: str, role: str) -> dict[str, str]:
    """Log the demo account of ``role`` in through the login endpoint, outside the timed runs;
    every measured context then starts logged in."""
    from loaders.demo_accounts import DEMO_ACCOUNTS

    account = next(a for a in DEMO_ACCOUNTS if a.role == role)
    form = urllib.parse.urlencode({"account": account.name, "password": account.password, "next": "/"}).encode()
    opener = urllib.request.build_opener(_NoRedirect)
    try:
        opener.open(urllib.request.Request(f"{base}/auth/login", data=form, method="POST"), timeout=30)
        raise RuntimeError("the login endpoint did not redirect")
    except urllib.error.HTTPError as response:
        if response.code != 303 or "login_error" in (response.headers.get("location") or ""):
            raise RuntimeError(f"the demo account could not log in ({response.code}): run `make demo`") from None
        name, _, value = response.headers["set-cookie"].split(";", 1)[0].partition("=")
    return {"name": name, "value": value, "url": base}


def wait_idle(page, timeout_s: float = LOAD_TIMEOUT_S) -> None:
    """Until Streamlit's script run (and the reruns it triggered) has finished."""
    page.wait_for_function(
        """() => { var a = document.querySelector('[data-testid="stApp"]');
                   return a && a.getAttribute('data-test-script-state') === 'notRunning'; }""",
        timeout=timeout_s * 1000,
    )


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)
