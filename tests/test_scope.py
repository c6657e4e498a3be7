import pytest

from db.errors import InvalidScopeError
from db.scope import Scope


def test_cache_key_is_sorted_and_stable():
    assert Scope.of(["340303002", "340303001"]).cache_key == "340303001,340303002"
    assert Scope.of(["b", "a"]) == Scope.of(["a", "b"])


def test_empty_scope_is_refused():
    with pytest.raises(InvalidScopeError, match="at least one region code"):
        Scope.of([])


@pytest.mark.parametrize("bad", ["3403,03", "", "a b", "x" * 41, "'; DROP TABLE enterprise;--"])
def test_codes_that_cannot_be_region_codes_are_refused(bad):
    with pytest.raises(InvalidScopeError, match="not region codes"):
        Scope.of([bad])
