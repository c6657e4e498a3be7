"""The analyst's view in the URL: round trip, defaults, and hostile values."""

import datetime as dt

from dashboard.components.state import ViewState, default_period

TODAY = dt.date(2026, 11, 23)


def test_a_view_survives_the_url_round_trip():
    state = ViewState(
        region="340303001",
        tier=4,
        rule="max",
        as_of=dt.date(2026, 5, 23),
        start=dt.date(2026, 1, 1),
        end=dt.date(2026, 6, 30),
        sectors=("危险化学品", "商贸"),
        grades=(1, 2),
        flags=("粉尘涉爆",),
        hazard_grade=1,
        hazard_state="overdue",
        enterprise="91340300MA2N0000X1",
    )
    assert ViewState.from_params(state.to_params(), today=TODAY) == state


def test_the_default_view_has_a_plain_url():
    assert ViewState().to_params() == {}
    assert ViewState.from_params({}, today=TODAY) == ViewState()


def test_values_that_do_not_parse_fall_back_to_defaults():
    state = ViewState.from_params(
        {
            "tier": "9",
            "rule": "drop table",
            "asof": "2099-01-01",
            "from": "yesterday",
            "grade": "1,7,x",
            "flag": "粉尘涉爆,<script>",
            "hgrade": "3",
            "hstate": "weird",
        },
        today=TODAY,
    )
    assert state.tier is None and state.rule == "weighted" and state.as_of is None and state.start is None
    assert state.grades == (1,) and state.flags == ("粉尘涉爆",)
    assert state.hazard_grade is None and state.hazard_state == "all"


def test_a_reversed_period_is_put_in_order_and_the_end_never_passes_today():
    state = ViewState.from_params({"from": "2026-06-30", "to": "2026-01-01"}, today=TODAY)
    assert (state.start, state.end) == (dt.date(2026, 1, 1), dt.date(2026, 6, 30))
    assert ViewState.from_params({"to": "2027-01-01"}, today=TODAY).end == TODAY


def test_the_default_period_is_twelve_calendar_months():
    assert default_period(TODAY) == (dt.date(2025, 12, 1), TODAY)
    assert default_period(dt.date(2026, 1, 5)) == (dt.date(2025, 2, 1), dt.date(2026, 1, 5))
