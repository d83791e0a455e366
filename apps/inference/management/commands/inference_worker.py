"""`python manage.py inference_worker`: serve inference jobs' trials on this machine.

Run one on every machine that should serve models (`make run` starts one). Stops on SIGTERM
or Ctrl-C, giving its trials back to the other inference workers."""

from __future__ import annotations

import signal
import threading
from typing import Any

from django.core.management.base import BaseCommand

from apps.inference.worker import run_inference_worker


class Command(BaseCommand):
    help = "Serve the trials of inference jobs (one model process per served trial)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--slots", type=int, default=None, help="trials served at most (INFERENCE_WORKER_SLOTS)"
        )

    def handle(self, *args: Any, slots: int | None = None, **options: Any) -> None:
        stop = threading.Event()

        def on_signal(signum: int, frame: object) -> None:
            stop.set()

        signal.signal(signal.SIGTERM, on_signal)
        signal.signal(signal.SIGINT, on_signal)
        run_inference_worker(stop=stop, slots=slots)
