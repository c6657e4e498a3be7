"""The one gate every page passes: a page declares the roles that may open it (a
:class:`PageSpec` in Home.py), and :func:`navigation_pages` turns the declarations into the
pages of one viewer. Pages never check roles themselves.

- Logged out: every page's URL shows the login page (the URL and its query parameters stay, so
  the login returns to the linked view).
- Logged in: the pages of the viewer's role, in the sidebar; any other page's URL shows "无权访问"
  (and is audited) instead of Streamlit's "page not found".
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import streamlit as st

from dashboard.components.session import Viewer

__all__ = ["PageSpec", "ALL_ROLES", "ACCOUNT_ROLES", "ADMIN_ONLY", "navigation_pages", "permitted"]

ALL_ROLES = frozenset({"leader", "analyst", "township_head", "grid_officer", "admin", "kiosk"})
ACCOUNT_ROLES = ALL_ROLES - {"kiosk"}  # every person who logs in (the kiosk has its own page)
ADMIN_ONLY = frozenset({"admin"})


@dataclass(frozen=True)
class PageSpec:
    """A page of the app: its script (relative to dashboard/, or a function), title, URL path
    and the roles that may open it."""

    script: str | Callable[[], None]
    title: str
    url_path: str
    roles: frozenset[str]
    icon: str | None = None
    default: bool = False


def permitted(specs: Sequence[PageSpec], role: str) -> list[PageSpec]:
    return [spec for spec in specs if role in spec.roles]


def navigation_pages(
    viewer: Viewer | None,
    specs: Sequence[PageSpec],
    *,
    login: Callable[[], None],
    forbidden: Callable[[Viewer, PageSpec], None],
    nothing: Callable[[], None],
) -> list[st.Page]:
    """The st.Page list for ``viewer``: ``login`` under every URL when nobody is logged in; the
    permitted pages (the first permitted becomes the default when the app's default is not)
    and ``forbidden`` under the other URLs; ``nothing`` when the role has no page at all."""
    if viewer is None:
        return [
            st.Page(login, title="登录", url_path=spec.url_path, default=spec.default, visibility="hidden")
            for spec in specs
        ]
    allowed = permitted(specs, viewer.role)
    if not allowed:
        return [st.Page(nothing, title="无可用页面", url_path="none", default=True)]
    default = next((spec for spec in allowed if spec.default), allowed[0])
    pages = []
    for spec in specs:
        if spec in allowed:
            pages.append(
                st.Page(spec.script, title=spec.title, icon=spec.icon, url_path=spec.url_path, default=spec is default)
            )
        else:
            pages.append(
                st.Page(_bound(forbidden, viewer, spec), title="无权访问", url_path=spec.url_path, visibility="hidden")
            )
    return pages


def _bound(render: Callable[[Viewer, PageSpec], None], viewer: Viewer, spec: PageSpec) -> Callable[[], None]:
    def forbidden_page() -> None:
        render(viewer, spec)

    return forbidden_page
