"""Risk grading, pure reference (geo/grading.py): hand-computed districts, band edges, as-of
dates, and the roll-up property of the max rule."""

import dataclasses
import datetime as dt

import hypothesis.strategies as st
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings

from geo.grading import (
    DEFAULT_BANDS,
    MAX_RULE,
    WEIGHTED_RULE,
    AssessmentBands,
    band_scores,
    enterprise_grades,
    grade_regions,
    hazard_state,
)

D, T1, V1, V2, C1, C2, C3, C4 = "D", "T1", "V1", "V2", "C1", "C2", "C3", "C4"
UNITS = pd.DataFrame(
    {
        "code": [D, T1, V1, V2, C1, C2, C3, C4],
        "tier": [1, 2, 3, 3, 4, 4, 4, 4],
        "path": [
            [D],
            [D, T1],
            [D, T1, V1],
            [D, T1, V2],
            [D, T1, V1, C1],
            [D, T1, V1, C2],
            [D, T1, V2, C3],
            [D, T1, V2, C4],
        ],
    }
)


def _enterprises(rows):
    frame = pd.DataFrame(rows, columns=["id", "cell", "status", "grade", "lec_l", "lec_e", "lec_c", "ls_l", "ls_s"])
    paths = UNITS.set_index("code")["path"]
    frame["cell_code"] = frame["cell"]
    frame["region_path"] = [paths[c] if isinstance(c, str) else [D] for c in frame["cell"]]
    frame["grade"] = enterprise_grades(frame)["grade"]
    return frame


ENTERPRISES = _enterprises(
    [
        (1, C1, "在营", 2, None, None, None, None, None),  # input grade 较大
        (2, C1, "在营", None, None, None, None, 4, 4),  # LS R = 16 → 较大
        (3, C2, "在营", 4, None, None, None, None, None),
        (4, C3, "关闭", 1, None, None, None, None, None),  # closed: C3 has no data
        (5, None, "在营", 1, None, None, None, None, None),  # no cell: graded nowhere
    ]
)
HAZARDS = pd.DataFrame(
    {
        "enterprise_id": [1, 3],
        "found_date": [dt.date(2026, 10, 1), dt.date(2026, 11, 1)],
        "deadline_date": [dt.date(2026, 10, 31), dt.date(2026, 12, 1)],
        "rectified_date": [None, dt.date(2026, 11, 10)],
        "hazard_grade": [1, 2],
        "listed_level": [None, None],
    }
)
RULE = dataclasses.replace(WEIGHTED_RULE, thresholds={4: (5.0, 2.0, 1.0), 3: (5.0, 2.0, 1.0)})


def _grades(result):
    return {code: (None if pd.isna(g) else int(g)) for code, g in zip(result["code"], result["grade"], strict=True)}


def test_max_rule_takes_the_highest_grade_and_leaves_empty_or_closed_regions_grey():
    result = grade_regions(UNITS, ENTERPRISES, HAZARDS, MAX_RULE, dt.date(2026, 11, 24))
    assert _grades(result) == {D: 2, T1: 2, V1: 2, V2: None, C1: 2, C2: 4, C3: None, C4: None}
    c1 = result.set_index("code").loc[C1]
    assert (c1.enterprises, c1.enterprises_g2, c1.hazards_major_open, c1.hazards_overdue_major) == (2, 2, 1, 1)


def test_weighted_rule_scores_per_enterprise_and_escalates_an_open_major_hazard():
    result = grade_regions(UNITS, ENTERPRISES, HAZARDS, RULE, dt.date(2026, 11, 24)).set_index("code")
    # C1: two 较大 (4 + 4) + an open major hazard (3) that is overdue (1) = 12 over 2 enterprises.
    assert result.loc[C1, "score"] == 6.0
    assert result.loc[C1, "grade"] == 1 and pd.isna(result.loc[C1, "escalated_by"])  # red on its score
    # V1: (12 + 0.5) / 3 = 4.1667 → 较大 by score, lifted to 重大 by the open major hazard.
    assert result.loc[V1, "score"] == pytest.approx(4.166667)
    assert result.loc[V1, "grade"] == 1 and result.loc[V1, "escalated_by"] == "有未整改的重大隐患"
    assert result.loc[C2, "score"] == 0.5 and result.loc[C2, "grade"] == 4
    assert pd.isna(result.loc[C3, "grade"]) and pd.isna(result.loc[C4, "grade"])


def test_as_of_dates_before_a_hazard_was_found_and_while_it_was_open():
    before = grade_regions(UNITS, ENTERPRISES, HAZARDS, RULE, dt.date(2026, 9, 30)).set_index("code")
    assert before.loc[C1, "score"] == 4.0 and before.loc[C1, "grade"] == 2  # h1 not found yet
    while_open = grade_regions(UNITS, ENTERPRISES, HAZARDS, RULE, dt.date(2026, 11, 5)).set_index("code")
    assert while_open.loc[C2, "hazards_open"] == 1 and while_open.loc[C2, "score"] == 1.0
    assert while_open.loc[C2, "grade"] == 3
    assert while_open.loc[C1, "hazards_overdue"] == 1  # deadline 10-31 passed


def test_hazard_state_on_the_day_of_rectification_and_deadline():
    state = hazard_state(HAZARDS, dt.date(2026, 11, 10))
    assert state["open"].tolist() == [True, False]  # rectified that day: no longer open
    state = hazard_state(HAZARDS, dt.date(2026, 10, 31))
    assert state["overdue"].tolist() == [False, False]  # the deadline day itself is not overdue


@pytest.mark.parametrize(
    ("method", "score", "grade"),
    [
        ("LEC", 320, 1),
        ("LEC", 319.99, 2),
        ("LEC", 160, 2),
        ("LEC", 159.9, 3),
        ("LEC", 70, 3),
        ("LEC", 69.9, 4),
        ("LS", 25, 1),
        ("LS", 20, 1),
        ("LS", 16, 2),
        ("LS", 15, 2),
        ("LS", 12, 3),
        ("LS", 9, 3),
        ("LS", 8, 4),
    ],
)
def test_assessment_band_edges(method, score, grade):
    assert band_scores(pd.Series([score]), DEFAULT_BANDS[method].thresholds).iloc[0] == grade


def test_enterprise_grade_sources_input_then_ls_then_lec():
    frame = pd.DataFrame(
        {
            "grade": [3, None, None, None],
            "lec_l": [10, 3, 6, None],
            "lec_e": [6, 6, 6, None],
            "lec_c": [7, 7, 7, None],
            "ls_l": [5, 4, None, None],
            "ls_s": [5, 5, None, None],
        }
    )
    graded = enterprise_grades(frame)
    assert graded["grade"].tolist() == [3, 1, 2, pd.NA]
    assert graded["grade_source"].tolist() == ["input", "LS", "LEC", None]
    assert graded["bands_version"].tolist()[1:3] == [DEFAULT_BANDS["LS"].version, DEFAULT_BANDS["LEC"].version]


@st.composite
def districts(draw):
    villages = draw(st.integers(1, 4))
    units = [("D", 1, ["D"])]
    cells = []
    for v in range(villages):
        units.append((f"V{v}", 2, ["D", f"V{v}"]))
        for c in range(draw(st.integers(1, 4))):
            code = f"V{v}C{c}"
            units.append((code, 3, ["D", f"V{v}", code]))
            cells.append(["D", f"V{v}", code])
    rows = draw(
        st.lists(
            st.tuples(st.sampled_from(range(len(cells))), st.sampled_from([1, 2, 3, 4, None]), st.booleans()),
            max_size=25,
        )
    )
    enterprises = pd.DataFrame(
        {
            "id": range(len(rows)),
            "cell_code": [cells[c][-1] for c, _, _ in rows],
            "region_path": [cells[c] for c, _, _ in rows],
            "status": ["关闭" if closed else "在营" for _, _, closed in rows],
            "grade": pd.array([g for _, g, _ in rows], dtype="Int64"),
        }
    )
    return pd.DataFrame(units, columns=["code", "tier", "path"]), enterprises


NO_HAZARDS = pd.DataFrame(
    {
        "enterprise_id": pd.Series([], dtype="int64"),
        "found_date": pd.Series([], dtype="datetime64[s]"),
        "deadline_date": pd.Series([], dtype="datetime64[s]"),
        "rectified_date": pd.Series([], dtype="datetime64[s]"),
        "hazard_grade": pd.Series([], dtype="int64"),
        "listed_level": pd.Series([], dtype=object),
    }
)


@settings(max_examples=150, deadline=None)
@given(districts())
def test_under_the_max_rule_a_parent_takes_the_highest_of_its_children(district):
    units, enterprises = district
    result = grade_regions(units, enterprises, NO_HAZARDS, MAX_RULE, dt.date(2026, 11, 24)).set_index("code")
    for code, path in zip(units["code"], units["path"], strict=True):
        children = [c for c, p in zip(units["code"], units["path"], strict=True) if p[:-1] == path]
        if not children:
            continue
        child_grades = result.loc[children, "grade"].dropna()
        expected = child_grades.min() if len(child_grades) else pd.NA
        got = result.loc[code, "grade"]
        assert (pd.isna(got) and pd.isna(expected)) or got == expected
        # counts roll up exactly
        assert result.loc[code, "enterprises"] == result.loc[children, "enterprises"].sum()


def test_no_enterprise_anywhere_is_all_grey_never_blue():
    empty = ENTERPRISES.iloc[0:0]
    result = grade_regions(UNITS, empty, NO_HAZARDS, RULE, dt.date(2026, 11, 24))
    assert result["grade"].isna().all() and np.all(result["enterprises"] == 0)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"method": "median"}, "unknown rule method"),
        ({"thresholds": {}}, "needs thresholds"),
        (
            {"escalations": (dataclasses.replace(WEIGHTED_RULE.escalations[0], indicator="x; DROP TABLE hazard"),)},
            "unknown escalation",
        ),
    ],
)
def test_a_rule_is_checked_when_it_is_made(change, message):
    with pytest.raises(ValueError, match=message):
        dataclasses.replace(WEIGHTED_RULE, **change)


@pytest.mark.parametrize(
    ("method", "thresholds", "message"),
    [
        ("LEC", (70, 160, 320), "highest first"),
        ("LEC", (320, 160), "three positive numbers"),
        ("LS", (20, 15, 0), "three positive numbers"),
        ("HAZOP", (3, 2, 1), "unknown assessment method"),
    ],
)
def test_assessment_bands_are_checked_when_made(method, thresholds, message):
    with pytest.raises(ValueError, match=message):
        AssessmentBands(method, "x", thresholds, dt.date(2027, 1, 1))


def test_enterprise_grades_say_which_band_version_graded_them():
    stricter = {**DEFAULT_BANDS, "LEC": AssessmentBands("LEC", "2027-01-01", (300, 150, 60), dt.date(2027, 1, 1))}
    frame = pd.DataFrame(
        {"grade": [None], "lec_l": [10.0], "lec_e": [6.0], "lec_c": [5.0], "ls_l": [None], "ls_s": [None]}
    )  # D = 300
    assert enterprise_grades(frame)[["grade", "bands_version"]].iloc[0].tolist() == [2, "通用-1"]
    assert enterprise_grades(frame, stricter)[["grade", "bands_version"]].iloc[0].tolist() == [1, "2027-01-01"]


def _hazards(rows):
    """Hazards from (enterprise_id, found, deadline, rectified, hazard_grade, listed_level) rows."""
    frame = pd.DataFrame(
        rows, columns=["enterprise_id", "found_date", "deadline_date", "rectified_date", "hazard_grade", "listed_level"]
    )
    return frame.astype({c: "datetime64[s]" for c in ("found_date", "deadline_date", "rectified_date")})


DAY = dt.date(2026, 11, 24)


def test_a_listed_hazard_lifts_a_unit_to_red_and_names_the_escalation():
    enterprises = _enterprises([(1, C2, "在营", 4, None, None, None, None, None)])
    listed = _hazards([(1, dt.date(2026, 11, 1), dt.date(2026, 12, 1), None, 2, "市级")])  # 一般隐患, 挂牌督办
    result = grade_regions(UNITS, enterprises, listed, RULE, DAY).set_index("code")
    # C2: (0.5 for the 低 enterprise + 0.5 for the open general hazard) / 1 = 1.0 → 一般 by score.
    assert result.loc[C2, "score"] == 1.0 and result.loc[C2, "hazards_listed_open"] == 1
    assert result.loc[C2, "grade"] == 1 and result.loc[C2, "escalated_by"] == "有挂牌督办隐患"
    assert result.loc[D, "grade"] == 1 and result.loc[D, "escalated_by"] == "有挂牌督办隐患"


def test_an_overdue_major_hazard_lifts_a_unit_to_at_least_orange_and_never_lowers_one():
    overdue_major = next(e for e in WEIGHTED_RULE.escalations if e.indicator == "hazards_overdue_major")
    rule = dataclasses.replace(MAX_RULE, escalations=(overdue_major,))
    enterprises = _enterprises(
        [
            (1, C1, "在营", 4, None, None, None, None, None),
            (2, C2, "在营", 1, None, None, None, None, None),
            (3, C3, "在营", 4, None, None, None, None, None),
        ]
    )
    hazards = _hazards(
        [
            (1, dt.date(2026, 10, 1), dt.date(2026, 11, 1), None, 1, None),  # overdue 重大隐患
            (2, dt.date(2026, 10, 1), dt.date(2026, 11, 1), None, 1, None),  # overdue, but C2 is red already
            (3, dt.date(2026, 11, 20), dt.date(2026, 12, 20), None, 1, None),  # 重大隐患 not yet overdue
        ]
    )
    result = grade_regions(UNITS, enterprises, hazards, rule, DAY).set_index("code")
    assert _grades(result.reset_index()) == {D: 1, T1: 1, V1: 1, V2: 4, C1: 2, C2: 1, C3: 4, C4: None}
    assert result.loc[C1, "escalated_by"] == "有逾期未整改的重大隐患"
    assert result[["escalated_by"]].drop(index=C1).isna().all().item()  # V1 is red by its own enterprise


def test_ties_a_score_on_a_band_edge_takes_the_higher_grade():
    # Points equal to the tier's band edges (5 / 2 / 1): one enterprise per cell scores exactly an edge.
    rule = dataclasses.replace(RULE, grade_points={1: 5.0, 2: 2.0, 3: 1.0, 4: 0.5}, escalations=())
    enterprises = _enterprises(
        [
            (grade, cell, "在营", grade, None, None, None, None, None)
            for grade, cell in enumerate([C1, C2, C3, C4], start=1)
        ]
    )
    result = grade_regions(UNITS, enterprises, NO_HAZARDS, rule, DAY).set_index("code")
    assert result.loc[[C1, C2, C3, C4], "score"].tolist() == [5.0, 2.0, 1.0, 0.5]
    assert result.loc[[C1, C2, C3, C4], "grade"].tolist() == [1, 2, 3, 4]
    assert result.loc[V1, "score"] == 3.5 and result.loc[V1, "grade"] == 2  # (5 + 2) / 2


def test_ties_equal_grades_and_two_escalations_at_once():
    enterprises = _enterprises(
        [
            (1, C1, "在营", 2, None, None, None, None, None),
            (2, C1, "在营", 2, None, None, None, None, None),
            (3, C2, "在营", 4, None, None, None, None, None),
        ]
    )
    max_result = grade_regions(UNITS, enterprises, NO_HAZARDS, MAX_RULE, DAY).set_index("code")
    assert max_result.loc[C1, "grade"] == 2 and max_result.loc[C1, "enterprises_g2"] == 2
    # A listed 重大隐患 meets two escalations to red: the first in the rule's order is named.
    listed_major = _hazards([(3, dt.date(2026, 11, 1), dt.date(2026, 12, 1), None, 1, "省级")])
    result = grade_regions(UNITS, enterprises, listed_major, RULE, DAY).set_index("code")
    assert result.loc[C2, "score"] == 3.5  # (0.5 + 3) / 1: 较大 by score
    assert result.loc[C2, "grade"] == 1 and result.loc[C2, "escalated_by"] == "有未整改的重大隐患"


def test_as_of_dates_around_a_hazards_deadline_rectification_and_closure():
    # Found 10-01, deadline 10-15, rectified 10-20, verified and closed (销号) 10-25.
    enterprises = _enterprises([(1, C1, "在营", 4, None, None, None, None, None)])
    hazard = _hazards([(1, dt.date(2026, 10, 1), dt.date(2026, 10, 15), dt.date(2026, 10, 20), 1, None)])
    hazard["closed_date"] = pd.Timestamp(2026, 10, 25)

    def c1(day):
        return grade_regions(UNITS, enterprises, hazard, RULE, day).set_index("code").loc[C1]

    before, open_, overdue = c1(dt.date(2026, 9, 30)), c1(dt.date(2026, 10, 1)), c1(dt.date(2026, 10, 16))
    rectified, closed = c1(dt.date(2026, 10, 21)), c1(dt.date(2026, 10, 26))
    assert (before.hazards_open, before.score, before.grade) == (0, 0.5, 4)
    # Open: (0.5 + 3) / 1 = 3.5 is 较大 by score, lifted to 重大 by the open 重大隐患; overdue adds 1.
    assert (open_.hazards_major_open, open_.hazards_overdue, open_.score, open_.grade) == (1, 0, 3.5, 1)
    assert (overdue.hazards_overdue_major, overdue.score, overdue.grade) == (1, 4.5, 1)
    assert open_.escalated_by == overdue.escalated_by == "有未整改的重大隐患"
    for after in (rectified, closed):
        assert (after.hazards_open, after.hazards_overdue, after.score, after.grade) == (0, 0, 0.5, 4)


@pytest.mark.parametrize(
    ("inputs", "grade"),
    [
        ({"lec_l": 8, "lec_e": 10, "lec_c": 4}, 1),  # D = 320
        ({"lec_l": 1, "lec_e": 1, "lec_c": 319}, 2),
        ({"lec_l": 4, "lec_e": 10, "lec_c": 4}, 2),  # D = 160
        ({"lec_l": 1, "lec_e": 1, "lec_c": 159}, 3),
        ({"lec_l": 7, "lec_e": 10, "lec_c": 1}, 3),  # D = 70
        ({"lec_l": 1, "lec_e": 1, "lec_c": 69}, 4),
        ({"ls_l": 5, "ls_s": 5}, 1),  # R = 25
        ({"ls_l": 4, "ls_s": 5}, 1),  # R = 20
        ({"ls_l": 4, "ls_s": 4}, 2),  # R = 16
        ({"ls_l": 3, "ls_s": 5}, 2),  # R = 15
        ({"ls_l": 3, "ls_s": 4}, 3),  # R = 12
        ({"ls_l": 3, "ls_s": 3}, 3),  # R = 9
        ({"ls_l": 2, "ls_s": 4}, 4),  # R = 8
    ],
)
def test_assessment_band_edges_from_the_inputs(inputs, grade):
    frame = pd.DataFrame([{"grade": None, "lec_l": None, "lec_e": None, "lec_c": None, "ls_l": None, "ls_s": None}])
    frame = frame.assign(**inputs).astype(float)
    assert enterprise_grades(frame)["grade"].iloc[0] == grade
