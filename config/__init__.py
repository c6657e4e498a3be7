"""Typed, frozen settings loaded once from the environment and an optional TOML file."""

from config.settings import Basemap, MapDefaults, Palette, Settings, get_settings

__all__ = ["Basemap", "MapDefaults", "Palette", "Settings", "get_settings"]
