"""Every data access in the database package takes the user's Scope, and every cached result of
the dashboard is keyed by it: checked over the code itself, so a function added later is covered
(or must say here why it needs no scope)."""

import importlib
import inspect
import pkgutil

import pytest

import dashboard.components
import db

# Public functions of db/ that take a connection but no scope, and why they need none.
NOT_REGION_DATA = {
    "db.kiosk.check_kiosk_token": "checks a kiosk token through its definer function; returns the token's scope",
    "db.kiosk.list_kiosk_tokens": "kiosk tokens are not region data (owner only: labels, scopes, dates)",
    "db.kiosk.revoke_kiosk_token": "revokes a kiosk token (owner only)",
    "db.accounts.login": "accounts are not region data; the definer functions answer for them",
    "db.accounts.touch_session": "returns the scope; reads no region rows",
    "db.accounts.end_session": "revokes a session",
    "db.accounts.cookie_key": "the install's key",
    "db.accounts.create_account": "owner's account management (validates codes against public units)",
    "db.accounts.set_password": "owner's account management",
    "db.accounts.set_disabled": "owner's account management",
    "db.accounts.set_role": "owner's account management (validates codes against public units)",
    "db.accounts.list_accounts": "owner's account management (sets the district scope for staff cells)",
    "db.accounts.account_exists": "owner's account management",
    "db.audit.record_event": "appends to the audit trail",
    "db.audit.recent_events": "the audit trail: administrators and the owner's command only",
    "db.bands.bands_in_force": "district-independent configuration",
    "db.bands.record_bands": "district-independent configuration (owner)",
    "db.bands.band_versions": "district-independent configuration",
    "db.engine.assert_safe_app_role": "checks the role, reads no rows",
    "db.grading.refresh_grades": "the owner's refresh of one district after a load",
    "db.grading.refresh_grades_for": "the owner's refresh of a few cells after a load",
    "db.grading.refresh_if_stale": "the owner's daily refresh",
    "db.migrate.grant_app_role": "grants",
}


def _public_functions(package):
    for info in pkgutil.iter_modules(package.__path__):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{package.__name__}.{info.name}")
        for name in getattr(module, "__all__", []):
            obj = getattr(module, name)
            if inspect.isfunction(obj):
                yield f"{module.__name__}.{name}", obj


def _takes(function, *type_names):
    return [
        p.name
        for p in inspect.signature(function).parameters.values()
        if any(t in str(p.annotation) for t in type_names)
    ]


DB_FUNCTIONS = dict(_public_functions(db))
WITH_A_CONNECTION = {name: f for name, f in DB_FUNCTIONS.items() if _takes(f, "Connection", "Engine", "Session")}


@pytest.mark.parametrize("name", sorted(WITH_A_CONNECTION))
def test_every_data_function_of_the_database_package_takes_a_scope(name):
    if name in NOT_REGION_DATA:
        assert not _takes(WITH_A_CONNECTION[name], "Scope"), f"{name} takes a scope: remove it from NOT_REGION_DATA"
        return
    assert _takes(WITH_A_CONNECTION[name], "Scope"), (
        f"{name} reads the database without a Scope: add a `scope: Scope` parameter and apply it "
        "(db.scope.apply_scope), or say in NOT_REGION_DATA why it reads no region rows"
    )


def test_the_exemptions_name_existing_functions():
    assert set(NOT_REGION_DATA) <= set(WITH_A_CONNECTION)


def _cached_functions():
    for info in pkgutil.iter_modules(dashboard.components.__path__):
        module = importlib.import_module(f"dashboard.components.{info.name}")
        for name, obj in vars(module).items():
            cache_info = getattr(obj, "_info", None)
            if cache_info is not None and hasattr(cache_info, "func") and obj.__module__ == module.__name__:
                yield f"{module.__name__}.{name}", obj, type(cache_info).__name__


CACHED = list(_cached_functions())


@pytest.mark.parametrize(("name", "function", "kind"), CACHED, ids=[c[0] for c in CACHED])
def test_every_cached_result_is_keyed_by_the_scope(name, function, kind):
    params = list(inspect.signature(function).parameters)
    if kind == "CachedDataFuncInfo":
        # st.cache_data is shared by every session of the server: the scope is in the key.
        assert params[:2] == ["scope_key", "stamp"], f"{name} must take (scope_key, stamp, ...) first"
    else:
        # st.cache_resource holds process-wide resources (engines, keys), never a user's rows.
        assert params == [], f"{name}: a cached resource takes no per-user argument"


def test_the_cached_functions_were_found():
    names = {name for name, _, _ in CACHED}
    assert "dashboard.components.data.scope_enterprises" in names
    assert "dashboard.components.session._cookie_key" in names
