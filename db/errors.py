"""Domain errors of the database layer (all ValueError subclasses, messages say the fix)."""

from __future__ import annotations

__all__ = [
    "DatabaseNotConfiguredError",
    "UnsafeDatabaseRoleError",
    "InvalidScopeError",
    "RuleVersionConflictError",
    "NoBandsInForceError",
    "BandsVersionConflictError",
    "KioskTokenError",
    "AccountError",
    "PasswordPolicyError",
    "UnknownAccountError",
    "AccountScopeError",
]


class DatabaseNotConfiguredError(ValueError):
    """No database URL was given."""


class UnsafeDatabaseRoleError(ValueError):
    """The dashboard was pointed at a role that would bypass row-level security."""


class InvalidScopeError(ValueError):
    """A scope was empty or held a code that cannot be a region code."""


class RuleVersionConflictError(ValueError):
    """A grading rule's parameters changed but its version did not."""


class NoBandsInForceError(ValueError):
    """No version of an assessment method's bands is in force on the day asked for."""


class BandsVersionConflictError(ValueError):
    """A new version of assessment bands reuses an existing version name or start date."""


class KioskTokenError(ValueError):
    """A kiosk token cannot be created or revoked as asked (unknown scope code, unknown id)."""


class AccountError(ValueError):
    """An account could not be created or changed as asked (the message says why, in Chinese:
    the management command shows it to the administrator as it is)."""


class PasswordPolicyError(AccountError):
    """A new password is too short, is the account's name, or is a common password."""


class UnknownAccountError(AccountError):
    """No account has that name."""


class AccountScopeError(AccountError):
    """The region codes or staff member given do not fit the account's role."""
