"""The dashboard refuses a role that would skip row-level security."""

import pytest
from sqlalchemy import create_engine, text

from db.engine import assert_safe_app_role
from db.errors import UnsafeDatabaseRoleError

pytestmark = pytest.mark.db


def test_app_role_is_neither_superuser_nor_bypassrls(app_engine):
    with app_engine.connect() as conn:
        row = conn.execute(text("SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user")).one()
    assert (row.rolsuper, row.rolbypassrls) == (False, False)


def test_superuser_connection_is_refused(test_db):
    from tests.support.cluster import superuser_url

    url = superuser_url(test_db.name)
    if url is None:
        pytest.skip("no local superuser socket (external DATABASE_URL server)")
    engine = create_engine(url)
    with engine.connect() as conn, pytest.raises(UnsafeDatabaseRoleError, match="superuser.*row-level security"):
        assert_safe_app_role(conn)
    engine.dispose()
