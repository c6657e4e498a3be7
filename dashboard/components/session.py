"""Who is looking: the viewer of this session (name, role, scope).

Accounts and login come with their own issue; until then every session is an anonymous analyst
with the whole district, taken from settings. Pages call :func:`current_viewer` (or
:func:`current_scope`) and nothing else, so the login gate and the kiosk token replace the body
of one function. Home.py chooses the pages a viewer may open from ``viewer.role``.
"""

from __future__ import annotations

from dataclasses import dataclass

from config import get_settings
from db.scope import Scope

__all__ = ["Viewer", "ROLES_ZH", "current_viewer", "current_scope"]

# Roles (DOMAIN.md §6 users): leaders and analysts see the whole district; a township head one
# township; a grid officer their cells; administrators everything; a kiosk the wall screen only.
ROLES_ZH = {
    "leader": "领导",
    "analyst": "分析人员",
    "township_head": "乡镇/街道负责人",
    "grid_officer": "网格员",
    "admin": "管理员",
    "kiosk": "大屏",
}


@dataclass(frozen=True)
class Viewer:
    """The person (or kiosk) behind a session; ``scope`` limits every data read."""

    name: str
    role: str
    scope: Scope

    @property
    def can_export(self) -> bool:
        return self.role in ("analyst", "township_head", "grid_officer", "admin")


def current_viewer() -> Viewer:
    # A wall screen's link (?kiosk=<token>) comes first: it needs no login (dashboard/components/kiosk.py).
    from dashboard.components.kiosk import kiosk_viewer

    kiosk = kiosk_viewer()
    if kiosk is not None:
        return kiosk
    return Viewer(name="anonymous", role="analyst", scope=Scope.whole_district(get_settings().district_code))


def current_scope() -> Scope:
    return current_viewer().scope
