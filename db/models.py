"""SQLAlchemy 2 typed models with GeoAlchemy2 geometry columns (SRID: geo.crs.STORAGE_SRID).

Row-level security: every table holding enterprise, hazard, inspection, staff or grade rows has
a ``region_path`` (the codes of the region units the row belongs to, district first) and a
policy comparing it with the transaction's scope (see db/scope.py and the migrations). Unit
boundaries and names are not secret and carry no policy.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from geoalchemy2 import Geometry
from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Double,
    ForeignKey,
    Index,
    Integer,
    Interval,
    LargeBinary,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from geo.crs import STORAGE_SRID

__all__ = [
    "Base",
    "BoundarySet",
    "RegionUnit",
    "ContextArea",
    "Enterprise",
    "Hazard",
    "Inspection",
    "GridStaff",
    "LoadAudit",
    "AuditEvent",
    "KioskToken",
    "GradingRule",
    "AssessmentBand",
    "RegionGrade",
    "Account",
    "LoginAttempt",
    "LoginLock",
    "AppSession",
    "AuthSecret",
    "ACCOUNT_ROLES",
    "ACCOUNT_TABLES",
    "SCOPED_TABLES",
]

TextArray = ARRAY(Text)


class Base(DeclarativeBase):
    type_annotation_map = {dict[str, Any]: JSONB}


def _created() -> Mapped[dt.datetime]:
    return mapped_column(DateTime(timezone=True), server_default=func.now())


class BoundarySet(Base):
    """One version of a district's grid (all its tiers), identified by its code year."""

    __tablename__ = "boundary_set"
    __table_args__ = (
        UniqueConstraint("district_code", "code_year", name="uq_boundary_set_district_year"),
        # At most one current set per district.
        Index(
            "uq_boundary_set_current",
            "district_code",
            unique=True,
            postgresql_where=text("is_current"),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    district_code: Mapped[str] = mapped_column(String(40))
    code_year: Mapped[int] = mapped_column(SmallInteger)
    is_current: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    # The tier enterprises are placed in: 4 for a four-tier grid, 3 for a three-tier one.
    bottom_tier: Mapped[int] = mapped_column(SmallInteger, server_default=text("4"))
    source_file: Mapped[str | None] = mapped_column(Text)
    loaded_at: Mapped[dt.datetime] = _created()


class RegionUnit(Base):
    """A unit of the grid: tier 1 区/县, 2 乡镇/街道, 3 社区/村, 4 网格 (DOMAIN.md §1)."""

    __tablename__ = "region_unit"
    __table_args__ = (
        UniqueConstraint("boundary_set_id", "code", name="uq_region_unit_set_code"),
        CheckConstraint("tier BETWEEN 1 AND 4", name="ck_region_unit_tier"),
        CheckConstraint("path[cardinality(path)] = code", name="ck_region_unit_path_ends_in_code"),
        Index("ix_region_unit_geom", "geom", postgresql_using="gist"),
        Index("ix_region_unit_path", "path", postgresql_using="gin"),
        Index("ix_region_unit_set_tier", "boundary_set_id", "tier"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    boundary_set_id: Mapped[int] = mapped_column(ForeignKey("boundary_set.id", ondelete="CASCADE"))
    code: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(Text)
    tier: Mapped[int] = mapped_column(SmallInteger)
    parent_code: Mapped[str | None] = mapped_column(String(40))
    # Codes of all ancestors and the unit itself, district first: roll-ups and scopes use this,
    # never code prefixes (a bureau's own codes may not nest by prefix).
    path: Mapped[list[str]] = mapped_column(TextArray)
    code_year: Mapped[int] = mapped_column(SmallInteger)
    area_m2: Mapped[float] = mapped_column(Double)
    geom: Mapped[Any] = mapped_column(Geometry("MULTIPOLYGON", srid=STORAGE_SRID, spatial_index=False))


class ContextArea(Base):
    """Neighbouring areas drawn dimly around the district for orientation; not part of the grid."""

    __tablename__ = "context_area"
    __table_args__ = (Index("ix_context_area_geom", "geom", postgresql_using="gist"),)

    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    geom: Mapped[Any] = mapped_column(Geometry("MULTIPOLYGON", srid=STORAGE_SRID, spatial_index=False))


class Enterprise(Base):
    """A 生产经营单位 (DOMAIN.md §4), placed in one bottom-tier cell or flagged as unplaced."""

    __tablename__ = "enterprise"
    __table_args__ = (
        CheckConstraint("grade BETWEEN 1 AND 4", name="ck_enterprise_grade"),
        CheckConstraint(
            "placement IN ('placed', 'no_coordinates', 'outside_district', 'no_cell', 'swapped_lonlat')",
            name="ck_enterprise_placement",
        ),
        CheckConstraint("cardinality(region_path) >= 1", name="ck_enterprise_region_path"),
        CheckConstraint("ls_l BETWEEN 1 AND 5 AND ls_s BETWEEN 1 AND 5", name="ck_enterprise_ls_range"),
        Index("ix_enterprise_district", "district_code"),
        Index("ix_enterprise_geom", "geom", postgresql_using="gist"),
        Index("ix_enterprise_region_path", "region_path", postgresql_using="gin"),
        Index("ix_enterprise_cell_code", "cell_code"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    uscc: Mapped[str] = mapped_column(String(18), unique=True)  # 统一社会信用代码
    name: Mapped[str] = mapped_column(Text)
    address: Mapped[str | None] = mapped_column(Text)
    sector: Mapped[str | None] = mapped_column(Text)  # 行业领域, controlled vocabulary
    special_flags: Mapped[list[str]] = mapped_column(TextArray, server_default=text("'{}'::text[]"))
    grade: Mapped[int | None] = mapped_column(SmallInteger)  # 1..4 = 重大/较大/一般/低
    grade_source: Mapped[str | None] = mapped_column(Text)  # 'input', 'LEC', 'LS'
    # Assessment inputs when no grade is given (DOMAIN.md §2): LEC D = L×E×C, LS R = L×S.
    lec_l: Mapped[float | None] = mapped_column(Double)
    lec_e: Mapped[float | None] = mapped_column(Double)
    lec_c: Mapped[float | None] = mapped_column(Double)
    ls_l: Mapped[int | None] = mapped_column(SmallInteger)
    ls_s: Mapped[int | None] = mapped_column(SmallInteger)
    sector_class: Mapped[str | None] = mapped_column(Text)  # 行业类别, e.g. 加油加气站
    established_date: Mapped[dt.date | None] = mapped_column(Date)
    supervision_class: Mapped[str | None] = mapped_column(Text)
    scale: Mapped[str | None] = mapped_column(Text)
    employees: Mapped[int | None] = mapped_column(Integer)
    standardisation_level: Mapped[str | None] = mapped_column(Text)
    contractor: Mapped[str | None] = mapped_column(Text)
    department: Mapped[str | None] = mapped_column(Text)
    leader: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str | None] = mapped_column(Text)
    district_code: Mapped[str] = mapped_column(String(40))
    cell_code: Mapped[str | None] = mapped_column(String(40))
    # The cell's ancestry including the cell; just [district] when the enterprise has no cell,
    # which makes unplaced rows visible to whole-district scopes only.
    region_path: Mapped[list[str]] = mapped_column(TextArray)
    placement: Mapped[str] = mapped_column(Text, server_default=text("'placed'"))
    geom: Mapped[Any | None] = mapped_column(Geometry("POINT", srid=STORAGE_SRID, spatial_index=False))
    source_x: Mapped[float | None] = mapped_column(Double)  # coordinates as received
    source_y: Mapped[float | None] = mapped_column(Double)
    source_crs: Mapped[str | None] = mapped_column(Text)  # wgs84 / cgcs2000 / gcj02 / bd09 / EPSG:n
    extra: Mapped[dict[str, Any]] = mapped_column(server_default=text("'{}'::jsonb"))
    created_at: Mapped[dt.datetime] = _created()
    updated_at: Mapped[dt.datetime] = _created()


class Hazard(Base):
    """A 事故隐患 and its closed loop: found → deadline → rectified → verified/closed (DOMAIN.md §3)."""

    __tablename__ = "hazard"
    __table_args__ = (
        CheckConstraint("hazard_grade IN (1, 2)", name="ck_hazard_grade"),
        CheckConstraint("cardinality(region_path) >= 1", name="ck_hazard_region_path"),
        Index("ix_hazard_region_path", "region_path", postgresql_using="gin"),
        Index("ix_hazard_enterprise", "enterprise_id"),
        Index("ix_hazard_found_date", "found_date"),
        # Hazards open on a day (db/grading.py): still open, or rectified after that day.
        Index("ix_hazard_open_found", "found_date", postgresql_where=text("rectified_date IS NULL")),
        Index("ix_hazard_rectified", "rectified_date"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    hazard_code: Mapped[str] = mapped_column(Text, unique=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprise.id", ondelete="CASCADE"))
    region_path: Mapped[list[str]] = mapped_column(TextArray)  # the enterprise's, kept in step
    found_date: Mapped[dt.date] = mapped_column(Date)
    source: Mapped[str | None] = mapped_column(Text)  # 自查/检查/专家/举报
    description: Mapped[str | None] = mapped_column(Text)
    hazard_grade: Mapped[int] = mapped_column(SmallInteger)  # 1 重大隐患, 2 一般隐患
    judgement_basis: Mapped[str | None] = mapped_column(Text)
    place_type: Mapped[str | None] = mapped_column(Text)  # 场所类型
    deadline_date: Mapped[dt.date | None] = mapped_column(Date)  # 整改期限
    rectified_date: Mapped[dt.date | None] = mapped_column(Date)
    closed_date: Mapped[dt.date | None] = mapped_column(Date)  # 验收/销号
    listed_level: Mapped[str | None] = mapped_column(Text)  # 挂牌督办 level, if listed
    extra: Mapped[dict[str, Any]] = mapped_column(server_default=text("'{}'::jsonb"))
    created_at: Mapped[dt.datetime] = _created()
    updated_at: Mapped[dt.datetime] = _created()


class Inspection(Base):
    """A 检查记录: who checked which enterprise when, and the hazards it found."""

    __tablename__ = "inspection"
    __table_args__ = (
        CheckConstraint("cardinality(region_path) >= 1", name="ck_inspection_region_path"),
        CheckConstraint("findings_count >= 0", name="ck_inspection_findings"),
        Index("ix_inspection_region_path", "region_path", postgresql_using="gin"),
        Index("ix_inspection_enterprise", "enterprise_id"),
        Index("ix_inspection_date", "inspection_date"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    inspection_code: Mapped[str] = mapped_column(Text, unique=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprise.id", ondelete="CASCADE"))
    region_path: Mapped[list[str]] = mapped_column(TextArray)  # the enterprise's, kept in step
    inspection_date: Mapped[dt.date] = mapped_column(Date)
    unit: Mapped[str | None] = mapped_column(Text)  # 检查单位
    inspector: Mapped[str | None] = mapped_column(Text)  # 检查人员
    kind: Mapped[str | None] = mapped_column(Text)  # 日常/专项/执法/专家
    findings_count: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    hazard_codes: Mapped[list[str]] = mapped_column(TextArray, server_default=text("'{}'::text[]"))
    extra: Mapped[dict[str, Any]] = mapped_column(server_default=text("'{}'::jsonb"))
    created_at: Mapped[dt.datetime] = _created()
    updated_at: Mapped[dt.datetime] = _created()


class GridStaff(Base):
    """A grid officer (网格员) or grid head (网格长) and the cells they answer for.

    Personal data: ``region_path`` is the union of the cells' ancestries (cells included), so a
    row — name and phone — is visible only to scopes that cover one of its cells or an ancestor.
    """

    __tablename__ = "grid_staff"
    __table_args__ = (
        CheckConstraint("role IN ('网格员', '网格长')", name="ck_grid_staff_role"),
        CheckConstraint("cardinality(cell_codes) >= 1", name="ck_grid_staff_cells"),
        CheckConstraint("cardinality(region_path) >= 1", name="ck_grid_staff_region_path"),
        Index("ix_grid_staff_region_path", "region_path", postgresql_using="gin"),
        Index("ix_grid_staff_cells", "cell_codes", postgresql_using="gin"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    phone: Mapped[str] = mapped_column(String(20), unique=True)  # identity for re-loads
    name: Mapped[str] = mapped_column(Text)
    role: Mapped[str] = mapped_column(Text)
    district_code: Mapped[str] = mapped_column(String(40))
    cell_codes: Mapped[list[str]] = mapped_column(TextArray)
    region_path: Mapped[list[str]] = mapped_column(TextArray)
    extra: Mapped[dict[str, Any]] = mapped_column(server_default=text("'{}'::jsonb"))
    created_at: Mapped[dt.datetime] = _created()
    updated_at: Mapped[dt.datetime] = _created()


class LoadAudit(Base):
    """One row per load attempt: what came in, what it changed, what was rejected."""

    __tablename__ = "load_audit"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    kind: Mapped[str] = mapped_column(Text)  # outline, boundaries, enterprises, hazards, ...
    file_name: Mapped[str | None] = mapped_column(Text)
    file_sha256: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(Text)  # loaded / loaded_with_rejects / unchanged / refused
    inserted: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    updated: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    unchanged: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    rejected: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    actor: Mapped[str] = mapped_column(Text, server_default=text("current_user"))
    detail: Mapped[dict[str, Any]] = mapped_column(server_default=text("'{}'::jsonb"))
    started_at: Mapped[dt.datetime] = _created()
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class AuditEvent(Base):
    """What a person did (login, failed login, export, data change, token), by whom, from where.

    Append-only for the dashboard's role: it may insert and read, never update or delete."""

    __tablename__ = "audit_event"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=text("clock_timestamp()"))
    actor: Mapped[str] = mapped_column(Text)
    action: Mapped[str] = mapped_column(Text)
    target: Mapped[str | None] = mapped_column(Text)
    address: Mapped[str | None] = mapped_column(Text)
    detail: Mapped[dict[str, Any]] = mapped_column(server_default=text("'{}'::jsonb"))

    __table_args__ = (
        Index("ix_audit_event_at", "at"),
        Index("ix_audit_event_action_at", "action", "at"),
    )


class KioskToken(Base):
    """A read-only link for a wall screen (大屏): only the token's SHA-256 is stored.

    The dashboard's role cannot read this table; it checks a token with the SECURITY DEFINER
    function ``gridrisk_kiosk_check`` (migration 0011k), which also notes the last use."""

    __tablename__ = "kiosk_token"
    __table_args__ = (
        CheckConstraint("token_sha256 ~ '^[0-9a-f]{64}$'", name="ck_kiosk_token_sha256"),
        CheckConstraint("cardinality(scope_codes) >= 1", name="ck_kiosk_token_scope"),
        UniqueConstraint("token_sha256", name="uq_kiosk_token_sha256"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    label: Mapped[str] = mapped_column(Text)  # where the screen hangs, e.g. 指挥中心
    token_sha256: Mapped[str] = mapped_column(String(64))  # hex digest of the random token
    scope_codes: Mapped[list[str]] = mapped_column(TextArray)  # region codes the screen shows
    created_at: Mapped[dt.datetime] = _created()
    created_by: Mapped[str] = mapped_column(Text)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_by: Mapped[str | None] = mapped_column(Text)
    last_used_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class GradingRule(Base):
    """A region-grading rule as used for stored grades: name, version and every parameter
    (geo.grading.RegionRule.as_dict), so a colour can be explained long after the rule changed.
    The enterprise assessment bands are not part of a rule: they change by date (AssessmentBand)."""

    __tablename__ = "grading_rule"

    name: Mapped[str] = mapped_column(Text, primary_key=True)
    version: Mapped[str] = mapped_column(Text, primary_key=True)
    label: Mapped[str] = mapped_column(Text)
    definition: Mapped[dict[str, Any]] = mapped_column()
    recorded_at: Mapped[dt.datetime] = _created()


class AssessmentBand(Base):
    """One version of an assessment method's score bands (DOMAIN.md §2: bands differ between
    provinces): a score ≥ thresholds[1] is 重大, ≥ [2] 较大, ≥ [3] 一般, lower 低. A version is in
    force from ``valid_from`` until the next version's; rows are only ever added (db/bands.py).
    District-independent configuration: no region_path, no row-level security."""

    __tablename__ = "assessment_band"
    __table_args__ = (
        CheckConstraint("method IN ('LEC', 'LS')", name="ck_assessment_band_method"),
        CheckConstraint(
            "cardinality(thresholds) = 3 AND thresholds[1] > thresholds[2] AND thresholds[2] > thresholds[3] "
            "AND thresholds[3] > 0",
            name="ck_assessment_band_thresholds",
        ),
        UniqueConstraint("method", "valid_from", name="uq_assessment_band_method_valid_from"),
    )

    method: Mapped[str] = mapped_column(Text, primary_key=True)  # LEC (D = L×E×C) or LS (R = L×S)
    version: Mapped[str] = mapped_column(Text, primary_key=True)
    thresholds: Mapped[list[float]] = mapped_column(ARRAY(Double))
    valid_from: Mapped[dt.date] = mapped_column(Date)
    recorded_at: Mapped[dt.datetime] = _created()


class RegionGrade(Base):
    """The current grade of a unit under one rule, with the counts behind it (DOMAIN.md §2).

    Refreshed after loads and daily (db/grading.py); grades for a past date are computed on demand
    by the same SQL. Scoped like the rows it summarises: ``region_path`` is the unit's path.
    """

    __tablename__ = "region_grade"
    __table_args__ = (
        CheckConstraint("grade BETWEEN 1 AND 4", name="ck_region_grade_grade"),
        CheckConstraint("cardinality(region_path) >= 1", name="ck_region_grade_region_path"),
        Index("ix_region_grade_region_path", "region_path", postgresql_using="gin"),
    )

    region_code: Mapped[str] = mapped_column(String(40), primary_key=True)
    rule_name: Mapped[str] = mapped_column(Text, primary_key=True)
    rule_version: Mapped[str] = mapped_column(Text)
    district_code: Mapped[str] = mapped_column(String(40))
    tier: Mapped[int] = mapped_column(SmallInteger)
    region_path: Mapped[list[str]] = mapped_column(TextArray)
    as_of: Mapped[dt.date] = mapped_column(Date)
    computed_at: Mapped[dt.datetime] = _created()
    # The assessment band versions in force on as_of, which graded enterprises without an input grade.
    lec_bands_version: Mapped[str] = mapped_column(Text)
    ls_bands_version: Mapped[str] = mapped_column(Text)
    grade: Mapped[int | None] = mapped_column(SmallInteger)  # NULL: no data (grey)
    score: Mapped[float | None] = mapped_column(Double)
    escalated_by: Mapped[str | None] = mapped_column(Text)
    enterprises: Mapped[int] = mapped_column(Integer)
    enterprises_g1: Mapped[int] = mapped_column(Integer)
    enterprises_g2: Mapped[int] = mapped_column(Integer)
    enterprises_g3: Mapped[int] = mapped_column(Integer)
    enterprises_g4: Mapped[int] = mapped_column(Integer)
    enterprises_ungraded: Mapped[int] = mapped_column(Integer)
    hazards_open: Mapped[int] = mapped_column(Integer)
    hazards_overdue: Mapped[int] = mapped_column(Integer)
    hazards_major_open: Mapped[int] = mapped_column(Integer)
    hazards_listed_open: Mapped[int] = mapped_column(Integer)
    hazards_overdue_major: Mapped[int] = mapped_column(Integer)


# Roles an account can hold (DOMAIN.md §6); the kiosk is a token, not an account.
ACCOUNT_ROLES = ("leader", "analyst", "township_head", "grid_officer", "admin")


class Account(Base):
    """A person who logs in: an argon2 password hash, a role and the region codes they may see.

    The dashboard's role never reads ``password_hash``: it may select the other columns and call
    the SECURITY DEFINER functions of revision 0011 (db/accounts.py). A grid officer linked to a
    staff member (``staff_id``) sees that member's cells, whatever the roster says at login;
    otherwise ``scope_codes`` (a township head's township, the district for the district roles).
    """

    __tablename__ = "account"
    __table_args__ = (
        CheckConstraint(f"role IN {ACCOUNT_ROLES!r}", name="ck_account_role"),
        CheckConstraint("name ~ '^[a-z0-9][a-z0-9._-]{1,39}$'", name="ck_account_name"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    name: Mapped[str] = mapped_column(Text, unique=True)  # the login name, lower case
    display_name: Mapped[str] = mapped_column(Text)
    password_hash: Mapped[str] = mapped_column(Text)  # argon2id, PHC string format
    role: Mapped[str] = mapped_column(Text)
    district_code: Mapped[str] = mapped_column(String(40))
    scope_codes: Mapped[list[str]] = mapped_column(TextArray, server_default=text("'{}'::text[]"))
    staff_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("grid_staff.id", ondelete="SET NULL"))
    disabled: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    created_at: Mapped[dt.datetime] = _created()
    updated_at: Mapped[dt.datetime] = _created()
    password_changed_at: Mapped[dt.datetime] = _created()


class LoginAttempt(Base):
    """Every login attempt, by the name typed (existing or not) and the client address: the
    lock-out counts failures here."""

    __tablename__ = "login_attempt"
    __table_args__ = (
        CheckConstraint(
            "outcome IN ('ok', 'failed', 'locked', 'disabled', 'no_scope')", name="ck_login_attempt_outcome"
        ),
        Index("ix_login_attempt_name_at", "account_name", "at"),
        Index("ix_login_attempt_address_at", "address", "at"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=text("clock_timestamp()"))
    account_name: Mapped[str] = mapped_column(Text)
    address: Mapped[str | None] = mapped_column(Text)
    outcome: Mapped[str] = mapped_column(Text)


class LoginLock(Base):
    """A lock on an account name or a client address until ``locked_until``."""

    __tablename__ = "login_lock"
    __table_args__ = (CheckConstraint("kind IN ('account', 'address')", name="ck_login_lock_kind"),)

    kind: Mapped[str] = mapped_column(Text, primary_key=True)
    key: Mapped[str] = mapped_column(Text, primary_key=True)
    locked_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    locked_until: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class AppSession(Base):
    """A logged-in session: only the SHA-256 of its random token is stored. Revoked on logout,
    on a password change or disabling, and when idle or past its absolute lifetime."""

    __tablename__ = "app_session"
    __table_args__ = (
        CheckConstraint("octet_length(token_hash) = 32", name="ck_app_session_token_hash"),
        Index("ix_app_session_account_id", "account_id"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    token_hash: Mapped[bytes] = mapped_column(LargeBinary, unique=True)
    account_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("account.id", ondelete="CASCADE"))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    last_seen_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    idle_timeout: Mapped[dt.timedelta] = mapped_column(Interval)
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    address: Mapped[str | None] = mapped_column(Text)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_reason: Mapped[str | None] = mapped_column(Text)


class AuthSecret(Base):
    """The install's keys, made at migration: the cookie signing key and the key that derives
    decoy salts for unknown login names. One row; only the owner reads it."""

    __tablename__ = "auth_secret"
    __table_args__ = (CheckConstraint("id = 1", name="ck_auth_secret_one_row"),)

    id: Mapped[int] = mapped_column(SmallInteger, primary_key=True, autoincrement=False)
    cookie_key: Mapped[bytes] = mapped_column(LargeBinary)
    decoy_key: Mapped[bytes] = mapped_column(LargeBinary)


# The dashboard's role may not read these tables (password hashes, session tokens, keys), apart
# from account's non-secret columns; it calls the functions of revision 0011 instead.
ACCOUNT_TABLES = ("account", "login_attempt", "login_lock", "app_session", "auth_secret")


# Tables whose rows are scoped by region_path under row-level security; later migrations add
# theirs here and the RLS test covers every entry.
SCOPED_TABLES = ("enterprise", "hazard", "inspection", "grid_staff", "region_grade")
