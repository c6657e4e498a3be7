"""Kiosk tokens: read-only links for wall screens (大屏), stored hashed, checked by one function.

A wall screen opens the dashboard with ``?kiosk=<token>`` and no login. The token is a long
random string (256 bits, ``python -m manage kiosk create``); only its SHA-256 is stored, so a
copy of the table opens no screen. The dashboard's role cannot read the table at all
(db/migrate.py revokes it): it calls ``gridrisk_kiosk_check(token)``, a SECURITY DEFINER
function that hashes the token, notes the use and returns the token's id, label, scope and
whether it was revoked — nothing else.

Revision ID: 0011k
Revises: 0010
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0011k"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "kiosk_token",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("label", sa.Text(), nullable=False),
        sa.Column("token_sha256", sa.String(64), nullable=False),
        sa.Column("scope_codes", postgresql.ARRAY(sa.Text()), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("created_by", sa.Text(), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_by", sa.Text(), nullable=True),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("token_sha256 ~ '^[0-9a-f]{64}$'", name="ck_kiosk_token_sha256"),
        sa.CheckConstraint("cardinality(scope_codes) >= 1", name="ck_kiosk_token_scope"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_sha256", name="uq_kiosk_token_sha256"),
    )
    # search_path is empty and every name qualified: a SECURITY DEFINER function must not
    # resolve names through a caller-controlled path (PostgreSQL docs, "Writing SECURITY
    # DEFINER Functions Safely").
    op.execute(
        """
        CREATE FUNCTION gridrisk_kiosk_check(raw_token text)
        RETURNS TABLE (token_id integer, label text, scope_codes text[], revoked boolean)
        LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = '' AS $$
        DECLARE
            digest text := pg_catalog.encode(pg_catalog.sha256(pg_catalog.convert_to(raw_token, 'UTF8')), 'hex');
        BEGIN
            RETURN QUERY
                UPDATE public.kiosk_token AS k SET last_used_at = pg_catalog.now()
                WHERE k.token_sha256 = digest AND k.revoked_at IS NULL
                RETURNING k.id, k.label, k.scope_codes, false;
            IF NOT FOUND THEN
                RETURN QUERY
                    SELECT k.id, k.label, k.scope_codes, true FROM public.kiosk_token AS k
                    WHERE k.token_sha256 = digest;
            END IF;
        END
        $$
        """
    )
    op.execute("REVOKE ALL ON FUNCTION gridrisk_kiosk_check(text) FROM PUBLIC")


def downgrade() -> None:
    op.execute("DROP FUNCTION IF EXISTS gridrisk_kiosk_check(text)")
    op.drop_table("kiosk_token")
