"""A throwaway PostgreSQL + PostGIS cluster for tests that stop a database.

Never the shared cluster: its own temp folder, port and socket. initdb and pg_ctl run as the
``postgres`` system user when the tests run as root (initdb refuses root), like pytest-postgresql's
process fixture would, which itself refuses to run as root.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from tests.support.cluster import cluster_state


def _pg_bin() -> Path:
    state = cluster_state()
    if state.get("PGBIN"):
        return Path(state["PGBIN"])
    candidates = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    if not candidates:
        raise FileNotFoundError("no PostgreSQL server binaries under /usr/lib/postgresql")
    return candidates[-1].parent


class ThrowawayCluster:
    def __init__(self, port: int):
        self.port = port
        self.bin = _pg_bin()
        self.root = Path(tempfile.mkdtemp(prefix="gridrisk-pg-"))
        self.data = self.root / "data"
        self.socket_dir = self.root / "run"
        self._as_root = os.geteuid() == 0

    def _run(self, *args: str) -> None:
        cmd = [str(self.bin / args[0]), *args[1:]]
        if self._as_root:
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        subprocess.run(cmd, check=True, capture_output=True, timeout=120)

    def init(self) -> ThrowawayCluster:
        self.socket_dir.mkdir(parents=True)
        os.chmod(self.root, 0o755)
        if self._as_root:
            shutil.chown(self.root, "postgres")
            shutil.chown(self.socket_dir, "postgres")
        self._run(
            "initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "--encoding=UTF8", "--locale=C.UTF-8"
        )
        with (self.data / "postgresql.conf").open("a") as conf:
            conf.write(
                f"port = {self.port}\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = '{self.socket_dir}'\n"
            )
        return self

    def start(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.root / "server.log"), "-w", "-t", "60", "start")

    def stop(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def destroy(self) -> None:
        try:
            self.stop()
        except subprocess.CalledProcessError:
            pass  # already stopped
        shutil.rmtree(self.root, ignore_errors=True)
