"""A server process on a free local port, healthy before use: the dashboard the browser tests
drive (tests/conftest.py ``serve_dashboard``) and the Streamlit pages the benchmarks time
(bench/_browser.py) start the same way."""

from __future__ import annotations

import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

__all__ = ["free_port", "wait_for_health", "streamlit_process"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_health(base_url: str, process: subprocess.Popen, timeout_s: float = 60, log: Path | None = None) -> None:
    """Poll the health endpoint until it answers (a condition, not a fixed sleep); the end of
    ``log`` goes into the error when the process exits or never answers."""

    def tail() -> str:
        return "\n" + log.read_text(errors="replace")[-2000:] if log is not None else ""

    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"app server exited with {process.returncode}{tail()}")
        try:
            with urllib.request.urlopen(f"{base_url}/_stcore/health", timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.2)
    raise TimeoutError(f"app server at {base_url} not healthy after {timeout_s} s{tail()}")


@contextmanager
def streamlit_process(cmd: list[str], *, env: dict[str, str], log: Path, cwd: Path) -> Iterator[str]:
    """``cmd`` (a Streamlit launch without port flags) on a free port, its output in ``log``;
    yields the base URL once healthy, terminates it on exit."""
    port = free_port()
    with log.open("w") as out:
        process = subprocess.Popen(
            [*cmd, f"--server.port={port}", "--server.address=127.0.0.1"],
            cwd=cwd,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        base_url = f"http://127.0.0.1:{port}"
        try:
            wait_for_health(base_url, process, log=log)
            yield base_url
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
