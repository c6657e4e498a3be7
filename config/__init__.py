"""Typed, frozen settings loaded once from the environment and an optional TOML file."""

from config.settings import Auth, Basemap, MapDefaults, Palette, Settings, get_settings

__all__ = ["Auth", "Basemap", "MapDefaults", "Palette", "Settings", "get_settings"]
