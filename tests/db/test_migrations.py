"""Migrations: models and migrations agree; the schema goes down and up again cleanly."""

import pytest
from alembic import command

from db.migrate import alembic_config, upgrade
from db.scratch import create_scratch_database, drop_scratch_database

pytestmark = pytest.mark.db


def test_models_match_migrations(test_db):
    command.check(alembic_config(test_db.admin_url))  # raises when autogenerate finds a difference


def test_downgrade_to_base_and_upgrade_again(test_db):
    from config import get_settings

    settings = get_settings()
    scratch = create_scratch_database(settings.database_admin_url, settings.database_url, prefix="gridrisk_mig")
    try:
        command.downgrade(alembic_config(scratch.admin_url), "base")
        upgrade(scratch.admin_url)
        command.check(alembic_config(scratch.admin_url))
    finally:
        drop_scratch_database(scratch)
