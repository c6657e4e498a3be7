"""The login and logout endpoints, served beside Streamlit by ``st.App`` (dashboard/app.py).

Why endpoints: Streamlit reads cookies (``st.context.cookies``, sent with the page's websocket)
but cannot set one, and an HttpOnly cookie can only come from an HTTP response. Streamlit 1.67's
``st.App`` mounts Starlette routes beside the app, so the login form posts here like any web
login: the password is checked (db/accounts.py), the signed session cookie is set HttpOnly,
SameSite=Lax (Secure when configured), and the browser is redirected (303) to the page it came
from with its query parameters. Logout revokes the session in the database (every tab holding it
is logged out on its next request) and clears the cookie.

- ``POST {root}auth/login``: form fields ``account``, ``password``, ``next``.
- ``POST {root}auth/logout``.

Cross-site posts are refused (the Origin must be this host); ``next`` must be a path of this app.
"""

from __future__ import annotations

import datetime as dt
import functools
import threading
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from sqlalchemy import Engine
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route

from config import get_settings
from db import accounts
from db.engine import create_app_engine

__all__ = ["auth_routes", "safe_next", "client_address", "same_origin"]

NOTICE_PARAMS = ("login_error", "logged_out")  # as dashboard.components.login
# Each login costs one argon2 hash of 64 MiB (db/accounts.py): a burst of posts waits here
# instead of taking the server's memory.
_HASHING = threading.BoundedSemaphore(4)


def _root(base_url_path: str) -> str:
    base = base_url_path.strip("/")
    return f"/{base}/" if base else "/"


def safe_next(value: str | None, root: str) -> str:
    """``value`` when it is a path inside this app (notice parameters dropped), else the app's
    root: the login never redirects to another site.

    Examples
    --------
    >>> safe_next("/map?region=340303001&login_error=failed", "/")
    '/map?region=340303001'
    >>> safe_next("https://evil.example/", "/"), safe_next("//evil.example/x", "/")
    ('/', '/')
    """
    if not value or value.startswith("//") or "\\" in value:
        return root
    parts = urlsplit(value)
    path = parts.path or root
    if parts.scheme or parts.netloc or not (path + "/").startswith(root):
        return root
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k not in NOTICE_PARAMS]
    return urlunsplit(("", "", path, urlencode(query), ""))


def _with_param(target: str, key: str, value: str) -> str:
    return f"{target}{'&' if '?' in target else '?'}{urlencode({key: value})}"


def client_address(request: Request) -> str | None:
    """The client's address; behind a trusted proxy the last hop of X-Forwarded-For."""
    if get_settings().auth.trust_forwarded_for:
        forwarded = [part.strip() for part in request.headers.get("x-forwarded-for", "").split(",") if part.strip()]
        if forwarded:
            return forwarded[-1]
    return request.client.host if request.client else None


def same_origin(request: Request) -> bool:
    """False for a post another site's page made (its Origin names another host). Browsers
    send Origin with every POST; a client without one is not a browser another site drives."""
    origin = request.headers.get("origin")
    if origin is None:
        return True
    return urlsplit(origin).netloc == request.headers.get("host", "")


@functools.cache
def _engine() -> Engine:
    return create_app_engine()


@functools.cache
def _cookie_key() -> bytes:
    with _engine().connect() as conn:
        return accounts.cookie_key(conn)


def _login(name: str, password: str, address: str | None) -> tuple[accounts.LoginResult, str | None]:
    settings = get_settings()
    policy = accounts.AuthPolicy.from_settings(settings.auth)
    with _HASHING:
        result = accounts.login(_engine(), name, password, address=address, policy=policy)
    if not result.ok:
        return result, None
    expires_at = dt.datetime.now(dt.UTC) + policy.absolute
    return result, accounts.sign_cookie(result.token, _cookie_key(), expires_at)


def _logout(cookie: str | None, address: str | None) -> None:
    token = accounts.read_cookie(cookie, _cookie_key(), dt.datetime.now(dt.UTC))
    if token:
        with _engine().begin() as conn:
            accounts.end_session(conn, token, address=address)


def auth_routes(base_url_path: str = "") -> list[Route]:
    root = _root(base_url_path)
    settings = get_settings()
    cookie = {
        "key": settings.auth.cookie_name,
        "path": root,
        "httponly": True,
        "samesite": "lax",
        "secure": settings.auth.cookie_secure,
    }

    async def login(request: Request) -> Response:
        if not same_origin(request):
            return PlainTextResponse("跨站提交的登录请求已拒绝。", status_code=403)
        form = await request.form()
        target = safe_next(str(form.get("next") or ""), root)
        result, value = await run_in_threadpool(
            _login, str(form.get("account") or "")[:64], str(form.get("password") or "")[:256], client_address(request)
        )
        if value is None:
            return RedirectResponse(_with_param(target, "login_error", "locked" if result.locked else "failed"), 303)
        response = RedirectResponse(target, 303)
        response.set_cookie(value=value, max_age=int(settings.auth.absolute_hours * 3600), **cookie)
        return response

    async def logout(request: Request) -> Response:
        if not same_origin(request):
            return PlainTextResponse("跨站提交的退出请求已拒绝。", status_code=403)
        await run_in_threadpool(_logout, request.cookies.get(settings.auth.cookie_name), client_address(request))
        response = RedirectResponse(_with_param(root, "logged_out", "1"), 303)
        response.delete_cookie(settings.auth.cookie_name, path=root, httponly=True, samesite="lax")
        return response

    return [
        Route(f"{root}auth/login", login, methods=["POST"]),
        Route(f"{root}auth/logout", logout, methods=["POST"]),
    ]
