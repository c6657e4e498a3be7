"""Assessment bands as versioned data; stored grades name the band versions they used.

The LEC/LS score bands differ between provinces and change over time (DOMAIN.md §2), so they
are rows (method, version, thresholds, valid from), seeded with the common bands that were
constants until now (geo.grading.DEFAULT_BANDS). Grading on a day uses the versions in force
that day, and every stored grade names them. grading_rule.bands goes: one rule version is used
with whichever bands are in force, so the bands are no part of the rule.

District-independent configuration: no region_path, no row-level security; the app role reads
it through the grant on every table (db/migrate.py grant_app_role).

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-24 09:30:00.000000
"""

import datetime as dt
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen here (a migration must not import code that changes): the same as DEFAULT_BANDS at
# this revision, which tests/db/test_bands.py checks.
_SEED_VERSION = "通用-1"
_SEED = (("LEC", (320.0, 160.0, 70.0)), ("LS", (20.0, 15.0, 9.0)))
_SEED_VALID_FROM = dt.date(2020, 1, 1)


def upgrade() -> None:
    bands = op.create_table(
        "assessment_band",
        sa.Column("method", sa.Text(), nullable=False),
        sa.Column("version", sa.Text(), nullable=False),
        sa.Column("thresholds", postgresql.ARRAY(sa.Double()), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("method IN ('LEC', 'LS')", name="ck_assessment_band_method"),
        sa.CheckConstraint(
            "cardinality(thresholds) = 3 AND thresholds[1] > thresholds[2] AND thresholds[2] > thresholds[3] "
            "AND thresholds[3] > 0",
            name="ck_assessment_band_thresholds",
        ),
        sa.PrimaryKeyConstraint("method", "version"),
        sa.UniqueConstraint("method", "valid_from", name="uq_assessment_band_method_valid_from"),
    )
    # Grades stored before this revision were all computed with the seeded bands: the defaults
    # fill the existing rows (DDL, so row-level security does not hide any), then go.
    for column in ("lec_bands_version", "ls_bands_version"):
        op.add_column(
            "region_grade", sa.Column(column, sa.Text(), nullable=False, server_default=sa.text(f"'{_SEED_VERSION}'"))
        )
        op.alter_column("region_grade", column, server_default=None)
    op.drop_column("grading_rule", "bands")
    op.bulk_insert(
        bands,
        [
            {
                "method": method,
                "version": _SEED_VERSION,
                "thresholds": list(thresholds),
                "valid_from": _SEED_VALID_FROM,
            }
            for method, thresholds in _SEED
        ],
        multiinsert=False,
    )


def downgrade() -> None:
    recorded = '{"LEC": {"method": "LEC", "version": "通用-1", "thresholds": [320.0, 160.0, 70.0], '
    recorded += '"valid_from": "2020-01-01"}, "LS": {"method": "LS", "version": "通用-1", '
    recorded += '"thresholds": [20.0, 15.0, 9.0], "valid_from": "2020-01-01"}}'
    op.add_column(
        "grading_rule",
        sa.Column(
            "bands",
            postgresql.JSONB(astext_type=sa.Text()),
            nullable=False,
            server_default=sa.text(f"CAST('{recorded}' AS jsonb)"),
        ),
    )
    op.alter_column("grading_rule", "bands", server_default=None)
    op.drop_column("region_grade", "ls_bands_version")
    op.drop_column("region_grade", "lec_bands_version")
    op.drop_table("assessment_band")
