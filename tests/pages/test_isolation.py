"""The wall, proven on the pages: two grid officers of neighbouring cells, for every page the app
registers for grid officers (Home.PAGES: a page added later is covered without a new test).
Neither sees a row, name, count, map feature or export line of the other's cell — plainly,
through URL parameters naming the other's cell, township or enterprise, or through cached results
(both sessions run in this one process, one after the other and interleaved). A township head
sees exactly the township, leaders and analysts the district."""

import io
from pathlib import Path
from unittest import mock

import pandas as pd
import pytest
from google.protobuf import text_format
from sqlalchemy import create_engine, text
from streamlit.testing.v1 import AppTest

from dashboard.Home import PAGES
from db.models import SCOPED_TABLES
from db.scope import Scope, apply_scope, scoped_connection
from tests.support.accounts import DEMO, OFFICER_PASSWORD, Neighbours
from tests.support.maps import choose_map_tab, fake_maps

pytestmark = pytest.mark.db
HOME = str(Path(__file__).resolve().parents[2] / "dashboard" / "Home.py")
OFFICER_PAGES = [spec for spec in PAGES if "grid_officer" in spec.roles]
MAP_TABS = ("场所类型排名", "逾期清单", "企业列表")  # the risk map's tabs after the first (computed when opened)


@pytest.fixture(scope="module")
def secrets_of(live_db, neighbours):
    """What must never show in the other officer's session: the cell's code, its enterprises'
    USCCs and names (names that also occur elsewhere in the district are left out: they would
    prove nothing) and its hazards' codes."""
    engine = create_engine(live_db.admin_url)
    found = {}
    with engine.begin() as conn:
        apply_scope(conn, Scope.whole_district("340303"))
        for officer in (neighbours.a, neighbours.b):
            names = conn.execute(
                text(
                    "SELECT e.name FROM enterprise e WHERE e.cell_code = :c AND NOT EXISTS "
                    "(SELECT 1 FROM enterprise o WHERE o.name = e.name AND o.cell_code IS DISTINCT FROM :c)"
                ),
                {"c": officer.cell},
            ).scalars()
            hazards = conn.execute(
                text("SELECT hazard_code FROM hazard WHERE region_path @> ARRAY[CAST(:c AS text)]"), {"c": officer.cell}
            ).scalars()
            found[officer.name] = {officer.cell, *officer.usccs, *names, *hazards}
    engine.dispose()
    return found


class Session:
    """One officer's AppTest session: runs with that officer's cookie and records everything it
    showed — every element, the map handed to st_folium, and every export's file."""

    def __init__(self, cookies, name, password, spec):
        self.cookies, self.cookie = cookies, cookies.login(name, password)
        self.spec, self.at, self.maps, self.exports, self.tabs = spec, None, [], [], []

    def run(self, params=None):
        from dashboard.components import tables

        real_export = tables.audited_export

        def capture_export(viewer, file_name, rows, make, **kwargs):
            export = real_export(viewer, file_name, rows, make, **kwargs)
            self.exports.append(export)
            return export

        def fake_map(text, kwargs):
            self.maps.append(text)
            return {"last_active_drawing": None}

        self.cookies.send(self.cookie)
        self.maps.clear()
        self.exports.clear()
        with (
            fake_maps(fake_map),
            mock.patch.object(tables, "audited_export", capture_export),
        ):
            if self.at is None or params is not None:
                self.at = AppTest.from_file(HOME, default_timeout=120)
                self.at.query_params.update(params or {})
                self.at.run()
                if not self.spec.default:
                    self.at.switch_page(self.spec.script).run()
            else:
                self.at.run()
            assert not self.at.exception, self.at.exception
            self.tabs = []
            for tab in MAP_TABS if self.spec.default else ():  # the map page computes only the open tab
                self.tabs.append(self._shown_now())
                choose_map_tab(self.at, tab)
                self.at.run()
                assert not self.at.exception, self.at.exception
        return self

    def shown(self) -> str:
        """All the session showed (in every tab of the map page), as text."""
        return "\n".join([*self.tabs, self._shown_now()])

    def _shown_now(self) -> str:
        parts = list(self.maps)
        for node in _walk(self.at._tree):
            proto = getattr(node, "proto", None)
            if node.type in ("arrow_data_frame", "dataframe", "table"):
                parts.append(node.value.to_csv())
            elif proto is not None:
                # Widget ids are internal keys, never shown; the filters' keys carry the URL's own
                # region parameter (what the person typed), which tells nothing of the rows.
                shown = text_format.MessageToString(proto, as_utf8=True)
                parts.append("\n".join(line for line in shown.splitlines() if not line.startswith('id: "')))
        for export in self.exports:
            data = export()
            parts.append(data.decode("utf-8-sig") if data[:3] == b"\xef\xbb\xbf" else _xlsx_text(data))
        return "\n".join(parts)

    def metric(self, label):
        return next(m.value for m in self.at.metric if m.label == label)


def _walk(node):
    yield node
    for child in getattr(node, "children", {}).values():
        yield from _walk(child)


def _xlsx_text(data: bytes) -> str:
    sheets = pd.read_excel(io.BytesIO(data), sheet_name=None, header=None, engine="calamine")
    return "\n".join(frame.to_csv() for frame in sheets.values())


def _leaks(shown: str, secrets: set[str]) -> list[str]:
    return sorted(secret for secret in secrets if secret and secret in shown)


def _probes(n: Neighbours):
    """URL parameters with which officer A asks for officer B's rows."""
    b = n.b
    return {
        "plain": {},
        "other_cell": {"region": b.cell, "tier": "4", "cell": b.cell},
        "other_township": {"region": b.township},
        "other_enterprise": {"ent": b.usccs[0], "uscc": b.usccs[0]},
        "other_cell_open_hazards": {"region": b.cell, "hstate": "open", "hgrade": "1"},
    }


@pytest.mark.parametrize("spec", OFFICER_PAGES, ids=lambda spec: spec.url_path)
@pytest.mark.parametrize(
    "probe", ["plain", "other_cell", "other_township", "other_enterprise", "other_cell_open_hazards"]
)
def test_a_grid_officer_sees_nothing_of_the_neighbouring_cell(cookies, neighbours, secrets_of, spec, probe):
    a, b = neighbours.a, neighbours.b
    session = Session(cookies, a.name, OFFICER_PASSWORD, spec).run(_probes(neighbours)[probe])
    shown = session.shown()
    assert _leaks(shown, secrets_of[b.name]) == []
    if probe in ("plain", "other_cell", "other_township") and spec.url_path in ("map", "officer"):
        # A's own view is there, whole (the file page waits for a USCC, the wall shows totals)
        assert _leaks(shown, set(a.usccs)) == sorted(a.usccs)
    if probe in ("plain", "other_cell", "other_township") and spec.url_path == "map":
        assert a.cell in shown
        assert int(session.metric("企业数")) == len(a.usccs)


@pytest.mark.parametrize("spec", OFFICER_PAGES, ids=lambda spec: spec.url_path)
def test_two_officers_in_one_process_never_share_cached_results(cookies, neighbours, secrets_of, spec):
    a, b = neighbours.a, neighbours.b
    first = Session(cookies, a.name, OFFICER_PASSWORD, spec)
    second = Session(cookies, b.name, OFFICER_PASSWORD, spec)
    # one after the other, then interleaved: A, B, A (rerun), B (rerun), A (a new session)
    for session, officer, other in (
        (first.run({}), a, b),
        (second.run({}), b, a),
        (first.run(), a, b),
        (second.run(), b, a),
        (first.run({}), a, b),
    ):
        shown = session.shown()
        assert _leaks(shown, secrets_of[other.name]) == [], f"{officer.name} saw {other.name}'s rows"
        if spec.url_path == "map":
            assert int(session.metric("企业数")) == len(officer.usccs)


def _enterprises_in(live_db, code):
    engine = create_engine(live_db.admin_url)
    with scoped_connection(engine, Scope.whole_district("340303")) as conn:
        n = conn.execute(
            text("SELECT count(*) FROM enterprise WHERE region_path @> ARRAY[CAST(:c AS text)]"), {"c": code}
        )
        count = n.scalar_one()
    engine.dispose()
    return count


@pytest.mark.parametrize(
    ("role", "expected"),
    [("township_head", "township"), ("leader", "district"), ("analyst", "district"), ("admin", "district")],
)
def test_each_role_sees_exactly_its_scope(cookies, live_db, neighbours, role, expected):
    from tests.support.accounts import demo_township

    spec = next(spec for spec in PAGES if spec.default)
    session = Session(cookies, DEMO[role].name, DEMO[role].password, spec).run({})
    code = demo_township(live_db) if expected == "township" else "340303"
    want = 20_004 if expected == "district" else _enterprises_in(live_db, code)
    assert int(session.metric("企业数").replace(",", "")) == want
    if expected == "township":  # nothing of another township, even when asked for it
        other = neighbours.b.cell if neighbours.b.township != code else neighbours.a.cell
        asked = Session(cookies, DEMO[role].name, DEMO[role].password, spec).run({"region": other})
        assert int(asked.metric("企业数").replace(",", "")) == want


@pytest.mark.parametrize("table", SCOPED_TABLES)
def test_an_officers_session_scope_returns_only_their_cell_from_a_raw_select(live_db, app_engine, neighbours, table):
    from db import accounts
    from tests.support.accounts import session_cookie

    cookie = session_cookie(live_db.app_url, neighbours.a.name, OFFICER_PASSWORD)
    with app_engine.begin() as conn:
        info = accounts.touch_session(conn, cookie.split(".")[1])
    with scoped_connection(app_engine, info.scope) as conn:
        paths = [list(row[0]) for row in conn.execute(text(f"SELECT region_path FROM {table}"))]  # no filter at all
    assert paths and all(neighbours.a.cell in path for path in paths)


@pytest.mark.parametrize("spec", [s for s in OFFICER_PAGES if s.url_path != "wall"], ids=lambda spec: spec.url_path)
def test_the_leak_detector_sees_the_cell_when_the_scope_covers_it(cookies, neighbours, secrets_of, spec):
    # The control: an analyst asking for B's cell (or enterprise) sees its rows, so an empty
    # result above means the wall held, not that the detector is blind. (The wall screen shows
    # totals only: no row of a cell to detect.)
    b = neighbours.b
    asked, expected = {
        "map": ({"region": b.cell}, {b.cell, *b.usccs}),
        "officer": ({"cell": b.cell}, set(b.usccs)),
        "enterprise": ({"uscc": b.usccs[0]}, {b.usccs[0]}),
    }[spec.url_path]
    analyst = Session(cookies, DEMO["analyst"].name, DEMO["analyst"].password, spec)
    shown = analyst.run(asked).shown()
    assert set(_leaks(shown, secrets_of[b.name])) >= expected
