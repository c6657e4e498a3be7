"""A connection pool survives its database stopping and coming back (throwaway cluster)."""

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError

from tests.support.server import free_port
from tests.support.throwaway import ThrowawayCluster

pytestmark = pytest.mark.db


@pytest.fixture()
def cluster():
    cluster = ThrowawayCluster(free_port()).init()
    cluster.start()
    yield cluster
    cluster.destroy()


def test_engine_recovers_after_the_database_restarts(cluster):
    from db.engine import normalise_url

    engine = create_engine(normalise_url(cluster.url), pool_pre_ping=True)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT 1")).scalar_one() == 1
    cluster.stop()
    with pytest.raises(OperationalError), engine.connect() as conn:
        conn.execute(text("SELECT 1"))
    cluster.start()
    with engine.connect() as conn:  # pre-ping replaces the dead pooled connection
        assert conn.execute(text("SELECT 1")).scalar_one() == 1
    engine.dispose()
