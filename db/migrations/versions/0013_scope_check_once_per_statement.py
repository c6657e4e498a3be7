"""Row-level security checks written rows against the scope once per statement, not per row.

The scoped tables' policies (0001, 0006, 0007) check every written row with
``region_path && gridrisk_scope_codes()``: PostgreSQL inlines the function and splits the
``gridrisk.scope`` setting again for each row (0.7 µs; 0.2 s of a 200,000-hazard insert, a
third of the insert's own work). ``(SELECT gridrisk_scope_codes())`` is an initplan, computed
once per statement; the scope is a setting of the transaction, so every row sees the same value
either way.

Only WITH CHECK changes. USING stays as it was: the planner estimates how many rows a scope
selects by folding the stable call into a constant, which it cannot do with an initplan's
parameter, and reads are planned on those estimates.

Revision ID: 0013
Revises: 0012
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCOPED_TABLES = ("enterprise", "hazard", "inspection", "grid_staff", "region_grade")


def _check(expression: str) -> None:
    for table in SCOPED_TABLES:
        op.execute(f"ALTER POLICY {table}_in_scope ON {table} WITH CHECK (region_path && {expression})")


def upgrade() -> None:
    _check("(SELECT gridrisk_scope_codes())")


def downgrade() -> None:
    _check("gridrisk_scope_codes()")
