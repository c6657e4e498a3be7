"""Point → cell assignment as one database function used by every loader; bottom tier per set.

Revision ID: 0002
Revises: 0001
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "boundary_set", sa.Column("bottom_tier", sa.SmallInteger(), server_default=sa.text("4"), nullable=False)
    )
    # The one rule for placing a point (DOMAIN.md §1: every enterprise belongs to exactly one
    # bottom cell): the bottom-tier units of the district's current boundary set that intersect
    # the point (GiST index on region_unit.geom); a point exactly on a shared edge or vertex
    # intersects several cells and goes to the one with the lowest code, so the answer never
    # depends on row order. NULL when the point is in no cell.
    op.execute(
        """
        CREATE OR REPLACE FUNCTION gridrisk_cell_for_point(point geometry, district text)
        RETURNS text LANGUAGE sql STABLE PARALLEL SAFE AS $$
            SELECT u.code
            FROM boundary_set s
            JOIN region_unit u ON u.boundary_set_id = s.id AND u.tier = s.bottom_tier
            WHERE s.district_code = district AND s.is_current AND ST_Intersects(u.geom, point)
            ORDER BY u.code
            LIMIT 1
        $$
        """
    )


def downgrade() -> None:
    op.execute("DROP FUNCTION IF EXISTS gridrisk_cell_for_point(geometry, text)")
    op.drop_column("boundary_set", "bottom_tier")
