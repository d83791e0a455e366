"""Gunicorn settings of the web servers `make run` starts (the dashboard and `/api/` on
WEB_PORT, the Rafiki-compatible admin API on ADMIN_PORT), and the command that starts one.

Threaded workers (``gthread``): a predict request spends most of its time waiting on Redis
for the trials' answers, which releases the GIL, so a few processes with several threads
each keep many predictions in flight on a small machine. Gunicorn sets TCP_NODELAY on its
listening socket and Linux passes it on to every accepted connection, so a response is not
held back waiting for the client's delayed ACK (runserver's ~40 ms stalls).

Read by gunicorn as a config module (``-c python:rafiki_web.gunicorn_conf``); every value
comes from the environment through the typed helpers, so a bad value stops the server.
"""

from __future__ import annotations

import sys

from rafiki_web.env import env_int, env_str

wsgi_app = "rafiki_web.wsgi:application"
worker_class = "gthread"
#: Processes per server; each serves WEB_THREADS requests at once.
workers = env_int("WEB_WORKERS", 2, minimum=1)
threads = env_int("WEB_THREADS", 8, minimum=1)
#: Connections waiting to be accepted (runserver's was 10: a burst of clients was reset).
#: The kernel caps it at net.core.somaxconn.
backlog = 2048
#: Idle keep-alive connections are held by the worker's poller, not by a thread.
keepalive = 5
#: The supervisor (scripts/run.py) waits 15 s after SIGTERM before it kills: requests in
#: flight get 10 s to finish.
graceful_timeout = 10
#: Off unless WEB_ACCESS_LOG names a file ("-": the terminal).
accesslog = env_str("WEB_ACCESS_LOG") or None
#: Start-up banners would bury the URLs `make run` prints; problems still show. Any other
#: gunicorn option can be given in GUNICORN_CMD_ARGS (e.g. "--log-level info").
loglevel = "warning"
#: Gunicorn >= 25 opens a control socket at one fixed path per user: the two servers (and
#: any test's) would fight over it, and nothing here uses it.
control_socket_disable = True


def web_server_command(bind: str, *, python: str | None = None) -> list[str]:
    """The argv that serves ``rafiki_web.wsgi`` on ``bind`` ("host:port") with these
    settings; set ROOT_URLCONF=apps.compat.urls in its environment for the admin API."""
    return [
        python or sys.executable,
        "-m",
        "gunicorn",
        "--config",
        "python:rafiki_web.gunicorn_conf",
        "--bind",
        bind,
    ]
