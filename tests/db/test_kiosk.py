"""Kiosk tokens: stored hashed, checked by the app role through one function only, created,
listed and revoked by ``python -m manage kiosk`` with audit rows."""

import re

import pytest
from sqlalchemy import text
from sqlalchemy.exc import ProgrammingError
from typer.testing import CliRunner

from db.errors import KioskTokenError
from db.kiosk import check_kiosk_token, create_kiosk_token, kiosk_url, revoke_kiosk_token, token_digest
from db.scope import Scope

pytestmark = pytest.mark.db
DISTRICT = "340303"


@pytest.fixture()
def seeded(live_db, admin_engine):
    """The live database (its units make scope codes valid)."""
    return admin_engine


def test_only_the_hash_is_stored_and_the_app_role_checks_the_token(seeded, app_engine):
    with seeded.begin() as conn:
        token_id, token = create_kiosk_token(conn, label="指挥中心", scope=Scope.whole_district(DISTRICT), actor="t")
    assert len(token) >= 43 and re.fullmatch(r"[A-Za-z0-9_-]+", token)  # 256 random bits, URL-safe
    with seeded.connect() as conn:
        stored = conn.execute(text("SELECT * FROM kiosk_token WHERE id = :i"), {"i": token_id}).mappings().one()
    assert token not in {str(v) for v in stored.values()}
    assert stored["token_sha256"] == token_digest(token) and stored["last_used_at"] is None
    with app_engine.begin() as conn:
        check = check_kiosk_token(conn, token)
    assert (check.status, check.token_id, check.label, check.scope) == (
        "valid",
        token_id,
        "指挥中心",
        Scope.whole_district(DISTRICT),
    )
    with seeded.connect() as conn:
        used = conn.execute(text("SELECT last_used_at FROM kiosk_token WHERE id = :i"), {"i": token_id}).scalar()
    assert used is not None, "a check notes the token's last use"


def test_the_app_role_cannot_read_the_token_table(app_engine):
    with app_engine.connect() as conn, pytest.raises(ProgrammingError, match="permission denied"):
        conn.execute(text("SELECT token_sha256 FROM kiosk_token"))


def test_revoked_wrong_and_malformed_tokens_are_refused(seeded, app_engine):
    with seeded.begin() as conn:
        token_id, token = create_kiosk_token(conn, label="会议室", scope=Scope.of(["340303200"]), actor="t")
        revoke_kiosk_token(conn, token_id, actor="t")
    with app_engine.begin() as conn:
        assert check_kiosk_token(conn, token).status == "revoked"
        assert check_kiosk_token(conn, token[:-1] + ("A" if token[-1] != "A" else "B")).status == "unknown"
        for bad in (None, "", "short", "x" * 43 + "'; DROP TABLE kiosk_token; --", "令牌" * 30):
            assert check_kiosk_token(conn, bad).status == "unknown"


def test_a_token_for_an_unknown_region_or_without_a_label_is_refused(db_conn):
    with pytest.raises(KioskTokenError, match=r"\['999999'\] are not units"):
        create_kiosk_token(db_conn, label="x", scope=Scope.of(["999999"]), actor="t")
    with pytest.raises(KioskTokenError, match="needs a label"):
        create_kiosk_token(db_conn, label="  ", scope=Scope.whole_district(DISTRICT), actor="t")
    with pytest.raises(KioskTokenError, match="no kiosk token has id"):
        revoke_kiosk_token(db_conn, 10**9, actor="t")


def test_the_kiosk_url_carries_the_token_and_the_embed_options():
    url = kiosk_url("http://10.0.0.5:8501/", "abc_DEF-123")
    assert url.startswith("http://10.0.0.5:8501/?kiosk=abc_DEF-123&embed=true")
    assert "embed_options=dark_theme" in url and "embed_options=hide_loading_screen" in url


# ---------------------------------------------------------------- python -m manage kiosk


@pytest.fixture()
def cli(live_db, monkeypatch):
    from config import get_settings
    from manage.cli import app, console

    monkeypatch.setattr(console, "width", 200)  # rich would wrap the table's cells at 80 columns
    monkeypatch.setenv("DATABASE_ADMIN_URL", live_db.admin_url)
    monkeypatch.setenv("GRIDRISK_PUBLIC_URL", "http://dapin.example:8501")
    get_settings.cache_clear()
    yield lambda *args: CliRunner().invoke(app, list(args))
    get_settings.cache_clear()


def _audit(admin_engine, action: str, subject: str) -> list[dict]:
    with admin_engine.connect() as conn:
        rows = conn.execute(
            text("SELECT actor, detail FROM audit_event WHERE action = :a AND target = :s"), {"a": action, "s": subject}
        ).mappings()
        return [dict(r) for r in rows]


def test_create_prints_the_link_once_list_shows_it_and_revoke_stops_it(cli, admin_engine, app_engine):
    created = cli("kiosk", "create", "--label", "指挥中心大屏")
    assert created.exit_code == 0, created.output
    url = re.search(r"http://dapin\.example:8501/\?kiosk=([A-Za-z0-9_-]+)&\S+", created.output)
    assert url, created.output
    token = url.group(1)
    token_id = int(re.search(r"#(\d+)", created.output).group(1))
    assert _audit(admin_engine, "kiosk_create", f"kiosk:{token_id}")[0]["detail"] == {
        "label": "指挥中心大屏",
        "scope": [DISTRICT],
    }

    listed = cli("kiosk", "list")
    assert listed.exit_code == 0 and "指挥中心大屏" in listed.output and "有效" in listed.output
    assert token not in listed.output and token_digest(token) not in listed.output  # never shown again

    revoked = cli("kiosk", "revoke", str(token_id))
    assert revoked.exit_code == 0 and "已停用" in revoked.output
    assert len(_audit(admin_engine, "kiosk_revoke", f"kiosk:{token_id}")) == 1
    with app_engine.begin() as conn:
        assert check_kiosk_token(conn, token).status == "revoked"

    again = cli("kiosk", "revoke", str(token_id))
    assert again.exit_code == 2 and "already revoked" in again.output
    assert len(_audit(admin_engine, "kiosk_revoke", f"kiosk:{token_id}")) == 1  # nothing changed


def test_create_for_a_township_and_refusals(cli):
    township = cli("kiosk", "create", "--label", "燕山乡", "--scope", "340303200")
    assert township.exit_code == 0 and "范围 340303200" in township.output
    unknown = cli("kiosk", "create", "--label", "x", "--scope", "999999")
    assert unknown.exit_code == 2 and "not units of the current grid" in unknown.output
    malformed = cli("kiosk", "create", "--label", "x", "--scope", "34,03")
    assert malformed.exit_code == 2
    missing = cli("kiosk", "revoke", "999999999")
    assert missing.exit_code == 2 and "no kiosk token has id" in missing.output
