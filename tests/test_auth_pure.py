"""The pure parts of login: password policy, the signed cookie (tampered, expired on a frozen
clock), argon2 with a stored setting, the login endpoint's redirect and origin checks, and the
scope's home unit."""

import datetime as dt
from types import SimpleNamespace

import geopandas as gpd
import pytest
from argon2 import PasswordHasher

from dashboard.auth_routes import safe_next, same_origin
from dashboard.components.view_model import home_region
from db import accounts
from db.errors import PasswordPolicyError

NOW = dt.datetime(2026, 11, 24, 9, 30, tzinfo=dt.UTC)  # the frozen clock of these tests
KEY = b"k" * 32
CHEAP = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)


# ---------------------------------------------------------------- passwords


@pytest.mark.parametrize(
    ("name", "password", "problem"),
    [
        ("zhang.san", "short-pw", "至少需要 10 个字符"),
        ("zhang.san", "zhang.san", "不能是账号名"),
        ("zhang.san", "ZHANG.SAN-2026", "不能是账号名"),  # containing the name, any case
        ("zhang.san", "qwertyuiop", "过于常见"),
        ("zhang.san", "1qaz2wsx3edc", "过于常见"),
        ("zhang.san", "Password123", "过于常见"),  # case-insensitive
    ],
)
def test_weak_passwords_are_refused_with_the_reason(name, password, problem):
    assert any(problem in p for p in accounts.password_problems(name, password))
    with pytest.raises(PasswordPolicyError, match=problem):
        accounts.check_password(name, password)


def test_a_long_uncommon_password_passes():
    assert accounts.password_problems("zhang.san", "river-lamp-cobalt") == []


def test_every_demo_password_passes_the_policy():
    from loaders.demo_accounts import DEMO_ACCOUNTS

    for account in DEMO_ACCOUNTS:
        assert accounts.password_problems(account.name, account.password) == [], account.name


def test_hashing_with_the_stored_setting_reproduces_the_stored_hash():
    stored = accounts.hash_password("river-lamp-cobalt", CHEAP)
    setting, digest = stored.rsplit("$", 1)
    hash_len = len(digest) * 3 // 4
    assert accounts._hash_with_setting("river-lamp-cobalt", setting, hash_len) == stored
    assert accounts._hash_with_setting("river-lamp-cobalX", setting, hash_len) != stored


def test_the_decoy_parameters_are_the_hashers():
    assert accounts._parameters_prefix(PasswordHasher()) == "$argon2id$v=19$m=65536,t=3,p=4"


# ---------------------------------------------------------------- the cookie


def test_a_signed_cookie_gives_back_its_token_until_it_expires():
    token = accounts.new_token()
    cookie = accounts.sign_cookie(token, KEY, NOW + dt.timedelta(hours=12))
    assert accounts.read_cookie(cookie, KEY, NOW) == token
    assert accounts.read_cookie(cookie, KEY, NOW + dt.timedelta(hours=11, minutes=59)) == token
    assert accounts.read_cookie(cookie, KEY, NOW + dt.timedelta(hours=12)) is None


@pytest.mark.parametrize(
    "tamper",
    [
        lambda c: c.replace("v1.", "v2.", 1),
        lambda c: c[:-1] + ("A" if c[-1] != "A" else "B"),  # signature
        lambda c: ".".join([*c.split(".")[:1], "x" + c.split(".")[1][1:], *c.split(".")[2:]]),  # token
        lambda c: ".".join([*c.split(".")[:2], str(int(c.split(".")[2]) + 86400), c.split(".")[3]]),  # expiry
        lambda c: c + ".extra",
        lambda c: "",
        lambda c: "garbage",
    ],
)
def test_a_tampered_cookie_is_refused(tamper):
    cookie = accounts.sign_cookie(accounts.new_token(), KEY, NOW + dt.timedelta(hours=1))
    assert accounts.read_cookie(tamper(cookie), KEY, NOW) is None


def test_a_cookie_signed_with_another_key_is_refused():
    cookie = accounts.sign_cookie(accounts.new_token(), b"other" * 8, NOW + dt.timedelta(hours=1))
    assert accounts.read_cookie(cookie, KEY, NOW) is None


def test_only_the_tokens_hash_reaches_the_database():
    token = accounts.new_token()
    assert len(token) >= 43 and "." not in token
    assert len(accounts.token_hash(token)) == 32 and accounts.token_hash(token) != token.encode()


# ---------------------------------------------------------------- the endpoint's checks


@pytest.mark.parametrize(
    ("value", "root", "expected"),
    [
        ("/map?region=340303001&tier=4", "/", "/map?region=340303001&tier=4"),
        ("/?region=1&login_error=failed&logged_out=1", "/", "/?region=1"),
        ("?region=1", "/", "/?region=1"),
        ("https://evil.example/map", "/", "/"),
        ("//evil.example/map", "/", "/"),
        ("/\\evil.example", "/", "/"),
        ("javascript:alert(1)", "/", "/"),
        ("/gr/map?x=1", "/gr/", "/gr/map?x=1"),
        ("/gr", "/gr/", "/gr"),
        ("/other/map", "/gr/", "/gr/"),
        ("", "/", "/"),
        (None, "/gr/", "/gr/"),
    ],
)
def test_the_login_returns_only_to_paths_of_this_app(value, root, expected):
    assert safe_next(value, root) == expected


def _request(headers):
    return SimpleNamespace(headers={k.lower(): v for k, v in headers.items()})


@pytest.mark.parametrize(
    ("headers", "allowed"),
    [
        ({"Host": "gis.bureau:8501", "Origin": "http://gis.bureau:8501"}, True),
        ({"Host": "gis.bureau:8501"}, True),  # not a browser driven by another site
        ({"Host": "gis.bureau:8501", "Origin": "http://evil.example"}, False),
        ({"Host": "gis.bureau:8501", "Origin": "null"}, False),
    ],
)
def test_cross_site_posts_are_refused(headers, allowed):
    assert same_origin(_request(headers)) is allowed


# ---------------------------------------------------------------- the scope's home unit


def _units(paths):
    return gpd.GeoDataFrame(
        {"code": [p[-1] for p in paths], "tier": [len(p) for p in paths], "path": paths}, geometry=[None] * len(paths)
    )


def test_home_is_the_district_for_the_whole_district():
    d = "340303"
    paths = [[d], [d, "t1"], [d, "t2"], [d, "t1", "v1"], [d, "t2", "v2"], [d, "t1", "v1", "c1"], [d, "t2", "v2", "c2"]]
    assert home_region(_units(paths)) == d


def test_home_is_the_township_of_a_township_head_and_the_cell_of_an_officer():
    d = "340303"
    township = [[d], [d, "t1"], [d, "t1", "v1"], [d, "t1", "v2"], [d, "t1", "v1", "c1"], [d, "t1", "v2", "c2"]]
    assert home_region(_units(township)) == "t1"
    officer = [[d], [d, "t1"], [d, "t1", "v1"], [d, "t1", "v1", "c1"]]
    assert home_region(_units(officer)) == "c1"
    two_cells = [*officer, [d, "t1", "v1", "c2"]]
    assert home_region(_units(two_cells)) == "v1"
