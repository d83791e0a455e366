"""The inference worker: a long-running process (``manage.py inference_worker``) on a worker
machine that serves trials of inference jobs, one thread and one confined model process per
served trial.

Claims are rows (``InferenceWorker``) taken with a conditional UPDATE and kept alive by a
heartbeat; a process that vanishes leaves stale claims that another inference worker takes
over. Queries arrive through Redis (``rafiki.predictor.bus``), so any number of web processes
and inference workers on any machines cooperate.

Why threads and not Celery tasks: a served trial lives for days, which fits neither Celery's
time limits nor the broker's visibility timeout (a long unacknowledged task is redelivered);
the heavy work happens in the model's own process anyway.
"""

from __future__ import annotations

import collections
import hashlib
import logging
import os
import shutil
import threading
import time
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import close_old_connections, connection

from apps.inference.models import InferenceWorker
from apps.inference.predictor import prediction_bus
from apps.inference.services import (
    inference_worker_crashed,
    inference_worker_failed,
    inference_worker_on_cpu,
    inference_worker_ready,
    inference_worker_release,
    inference_workers_claim,
    inference_workers_heartbeat,
)
from apps.trials.execution import _cached_copy, worker_name
from rafiki.predictor.bus import PredictionBus, Request
from rafiki.runner.limits import Limits
from rafiki.runner.serving import ModelCrashedError, ModelLoadError, ModelPredictError, ServedModel

log = logging.getLogger(__name__)

#: Longest wait on Redis for a request before the thread checks whether it should stop.
_BLOCK_SECONDS = 1.0
#: A served model lives as long as its job: no wall-clock or CPU-time limit applies.
_FOREVER = 10.0**9


def worker_gpus() -> str:
    """The GPUs this inference worker owns: like a GPU Celery worker, it is started with them
    in CUDA_VISIBLE_DEVICES ("" or "-1": none)."""
    devices = os.environ.get("CUDA_VISIBLE_DEVICES", "").strip()
    return "" if devices in ("", "-1") else devices


def serving_limits(*, gpus: str) -> Limits:
    """Limits of a model process; ``gpus`` are the devices it sees ("" hides every GPU)."""
    return Limits(
        wall_seconds=_FOREVER,
        cpu_seconds=int(_FOREVER),
        # GPU frameworks reserve huge address spaces; RLIMIT_AS would break them.
        memory_mb=None if gpus else settings.INFERENCE_MEMORY_MB,
        file_size_mb=settings.TRIAL_FILE_SIZE_MB,
        open_files=settings.TRIAL_OPEN_FILES,
        threads=settings.TRIAL_THREADS,
        cuda_visible_devices=gpus,
    )


#: The trials' file cache names its temporary files by process, not by thread: the threads of
#: one inference worker fetch files one at a time.
_FETCH_LOCK = threading.Lock()


def _serve_spec(worker: InferenceWorker) -> dict[str, Any]:
    trial = worker.trial
    model = trial.sub_job.model
    key = "params-" + hashlib.sha256(trial.params_file.name.encode()).hexdigest()[:32]
    return {
        "model_file": _cached_copy(model.model_file.name, model.checksum, ".py", model.checksum),
        "model_class": model.model_class,
        "knobs": trial.knobs,
        "params_path": _cached_copy(trial.params_file.name, key, ".rafiki", None),
    }


class _GiveUp(Exception):
    """The trial cannot be served any more (recorded as the job's error)."""


class TrialServer(threading.Thread):
    """Serves one claimed trial until told to stop or the trial fails for good."""

    def __init__(self, worker_id: int, attempt: int) -> None:
        super().__init__(name=f"inference-worker-{worker_id}", daemon=True)
        self.worker_id = worker_id
        self.attempt = attempt
        self.stopping = threading.Event()
        self.crash_times: collections.deque[float] = collections.deque()
        self.served: ServedModel | None = None

    def run(self) -> None:
        try:
            self._serve()
        except _GiveUp:
            pass
        except Exception:
            # The platform failed (storage, database...): the claim lapses and another
            # inference worker (or this one) takes the trial up again.
            log.exception("inference worker %s failed; its claim will lapse", self.worker_id)
        finally:
            if self.served is not None:
                self.served.close()
                shutil.rmtree(self.served.workdir, ignore_errors=True)
            connection.close()

    def _serve(self) -> None:
        worker = InferenceWorker.objects.select_related(
            "trial__sub_job__model", "job__train_job"
        ).get(pk=self.worker_id)
        self.job_id, self.trial_id = worker.job_id, worker.trial_id
        workdir = Path(settings.WORKER_DIR) / "inference" / f"{self.worker_id}-{self.attempt}"
        try:
            with _FETCH_LOCK:
                spec = _serve_spec(worker)
        except Exception as e:  # a missing or altered file would fail on every worker alike
            log.exception("inference worker %s: the trial's files are unavailable", self.worker_id)
            inference_worker_failed(
                worker_id=self.worker_id,
                attempt=self.attempt,
                error=f"the trial's model file or parameters could not be fetched: {e}",
            )
            raise _GiveUp from None
        gpus = ""
        gpus_wanted = worker.job.gpu_count
        if gpus_wanted > 0:
            gpus = worker_gpus()
            if not gpus:
                inference_worker_on_cpu(
                    worker_id=self.worker_id,
                    attempt=self.attempt,
                    reason=f"GPU_COUNT is {gpus_wanted} but the inference worker serving it "
                    "has no GPU (it was started without CUDA_VISIBLE_DEVICES).",
                )
        self.served = ServedModel(spec, str(workdir), serving_limits(gpus=gpus))
        self._start()
        inference_worker_ready(worker_id=self.worker_id, attempt=self.attempt, pid=self.served.pid)
        bus = prediction_bus()
        while not self.stopping.is_set():
            if not self.served.running:
                self._crashed(self.served.close() or "the model process ended")
                continue
            requests = bus.take(
                self.job_id,
                self.trial_id,
                block_seconds=_BLOCK_SECONDS,
                max_requests=settings.INFERENCE_MAX_BATCH_REQUESTS,
            )
            if requests:
                self._answer(bus, requests)

    def _start(self) -> None:
        assert self.served is not None
        try:
            self.served.start(settings.INFERENCE_LOAD_TIMEOUT_SECONDS)
        except (ModelLoadError, ModelCrashedError) as e:
            error = e.error if isinstance(e, ModelLoadError) else str(e)
            tb = e.traceback if isinstance(e, ModelLoadError) else ""
            inference_worker_failed(
                worker_id=self.worker_id,
                attempt=self.attempt,
                error=f"the model failed to load its parameters: {error}",
                traceback=tb,
            )
            raise _GiveUp from None

    def _crashed(self, reason: str) -> None:
        """The model process died: restart it, unless it died too often lately."""
        now = time.monotonic()
        self.crash_times.append(now)
        while (
            self.crash_times and now - self.crash_times[0] > settings.INFERENCE_CRASH_WINDOW_SECONDS
        ):
            self.crash_times.popleft()
        log.warning("inference worker %s: %s", self.worker_id, reason)
        if len(self.crash_times) >= settings.INFERENCE_MAX_CRASHES:
            inference_worker_failed(
                worker_id=self.worker_id,
                attempt=self.attempt,
                error=(
                    f"the model process crashed {len(self.crash_times)} times within "
                    f"{settings.INFERENCE_CRASH_WINDOW_SECONDS:g} s; the last time: {reason}"
                ),
            )
            raise _GiveUp
        self._start()
        assert self.served is not None
        if not inference_worker_crashed(
            worker_id=self.worker_id, attempt=self.attempt, reason=reason, pid=self.served.pid
        ):
            raise _GiveUp  # the claim went elsewhere or the job stopped meanwhile

    def _answer(
        self, bus: PredictionBus, requests: list[Request], *, retried: bool = False
    ) -> None:
        assert self.served is not None
        try:
            predictions = self.served.predict_encoded(
                [r.queries_json for r in requests],
                sum(r.count for r in requests),
                settings.INFERENCE_PREDICT_TIMEOUT_SECONDS,
            )
        except ModelPredictError as e:
            if len(requests) > 1:
                # Batched requests: find out which one the model failed on.
                for request in requests:
                    self._answer(bus, [request], retried=retried)
                return
            bus.reply(requests[0], self.trial_id, error=e.error)
            return
        except ModelCrashedError as e:
            try:
                self._crashed(str(e))
            except _GiveUp:
                error = f"the model process crashed: {e}"
                bus.reply_all(self.trial_id, [(r, None, error) for r in requests])
                raise
            if not retried:
                self._answer(bus, requests, retried=True)
                return
            error = f"the model process crashed on this query: {e}"
            bus.reply_all(self.trial_id, [(r, None, error) for r in requests])
            return
        replies = []
        start = 0
        for request in requests:
            end = start + request.count
            replies.append((request, predictions[start:end], None))
            start = end
        bus.reply_all(self.trial_id, replies)


def run_inference_worker(*, stop: threading.Event, slots: int | None = None) -> None:
    """Serve trials until ``stop`` is set: claim what needs a process, beat the heart of what
    this process holds, stop threads whose job stopped or whose claim was taken over."""
    slots = slots or settings.INFERENCE_WORKER_SLOTS
    host = worker_name()
    servers: dict[int, TrialServer] = {}
    log.info("inference worker %s serving up to %s trials", host, slots)
    try:
        while not stop.is_set():
            close_old_connections()
            for worker_id, server in list(servers.items()):
                if not server.is_alive():
                    del servers[worker_id]
            held = [(w, s.attempt) for w, s in servers.items()]
            valid = inference_workers_heartbeat(host=host, held=held)
            for worker_id, server in servers.items():
                if (worker_id, server.attempt) not in valid:
                    server.stopping.set()
            free = slots - len(servers)
            if free > 0:
                for worker_id, attempt in inference_workers_claim(host=host, limit=free):
                    server = TrialServer(worker_id, attempt)
                    servers[worker_id] = server
                    server.start()
            stop.wait(settings.INFERENCE_POLL_SECONDS)
    finally:
        for server in servers.values():
            server.stopping.set()
        for server in servers.values():
            server.join(timeout=10)
        # Give the claims back so that another inference worker serves them at once.
        inference_worker_release(host=host, held=[(w, s.attempt) for w, s in servers.items()])
        connection.close()
