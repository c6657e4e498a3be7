"""Accounts, login attempts and lock-outs, server-side sessions, and the functions the dashboard
logs in through.

Least privilege for the dashboard's role (DATABASE_URL), decided here:

- It cannot read ``account.password_hash``, ``app_session``, ``login_attempt``, ``login_lock`` or
  ``auth_secret`` (db/migrate.py grant_app_role revokes them; it may select account's other
  columns, for the administrator's pages). It cannot write any of them either.
- It logs people in through SECURITY DEFINER functions owned by the owner, which return outcomes,
  never hashes. argon2 is not available inside PostgreSQL, so the check is split in two:
  ``gridrisk_login_challenge(name, decoy)`` returns the stored hash's *setting* (algorithm,
  parameters and salt, everything but the digest) — or, for an unknown name, a decoy setting
  with the current parameters and a salt derived from a secret key, so both cost the same argon2
  work; the dashboard hashes the typed password with that setting (argon2-cffi) and hands the
  result to ``gridrisk_login(...)``, which compares it with the stored hash (as SHA-256 digests,
  so the comparison's time says nothing about the hash), counts failures, places lock-outs and,
  on success, opens a session. A salt alone does not let anyone test passwords offline.
- Sessions: the dashboard makes a random token, keeps it in an HttpOnly cookie and gives the
  database only its SHA-256. ``gridrisk_session_touch(hash)`` answers who the session belongs to
  (name, role, scope) and marks it used, or ends it when it is revoked, idle for longer than its
  idle timeout, past its absolute expiry, its account disabled or its password changed;
  ``gridrisk_session_end(hash, reason)`` revokes it, so logout ends it everywhere it is used.
- The time is the database's clock (``clock_timestamp()``), never one the caller passes: a caller
  cannot step past a lock-out. Lock-out limits and session lifetimes are arguments
  (config/settings.py ``auth``), so an install can change them without a migration; the app role
  is trusted to pass the configured ones, as it is trusted to set the scope of each transaction.
- A grid officer linked to a staff member sees that member's cells as the roster holds them at
  each request (grid_staff is under forced row-level security, so the lookup sets the district
  scope inside the function and restores the caller's before returning).
- Every function is revoked from PUBLIC; grant_app_role grants EXECUTE to the app role only.

Revision ID: 0012
Revises: 0011k
Create Date: 2026-11-24 04:23:27.426674
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0012"
down_revision: str | None = "0011k"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_DEFINER = "SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp"

# The scope a logged-in account sees: a linked staff member's cells, else its own codes.
_ACCOUNT_SCOPE = """
CREATE FUNCTION gridrisk_account_scope(p_account_id bigint) RETURNS text[]
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
    v_account account%ROWTYPE;
    v_cells text[];
    v_caller_scope text := current_setting('gridrisk.scope', true);
BEGIN
    SELECT * INTO v_account FROM account WHERE id = p_account_id;
    IF v_account.staff_id IS NULL THEN
        RETURN v_account.scope_codes;
    END IF;
    -- grid_staff is under forced row-level security: read it with the district's scope, then
    -- give the caller's transaction its own scope back (an error aborts the transaction anyway).
    PERFORM set_config('gridrisk.scope', v_account.district_code, true);
    SELECT cell_codes INTO v_cells FROM grid_staff WHERE id = v_account.staff_id;
    PERFORM set_config('gridrisk.scope', coalesce(v_caller_scope, ''), true);
    RETURN coalesce(v_cells, '{}');
END
$$
"""

_LOGIN_CHALLENGE = f"""
CREATE FUNCTION gridrisk_login_challenge(p_name text, p_decoy_parameters text)
RETURNS TABLE (setting text, hash_len integer)
LANGUAGE plpgsql STABLE {_DEFINER} AS $$
DECLARE
    v_name text := lower(btrim(coalesce(p_name, '')));
    v_parts text[];
BEGIN
    SELECT string_to_array(a.password_hash, '$') INTO v_parts FROM account a WHERE a.name = v_name;
    IF cardinality(v_parts) = 6 THEN  -- '', algorithm, version, parameters, salt, digest
        RETURN QUERY SELECT array_to_string(v_parts[1:5], '$'), length(v_parts[6]) * 3 / 4;
        RETURN;
    END IF;
    RETURN QUERY
        SELECT p_decoy_parameters || '$'
               || rtrim(encode(substring(sha256(k.decoy_key || convert_to(v_name, 'UTF8')) FROM 1 FOR 16), 'base64'), '='),
               32
        FROM auth_secret k;
END
$$
"""

_LOGIN = f"""
CREATE FUNCTION gridrisk_login(
    p_name text, p_candidate text, p_address text, p_token_hash bytea,
    p_max_failures integer, p_lockout interval, p_idle interval, p_absolute interval
) RETURNS TABLE (outcome text, account_name text, locked_until timestamptz)
LANGUAGE plpgsql VOLATILE {_DEFINER} AS $$
DECLARE
    v_name text := lower(btrim(coalesce(p_name, '')));
    v_now timestamptz := clock_timestamp();
    v_account account%ROWTYPE;
    v_until timestamptz;
    v_since timestamptz;
    v_failures integer;
    v_locked boolean := false;
BEGIN
    -- One attempt per name at a time, so concurrent guesses are counted exactly.
    PERFORM pg_advisory_xact_lock(hashtext('gridrisk_login:' || v_name));
    SELECT max(l.locked_until) INTO v_until FROM login_lock l
    WHERE l.locked_until > v_now
      AND ((l.kind = 'account' AND l.key = v_name) OR (l.kind = 'address' AND l.key = p_address));
    IF v_until IS NOT NULL THEN
        INSERT INTO login_attempt (at, account_name, address, outcome) VALUES (v_now, v_name, p_address, 'locked');
        RETURN QUERY SELECT 'locked'::text, v_name, v_until;
        RETURN;
    END IF;

    SELECT * INTO v_account FROM account a WHERE a.name = v_name;
    IF v_account.id IS NOT NULL
       AND sha256(convert_to(v_account.password_hash, 'UTF8')) = sha256(convert_to(coalesce(p_candidate, ''), 'UTF8')) THEN
        IF v_account.disabled THEN
            INSERT INTO login_attempt (at, account_name, address, outcome) VALUES (v_now, v_name, p_address, 'disabled');
            RETURN QUERY SELECT 'disabled'::text, v_name, NULL::timestamptz;
            RETURN;
        END IF;
        IF cardinality(gridrisk_account_scope(v_account.id)) = 0 THEN
            INSERT INTO login_attempt (at, account_name, address, outcome) VALUES (v_now, v_name, p_address, 'no_scope');
            RETURN QUERY SELECT 'no_scope'::text, v_name, NULL::timestamptz;
            RETURN;
        END IF;
        INSERT INTO login_attempt (at, account_name, address, outcome) VALUES (v_now, v_name, p_address, 'ok');
        INSERT INTO app_session (token_hash, account_id, created_at, last_seen_at, idle_timeout, expires_at, address)
        VALUES (p_token_hash, v_account.id, v_now, v_now, p_idle, v_now + p_absolute, p_address);
        RETURN QUERY SELECT 'ok'::text, v_name, NULL::timestamptz;
        RETURN;
    END IF;

    -- A failure, whether the name exists or not: unknown names lock like real ones.
    INSERT INTO login_attempt (at, account_name, address, outcome) VALUES (v_now, v_name, p_address, 'failed');
    -- The account's failures since its last success or lock, within the window.
    SELECT greatest(v_now - p_lockout,
                    (SELECT max(at) FROM login_attempt WHERE login_attempt.account_name = v_name AND login_attempt.outcome = 'ok'),
                    (SELECT max(l.locked_until) FROM login_lock l WHERE l.kind = 'account' AND l.key = v_name))
    INTO v_since;
    SELECT count(*) INTO v_failures FROM login_attempt
    WHERE login_attempt.account_name = v_name AND login_attempt.outcome = 'failed' AND at > v_since;
    IF v_failures >= p_max_failures THEN
        INSERT INTO login_lock (kind, key, locked_at, locked_until) VALUES ('account', v_name, v_now, v_now + p_lockout)
        ON CONFLICT (kind, key) DO UPDATE SET locked_at = EXCLUDED.locked_at, locked_until = EXCLUDED.locked_until;
        v_locked := true;
    END IF;
    -- The address's failures over every name (a success does not reset them: one valid account
    -- must not let an address try the others' passwords without limit).
    IF p_address IS NOT NULL THEN
        SELECT greatest(v_now - p_lockout,
                        (SELECT max(l.locked_until) FROM login_lock l WHERE l.kind = 'address' AND l.key = p_address))
        INTO v_since;
        SELECT count(*) INTO v_failures FROM login_attempt
        WHERE login_attempt.address = p_address AND login_attempt.outcome = 'failed' AND at > v_since;
        IF v_failures >= p_max_failures THEN
            INSERT INTO login_lock (kind, key, locked_at, locked_until) VALUES ('address', p_address, v_now, v_now + p_lockout)
            ON CONFLICT (kind, key) DO UPDATE SET locked_at = EXCLUDED.locked_at, locked_until = EXCLUDED.locked_until;
            v_locked := true;
        END IF;
    END IF;
    IF v_locked THEN
        RETURN QUERY SELECT 'lockout'::text, v_name, v_now + p_lockout;
    ELSE
        RETURN QUERY SELECT 'failed'::text, v_name, NULL::timestamptz;
    END IF;
END
$$
"""

_SESSION_TOUCH = f"""
CREATE FUNCTION gridrisk_session_touch(p_token_hash bytea)
RETURNS TABLE (status text, account_name text, display_name text, role text, scope_codes text[],
               expires_at timestamptz)
LANGUAGE plpgsql VOLATILE {_DEFINER} AS $$
DECLARE
    v_now timestamptz := clock_timestamp();
    v_session app_session%ROWTYPE;
    v_account account%ROWTYPE;
    v_scope text[];
    v_end text;
BEGIN
    SELECT * INTO v_session FROM app_session s WHERE s.token_hash = p_token_hash FOR UPDATE;
    IF v_session.id IS NULL THEN
        RETURN QUERY SELECT 'unknown'::text, NULL::text, NULL::text, NULL::text, NULL::text[], NULL::timestamptz;
        RETURN;
    END IF;
    SELECT * INTO v_account FROM account a WHERE a.id = v_session.account_id;
    IF v_session.revoked_at IS NOT NULL THEN
        v_end := 'revoked';
    ELSIF v_account.disabled THEN
        v_end := 'disabled';
    ELSIF v_account.password_changed_at > v_session.created_at THEN
        v_end := 'password_changed';
    ELSIF v_now >= v_session.expires_at THEN
        v_end := 'expired';
    ELSIF v_now >= v_session.last_seen_at + v_session.idle_timeout THEN
        v_end := 'idle';
    ELSE
        v_scope := gridrisk_account_scope(v_account.id);
        IF cardinality(v_scope) = 0 THEN
            v_end := 'no_scope';
        END IF;
    END IF;
    IF v_end IS NOT NULL THEN
        IF v_session.revoked_at IS NULL THEN
            UPDATE app_session SET revoked_at = v_now, revoked_reason = v_end WHERE id = v_session.id;
        END IF;
        RETURN QUERY SELECT v_end, v_account.name, NULL::text, NULL::text, NULL::text[], NULL::timestamptz;
        RETURN;
    END IF;
    UPDATE app_session SET last_seen_at = v_now WHERE id = v_session.id;
    RETURN QUERY SELECT 'ok'::text, v_account.name, v_account.display_name, v_account.role, v_scope,
                        v_session.expires_at;
END
$$
"""

_SESSION_END = f"""
CREATE FUNCTION gridrisk_session_end(p_token_hash bytea, p_reason text) RETURNS text
LANGUAGE sql VOLATILE {_DEFINER} AS $$
    UPDATE app_session s SET revoked_at = clock_timestamp(), revoked_reason = p_reason
    FROM account a
    WHERE s.token_hash = p_token_hash AND s.revoked_at IS NULL AND a.id = s.account_id
    RETURNING a.name
$$
"""

_COOKIE_KEY = f"""
CREATE FUNCTION gridrisk_cookie_key() RETURNS bytea
LANGUAGE sql STABLE {_DEFINER} AS $$ SELECT cookie_key FROM auth_secret WHERE id = 1 $$
"""

# Name and argument types of every function, for REVOKE/GRANT and DROP.
FUNCTIONS = (
    "gridrisk_account_scope(bigint)",
    "gridrisk_login_challenge(text, text)",
    "gridrisk_login(text, text, text, bytea, integer, interval, interval, interval)",
    "gridrisk_session_touch(bytea)",
    "gridrisk_session_end(bytea, text)",
    "gridrisk_cookie_key()",
)


def _random_key() -> str:
    # 64 random bytes without pgcrypto: four v4 UUIDs (122 random bits each) hashed twice.
    uuids = " || ".join("gen_random_uuid()::text" for _ in range(4))
    return f"sha256(convert_to({uuids}, 'UTF8')) || sha256(convert_to({uuids}, 'UTF8'))"


def upgrade() -> None:
    op.create_table(
        "auth_secret",
        sa.Column("id", sa.SmallInteger(), autoincrement=False, nullable=False),
        sa.Column("cookie_key", sa.LargeBinary(), nullable=False),
        sa.Column("decoy_key", sa.LargeBinary(), nullable=False),
        sa.CheckConstraint("id = 1", name="ck_auth_secret_one_row"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.execute(f"INSERT INTO auth_secret (id, cookie_key, decoy_key) VALUES (1, {_random_key()}, {_random_key()})")
    op.create_table(
        "login_attempt",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), server_default=sa.text("clock_timestamp()"), nullable=False),
        sa.Column("account_name", sa.Text(), nullable=False),
        sa.Column("address", sa.Text(), nullable=True),
        sa.Column("outcome", sa.Text(), nullable=False),
        sa.CheckConstraint(
            "outcome IN ('ok', 'failed', 'locked', 'disabled', 'no_scope')", name="ck_login_attempt_outcome"
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_login_attempt_address_at", "login_attempt", ["address", "at"], unique=False)
    op.create_index("ix_login_attempt_name_at", "login_attempt", ["account_name", "at"], unique=False)
    op.create_table(
        "login_lock",
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("key", sa.Text(), nullable=False),
        sa.Column("locked_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("kind IN ('account', 'address')", name="ck_login_lock_kind"),
        sa.PrimaryKeyConstraint("kind", "key"),
    )
    op.create_table(
        "account",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("display_name", sa.Text(), nullable=False),
        sa.Column("password_hash", sa.Text(), nullable=False),
        sa.Column("role", sa.Text(), nullable=False),
        sa.Column("district_code", sa.String(length=40), nullable=False),
        sa.Column("scope_codes", postgresql.ARRAY(sa.Text()), server_default=sa.text("'{}'::text[]"), nullable=False),
        sa.Column("staff_id", sa.BigInteger(), nullable=True),
        sa.Column("disabled", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("password_changed_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("name ~ '^[a-z0-9][a-z0-9._-]{1,39}$'", name="ck_account_name"),
        sa.CheckConstraint(
            "role IN ('leader', 'analyst', 'township_head', 'grid_officer', 'admin')", name="ck_account_role"
        ),
        sa.ForeignKeyConstraint(["staff_id"], ["grid_staff.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name"),
    )
    op.create_table(
        "app_session",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("token_hash", sa.LargeBinary(), nullable=False),
        sa.Column("account_id", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("idle_timeout", sa.Interval(), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("address", sa.Text(), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_reason", sa.Text(), nullable=True),
        sa.CheckConstraint("octet_length(token_hash) = 32", name="ck_app_session_token_hash"),
        sa.ForeignKeyConstraint(["account_id"], ["account.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_hash"),
    )
    op.create_index("ix_app_session_account_id", "app_session", ["account_id"], unique=False)
    for ddl in (_ACCOUNT_SCOPE, _LOGIN_CHALLENGE, _LOGIN, _SESSION_TOUCH, _SESSION_END, _COOKIE_KEY):
        op.execute(ddl)
    for function in FUNCTIONS:
        op.execute(f"REVOKE ALL ON FUNCTION {function} FROM PUBLIC")


def downgrade() -> None:
    for function in FUNCTIONS:
        op.execute(f"DROP FUNCTION IF EXISTS {function}")
    op.drop_index("ix_app_session_account_id", table_name="app_session")
    op.drop_table("app_session")
    op.drop_table("account")
    op.drop_table("login_lock")
    op.drop_index("ix_login_attempt_name_at", table_name="login_attempt")
    op.drop_index("ix_login_attempt_address_at", table_name="login_attempt")
    op.drop_table("login_attempt")
    op.drop_table("auth_secret")
