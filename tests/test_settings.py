import datetime as dt
import itertools

import pytest
from pydantic import ValidationError

from config.settings import Palette, Settings
from geo.palette import MIN_LUMINANCE_GAP, contrast_ratio, luminance_conflicts, relative_luminance


@pytest.fixture(autouse=True)
def _isolated(monkeypatch, tmp_path):
    # Settings read env and a TOML file; keep the developer's own out of these tests.
    for name in ("DATABASE_URL", "DATABASE_ADMIN_URL", "GRIDRISK_SETTINGS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr("config.settings.DEFAULT_SETTINGS_FILE", tmp_path / "absent.toml")


def test_defaults_match_domain():
    s = Settings()
    assert s.timezone == "Asia/Shanghai"
    assert s.basemap.kind == "none"
    assert s.palette.grade_colours == {1: "#C8102E", 2: "#FF7F00", 3: "#FFE100", 4: "#4A90E2"}
    assert s.palette.colour_for(None) == "#B0B0B0"


def test_default_grade_colours_stay_apart_in_greyscale():
    colours = Palette().grade_colours
    luminance = {g: relative_luminance(c) for g, c in colours.items()}
    assert [round(luminance[g], 3) for g in (1, 2, 3, 4)] == [0.128, 0.364, 0.751, 0.269]
    for a, b in itertools.combinations(luminance, 2):
        assert abs(luminance[a] - luminance[b]) >= MIN_LUMINANCE_GAP


def test_palette_too_close_in_greyscale_is_refused():
    # A pure blue beside this red: both near 0.07-0.13 luminance, indistinguishable in greyscale.
    with pytest.raises(ValidationError, match="too close in greyscale.*grade 1 vs 4"):
        Palette(grade_4="#1F3FBF")
    assert luminance_conflicts({1: "#C8102E", 4: "#1F3FBF"})


def test_palette_rejects_malformed_colour():
    with pytest.raises(ValidationError, match="#RRGGBB"):
        Palette(grade_1="red")


def test_settings_are_frozen():
    with pytest.raises(ValidationError):
        Settings().timezone = "UTC"


def test_env_overrides_nested_values(monkeypatch):
    monkeypatch.setenv("GRIDRISK_BASEMAP__KIND", "custom")
    monkeypatch.setenv("GRIDRISK_BASEMAP__CUSTOM_URL", "http://tiles.intranet/{z}/{x}/{y}.png")
    monkeypatch.setenv("DATABASE_URL", "postgresql://app@db/gridrisk")
    s = Settings()
    assert s.basemap.kind == "custom"
    assert s.database_url == "postgresql://app@db/gridrisk"


def test_tianditu_without_key_is_refused_with_the_fix(monkeypatch):
    monkeypatch.setenv("GRIDRISK_BASEMAP__KIND", "tianditu")
    with pytest.raises(ValidationError, match="GRIDRISK_BASEMAP__TIANDITU_KEY"):
        Settings()


def test_unknown_timezone_is_refused(monkeypatch):
    monkeypatch.setenv("GRIDRISK_TIMEZONE", "Mars/Olympus")
    with pytest.raises(Exception, match="Mars/Olympus"):
        Settings()


def test_settings_file(monkeypatch, tmp_path):
    toml = tmp_path / "site.toml"
    toml.write_text('bureau_name = "烟台高新区应急管理局"\n[palette]\ngrade_4 = "#2F80ED"\n', encoding="utf-8")
    monkeypatch.setenv("GRIDRISK_SETTINGS", str(toml))
    s = Settings()
    assert s.bureau_name == "烟台高新区应急管理局"
    assert s.palette.grade_4 == "#2F80ED"


def test_missing_settings_file_is_an_error(monkeypatch, tmp_path):
    monkeypatch.setenv("GRIDRISK_SETTINGS", str(tmp_path / "nope.toml"))
    with pytest.raises(FileNotFoundError, match="nope.toml"):
        Settings()


def test_contrast_ratio_extremes():
    assert contrast_ratio("#FFFFFF", "#000000") == pytest.approx(21.0)
    assert contrast_ratio("#777777", "#777777") == pytest.approx(1.0)


def test_the_clock_can_be_frozen_for_tests_and_training(monkeypatch):
    monkeypatch.setenv("GRIDRISK_CLOCK_DATE", "2026-11-25")
    assert Settings().today() == dt.date(2026, 11, 25)
    monkeypatch.delenv("GRIDRISK_CLOCK_DATE")
    assert Settings().clock_date is None
