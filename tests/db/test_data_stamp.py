"""The data stamp (part of every page cache key) moves with loads that wrote something and with
regrades, never with loads that wrote nothing (an administrator re-uploading a file on the
data page must not send every session back to the database)."""

import pytest

from db.analysis import data_stamp
from db.scope import Scope
from loaders.audit import write_audit

pytestmark = pytest.mark.db
SCOPE = Scope.whole_district("340303")


@pytest.mark.parametrize(
    ("status", "counts", "moves"),
    [
        ("refused", {}, False),
        ("unchanged", {"unchanged": 5}, False),
        ("loaded_with_rejects", {"unchanged": 5, "rejected": 1}, False),
        ("loaded_with_rejects", {"updated": 1, "rejected": 1}, True),
        ("loaded", {"inserted": 3}, True),
        ("loaded", {}, True),  # e.g. the demo's date shift: no row counts, dates changed
    ],
)
def test_the_stamp_moves_only_when_a_load_wrote_something(db_conn, status, counts, moves):
    before = data_stamp(db_conn, SCOPE)
    write_audit(db_conn, kind="enterprises", path=None, status=status, counts=counts)
    assert (data_stamp(db_conn, SCOPE) != before) is moves
