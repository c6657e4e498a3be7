"""Launch the dashboard with streamlit_config.toml applied.

Streamlit reads only ``.streamlit/config.toml`` files; this launcher turns every option of the
project's ``streamlit_config.toml`` into a ``--section.option=value`` flag. Extra arguments
(e.g. ``--server.port=8600``) come after and win.

    python -m dashboard.serve [--server.port=8600 ...]
"""

from __future__ import annotations

import os
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CONFIG_FILE = ROOT / "streamlit_config.toml"
MAIN_SCRIPT = ROOT / "dashboard" / "app.py"  # Home.py with the login endpoints, as one st.App


def _flag_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ",".join(map(str, value))
    return str(value)


def config_flags(config_file: Path = CONFIG_FILE) -> list[str]:
    """``streamlit_config.toml`` as command-line flags."""
    with config_file.open("rb") as fh:
        config = tomllib.load(fh)
    return [
        f"--{section}.{option}={_flag_value(value)}"
        for section, options in config.items()
        for option, value in options.items()
    ]


def command(extra: list[str]) -> list[str]:
    return [sys.executable, "-m", "streamlit", "run", str(MAIN_SCRIPT), *config_flags(), *extra]


def main() -> None:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    cmd = command(sys.argv[1:])
    os.execvpe(cmd[0], cmd, env)


if __name__ == "__main__":
    main()
