"""Settings: one typed, frozen object, documented here and in the README.

Sources, highest priority first:
1. environment variables (``DATABASE_URL``, ``DATABASE_ADMIN_URL``, ``GRIDRISK_*``; nested
   fields with ``__``, e.g. ``GRIDRISK_BASEMAP__KIND=tianditu``);
2. ``.data/local.env`` written by the project-managed cluster (the two database URLs);
3. a TOML file: ``$GRIDRISK_SETTINGS`` or ``gridrisk.toml`` at the project root, if present;
4. the defaults below.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import os
import re
from pathlib import Path
from typing import Annotated, Literal
from zoneinfo import ZoneInfo

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from geo.palette import GRADES, luminance_conflicts, relative_luminance

__all__ = ["Auth", "Basemap", "MapDefaults", "Palette", "Settings", "WallSettings", "get_settings", "PROJECT_ROOT"]

PROJECT_ROOT = Path(__file__).resolve().parent.parent
LOCAL_ENV_FILE = PROJECT_ROOT / ".data" / "local.env"
DEFAULT_SETTINGS_FILE = PROJECT_ROOT / "gridrisk.toml"

_FROZEN = ConfigDict(frozen=True, extra="forbid")


class Palette(BaseModel):
    """Fill colours of the four risk grades and of "no data" (DOMAIN.md §2)."""

    model_config = _FROZEN

    grade_1: str = "#C8102E"  # 重大风险 红
    grade_2: str = "#FF7F00"  # 较大风险 橙
    grade_3: str = "#FFE100"  # 一般风险 黄
    grade_4: str = "#4A90E2"  # 低风险 蓝
    no_data: str = "#B0B0B0"  # 无数据 灰 (drawn with a dashed outline)

    @field_validator("grade_1", "grade_2", "grade_3", "grade_4", "no_data")
    @classmethod
    def _hex(cls, value: str) -> str:
        relative_luminance(value)  # raises with the expected form
        return value.upper()

    @model_validator(mode="after")
    def _distinguishable(self) -> Palette:
        conflicts = luminance_conflicts(self.grade_colours)
        if conflicts:
            pairs = ", ".join(f"grade {a} vs {b}: {gap:.3f}" for a, b, gap in conflicts)
            raise ValueError(
                f"palette grades are too close in greyscale ({pairs}); "
                "keep the four grade colours at least 0.08 apart in relative luminance"
            )
        return self

    @property
    def grade_colours(self) -> dict[int, str]:
        return {grade: getattr(self, f"grade_{grade}") for grade in GRADES}

    def colour_for(self, grade: int | None) -> str:
        """Fill for a grade 1..4, or the no-data grey for ``None``."""
        return self.no_data if grade is None else self.grade_colours[grade]


class Basemap(BaseModel):
    """Tile basemap. ``none`` (the default) draws boundaries on a plain dark background and
    needs no network: government intranets often have none."""

    model_config = _FROZEN

    kind: Literal["none", "tianditu", "amap", "custom"] = "none"
    tianditu_key: SecretStr | None = None  # 天地图 tk, required for kind="tianditu"
    tianditu_layer: Literal["vec", "img"] = "vec"  # vector or imagery, each with annotation
    custom_url: str | None = None  # e.g. http://tiles.intranet/{z}/{x}/{y}.png
    custom_attribution: str | None = None

    @model_validator(mode="after")
    def _complete(self) -> Basemap:
        if self.kind == "tianditu" and not (self.tianditu_key and self.tianditu_key.get_secret_value()):
            raise ValueError(
                "basemap kind 'tianditu' needs a key: set GRIDRISK_BASEMAP__TIANDITU_KEY "
                "(the tk from console.tianditu.gov.cn), or use kind 'none'"
            )
        if self.kind == "custom" and not self.custom_url:
            raise ValueError(
                "basemap kind 'custom' needs a tile URL template: set GRIDRISK_BASEMAP__CUSTOM_URL "
                "to e.g. http://tiles.example/{z}/{x}/{y}.png"
            )
        return self


class MapDefaults(BaseModel):
    model_config = _FROZEN

    height_px: int = Field(720, ge=300, le=2400)
    min_zoom: int = Field(9, ge=1, le=18)
    max_zoom: int = Field(18, ge=1, le=20)
    background: str = "#E8EDF2"  # map background when no basemap is drawn (light: dark boundaries on it)


WALL_VIEW_KINDS = ("district", "townships", "trends")
_REGION_CODE = re.compile(r"^[0-9A-Za-z_-]{1,40}$")  # as db.scope accepts


class WallSettings(BaseModel):
    """The wall screen (大屏, dashboard/pages/wall.py): what it rotates through and how often.

    ``views`` are shown in turn, ``rotate_s`` seconds each: ``district`` (the whole scope's map),
    ``townships`` (each township/street of the scope in turn), ``trends`` (the townships
    compared), or a unit code (that unit's map). From the environment, a comma list:
    ``GRIDRISK_WALL__VIEWS=district,trends``.
    """

    model_config = _FROZEN

    views: Annotated[tuple[str, ...], NoDecode] = WALL_VIEW_KINDS
    rotate_s: float = Field(20, ge=2, le=3600)  # seconds each view stays on screen
    refresh_s: float = Field(60, ge=2, le=3600)  # seconds between checks for new data
    district_tier: Literal[2, 3, 4] = 2  # the district map's units: 2 townships, 3 villages, 4 cells
    township_tier: Literal[3, 4] = 4  # a township's map: 3 villages, 4 cells
    alert_days: int = Field(7, ge=1, le=90)  # a 重大隐患 is "newly overdue" this many days after its deadline

    @field_validator("views", mode="before")
    @classmethod
    def _view_list(cls, value: object) -> object:
        if isinstance(value, str):
            text = value.strip()
            value = json.loads(text) if text.startswith("[") else [i.strip() for i in text.split(",") if i.strip()]
        return value

    @field_validator("views")
    @classmethod
    def _known_views(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        bad = [v for v in value if v not in WALL_VIEW_KINDS and not _REGION_CODE.match(v)]
        if bad or not value:
            raise ValueError(
                f"wall views {bad or list(value)!r} are not understood: use {', '.join(WALL_VIEW_KINDS)} "
                "or region codes, e.g. GRIDRISK_WALL__VIEWS=district,townships,trends"
            )
        return value


class Auth(BaseModel):
    """Login, lock-out and session lifetimes (db/accounts.py enforces them in the database)."""

    model_config = _FROZEN

    idle_minutes: int = Field(30, ge=1, le=24 * 60)  # a session unused this long ends
    absolute_hours: float = Field(12, gt=0, le=24 * 30)  # and every session ends this long after login
    max_failures: int = Field(5, ge=1, le=100)  # failed logins of one account or address before a lock
    lockout_minutes: int = Field(15, ge=1, le=24 * 60)  # how long the lock lasts (and the counting window)
    cookie_name: str = Field("gridrisk_session", pattern=r"^[A-Za-z0-9_-]{1,64}$")
    cookie_secure: bool = False  # set true when the dashboard is served over HTTPS only
    # Behind a reverse proxy every request comes from the proxy's address, so per-address lock-out
    # would lock everyone at once: trust the last hop the proxy appends to X-Forwarded-For instead.
    trust_forwarded_for: bool = False


class Settings(BaseSettings):
    """The application's settings; load with :func:`get_settings`."""

    model_config = SettingsConfigDict(
        frozen=True,
        env_prefix="GRIDRISK_",
        env_nested_delimiter="__",
        env_file=None,
        extra="ignore",
    )

    database_url: str | None = Field(
        None,
        validation_alias=AliasChoices("DATABASE_URL", "database_url"),
        description="URL the dashboard connects with (a non-owner role without BYPASSRLS)",
    )
    database_admin_url: str | None = Field(
        None,
        validation_alias=AliasChoices("DATABASE_ADMIN_URL", "database_admin_url"),
        description="URL of the owner role used by migrations and loaders",
    )
    bureau_name: str = "蚌山区应急管理局"
    district_code: str = "340303"  # the tier-1 unit this install serves
    timezone: str = "Asia/Shanghai"  # dates and "overdue" are evaluated here
    # Freezes "today" (GRIDRISK_CLOCK_DATE=2026-11-24): tests, training and screenshots of a
    # given day. Empty in production.
    clock_date: dt.date | None = None
    demo: bool = True  # load demo data into an empty managed cluster
    public_url: str = "http://localhost:8501"  # the dashboard's address as screens reach it (kiosk links)
    basemap: Basemap = Basemap()
    palette: Palette = Palette()
    map: MapDefaults = MapDefaults()
    wall: WallSettings = WallSettings()
    auth: Auth = Auth()

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        ZoneInfo(value)  # raises ZoneInfoNotFoundError naming the value
        return value

    @field_validator("public_url")
    @classmethod
    def _public_url(cls, value: str) -> str:
        if not re.match(r"^https?://[^/\s]+", value):
            raise ValueError(f"public_url {value!r} is not an http(s) address, e.g. http://10.0.0.5:8501")
        return value.rstrip("/")

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def today(self) -> dt.date:
        """Today in the bureau's time zone: the day "overdue" and the demo's dates refer to
        (``clock_date`` when set)."""
        return self.clock_date or dt.datetime.now(self.tz).date()

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        from pydantic_settings import DotEnvSettingsSource

        toml_path = Path(os.environ.get("GRIDRISK_SETTINGS", DEFAULT_SETTINGS_FILE))
        if "GRIDRISK_SETTINGS" in os.environ and not toml_path.is_file():
            raise FileNotFoundError(f"GRIDRISK_SETTINGS points to {toml_path}, which is not a file")
        local_env = DotEnvSettingsSource(settings_cls, env_file=LOCAL_ENV_FILE if LOCAL_ENV_FILE.is_file() else None)
        return (
            init_settings,
            env_settings,
            local_env,
            TomlConfigSettingsSource(settings_cls, toml_file=toml_path if toml_path.is_file() else None),
        )


@functools.cache
def get_settings() -> Settings:
    """The process's settings, loaded once (frozen; restart to change)."""
    return Settings()
