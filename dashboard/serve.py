"""Launch the dashboard with streamlit_config.toml applied, and keep its data current.

Streamlit reads only ``.streamlit/config.toml`` files; this launcher turns every option of the
project's ``streamlit_config.toml`` into a ``--section.option=value`` flag. Extra arguments
(e.g. ``--server.port=8600``) come after and win.

    python -m dashboard.serve [--server.port=8600 ...]

The launcher stays in front of the Streamlit process as a small supervisor: once a day (at
start-up and after midnight in the bureau's time zone) it runs the daily upkeep
(loaders/upkeep.py: stored risk grades as of today, the demo's dates) with the owner's
connection, so a long-running install never shows yesterday's colours without anybody setting
up cron. Without the owner's URL (DATABASE_ADMIN_URL) it says so once and only serves.
Signals (Ctrl-C, SIGTERM) are passed to Streamlit; the launcher exits with its status.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CONFIG_FILE = ROOT / "streamlit_config.toml"
MAIN_SCRIPT = ROOT / "dashboard" / "app.py"  # Home.py with the login endpoints, as one st.App
UPKEEP_CHECK_S = 60.0  # how often the supervisor looks at the date (the upkeep runs once a day)


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


def _log(message: str) -> None:
    print(f"[upkeep] {message}", file=sys.stderr, flush=True)


class DailyUpkeep:
    """Runs the daily upkeep once per day in the bureau's time zone, from a background thread."""

    def __init__(self) -> None:
        self.done_for = None  # the day the upkeep last completed
        self.stop = threading.Event()

    def run_once(self) -> None:
        from config import get_settings

        today = get_settings().today()
        if self.done_for == today:
            return
        from db.engine import create_admin_engine
        from loaders.upkeep import daily_upkeep

        engine = create_admin_engine()
        try:
            done = daily_upkeep(engine, say=_log)
        finally:
            engine.dispose()
        self.done_for = today
        _log(f"{today}: " + ("、".join(done) if done else "数据已是最新"))

    def loop(self) -> None:
        from config import get_settings

        if not get_settings().database_admin_url:
            _log(
                "未配置 DATABASE_ADMIN_URL：不自动每日重算风险等级（请用 cron 运行 python -m loaders regrade --if-stale）"
            )
            return
        while not self.stop.is_set():
            try:
                self.run_once()
            except Exception as exc:  # a failed upkeep is retried; the app keeps serving
                _log(f"每日维护失败，稍后重试: {type(exc).__name__}: {exc}")
            self.stop.wait(UPKEEP_CHECK_S)


def main() -> None:
    os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    sys.path.insert(0, str(ROOT))
    streamlit = subprocess.Popen(command(sys.argv[1:]))

    def forward(signum, _frame) -> None:
        streamlit.send_signal(signum)

    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, forward)
    upkeep = DailyUpkeep()
    threading.Thread(target=upkeep.loop, name="daily-upkeep", daemon=True).start()
    status = streamlit.wait()
    upkeep.stop.set()
    sys.exit(status)


if __name__ == "__main__":
    main()
