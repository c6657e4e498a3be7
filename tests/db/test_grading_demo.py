"""The default region rule gives a readable map on the demo district (grading issue): at tier 4
and tier 3, today and six months ago, all four grades present and none above half of the graded
units (grey units not counted)."""

import pandas as pd
import pytest

from config import get_settings
from db.queries import grading_inputs
from db.scope import Scope
from geo.grading import DEFAULT_RULE, MAX_RULE, grade_regions

pytestmark = pytest.mark.db


@pytest.fixture(scope="module")
def demo_inputs(live_db, admin_engine):
    with admin_engine.begin() as conn:
        units, enterprises, hazards = grading_inputs(conn, Scope.whole_district("340303"))
    return units, enterprises, hazards


# The demo is dated relative to the day it was generated (today in Asia/Shanghai).
TODAY = get_settings().today()


@pytest.mark.parametrize("as_of", [TODAY, (pd.Timestamp(TODAY) - pd.DateOffset(months=6)).date()])
@pytest.mark.parametrize("tier", [4, 3])
def test_the_default_rule_gives_a_readable_map(demo_inputs, as_of, tier):
    result = grade_regions(*demo_inputs, DEFAULT_RULE, as_of)
    grades = result.loc[result["tier"] == tier, "grade"].dropna()
    shares = grades.value_counts(normalize=True)
    assert sorted(shares.index) == [1, 2, 3, 4], shares
    assert shares.max() <= 0.5, shares


def test_every_rule_names_itself_and_its_version_and_grades_every_unit(demo_inputs):
    units = demo_inputs[0]
    for rule in (DEFAULT_RULE, MAX_RULE):
        result = grade_regions(*demo_inputs, rule, TODAY)
        assert len(result) == len(units) and rule.name and rule.version
