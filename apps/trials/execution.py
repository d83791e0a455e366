"""The worker side of one trial: claim it, materialise its files, run the trial runner
subprocess, stream its log records into rows, record how it ended, schedule what comes next.

Every write after the claim is conditional on (trial, attempt, RUNNING): if the reconciler
gave the trial to another worker meanwhile, or a duplicate delivery claimed it, this worker's
writes match no row and it stops.
"""

from __future__ import annotations

import hashlib
import logging
import math
import os
import shutil
import socket
import time
import traceback
from datetime import datetime
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.files import File
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from apps.trials.metric_summary import trial_metric_summary_on_rows
from apps.trials.models import TrainJob, Trial, TrialLog
from apps.trials.services import train_job_schedule

log = logging.getLogger(__name__)

_MAX_MESSAGE_CHARS = 10_000
_MAX_TEXT_CHARS = 64 * 1024
_LOG_TIME_FORMAT = "%Y-%m-%dT%H:%M:%S"


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def trial_claim(*, trial_id: int, worker: str) -> int | None:
    """Take a PENDING trial of an active job: PENDING -> RUNNING with attempt + 1, in one
    conditional UPDATE. Returns the new attempt number, or None when another delivery (or the
    reconciler, or a stop) got there first."""
    now = timezone.now()
    with transaction.atomic():
        claimed = Trial.objects.filter(
            pk=trial_id,
            status=Trial.Status.PENDING,
            job__status__in=TrainJob.ACTIVE_STATES,
        ).update(
            status=Trial.Status.RUNNING,
            attempt=F("attempt") + 1,
            worker=worker,
            heartbeat_at=now,
            datetime_started=now,
        )
        if not claimed:
            return None
        trial = Trial.objects.only("attempt", "job_id").get(pk=trial_id)
        if trial.attempt > 1:
            # Rows of a lost attempt would interleave with this attempt's: start clean.
            TrialLog.objects.filter(trial_id=trial_id).delete()
        TrainJob.objects.filter(pk=trial.job_id, status=TrainJob.Status.STARTED).update(
            status=TrainJob.Status.RUNNING
        )
    return trial.attempt


def _still_mine(trial_id: int, attempt: int) -> Any:
    return Trial.objects.filter(
        pk=trial_id,
        attempt=attempt,
        status=Trial.Status.RUNNING,
        job__status__in=TrainJob.ACTIVE_STATES,
    )


# --- files ----------------------------------------------------------------------------------


def _cached_copy(storage_name: str, cache_key: str, suffix: str, checksum: str | None) -> str:
    """A local copy of a stored file in this worker's cache, named by content (checksum), so
    the many trials of a job copy each file once. Concurrent pool processes race safely:
    each writes its own temporary file and renames it into place."""
    cache = Path(settings.WORKER_DIR) / "cache"
    cache.mkdir(parents=True, exist_ok=True)
    path = cache / f"{cache_key}{suffix}"
    if path.exists():
        return str(path)
    tmp = cache / f".{cache_key}.{os.getpid()}.tmp"
    digest = hashlib.sha256()
    with default_storage.open(storage_name, "rb") as src, open(tmp, "wb") as dst:
        for chunk in iter(lambda: src.read(1024 * 1024), b""):
            digest.update(chunk)
            dst.write(chunk)
    if checksum and digest.hexdigest() != checksum:
        tmp.unlink(missing_ok=True)
        raise RuntimeError(f"stored file {storage_name} does not match its checksum")
    os.replace(tmp, path)
    return str(path)


def _trial_spec(trial: Trial) -> dict[str, Any]:
    job = trial.job
    model = trial.sub_job.model
    spec: dict[str, Any] = {
        "model_file": _cached_copy(model.model_file.name, model.checksum, ".py", model.checksum),
        "model_class": model.model_class,
        "knobs": trial.knobs,
        "train_dataset_path": _cached_copy(
            job.train_dataset.data_file.name,
            job.train_dataset.checksum,
            job.train_dataset.file_suffix,
            job.train_dataset.checksum,
        ),
        "val_dataset_path": _cached_copy(
            job.val_dataset.data_file.name,
            job.val_dataset.checksum,
            job.val_dataset.file_suffix,
            job.val_dataset.checksum,
        ),
        "train_args": job.train_args,
        "shared_params_path": None,
    }
    source = trial.shared_params_from
    if source is not None and source.is_params_saved:
        key = "params-" + hashlib.sha256(source.params_file.name.encode()).hexdigest()[:32]
        spec["shared_params_path"] = _cached_copy(source.params_file.name, key, ".rafiki", None)
    return spec


_INPUT_KEYS = ("model_file", "train_dataset_path", "val_dataset_path", "shared_params_path")


def _clear_folder(folder: Path) -> None:
    """Empty ``folder`` but keep it: the warm-start zygote has it bound into its sandbox, and
    a folder made again at the same path would not be the one it sees."""
    folder.mkdir(parents=True, exist_ok=True)
    for entry in os.scandir(folder):
        if entry.is_dir(follow_symlinks=False):
            shutil.rmtree(entry.path, ignore_errors=True)
        else:
            Path(entry.path).unlink(missing_ok=True)


def _stage_inputs(spec: dict[str, Any], inputs: Path) -> dict[str, Any]:
    """Point the trial at links to its own input files in ``inputs`` (emptied first), the
    only input folder its sandbox shows: the worker's file cache holds the files of every
    job this worker ran, other users' datasets included."""
    _clear_folder(inputs)
    staged = dict(spec)
    for key in _INPUT_KEYS:
        source = spec.get(key)
        if not source:
            continue
        target = inputs / os.path.basename(source)
        if not target.exists():
            try:
                os.link(source, target)  # the cache and this folder share a file system
            except OSError:
                shutil.copyfile(source, target)
        staged[key] = str(target)
    return staged


def _limits(job: TrainJob) -> Any:
    from rafiki.runner.limits import Limits

    on_gpu = job.queue == settings.CELERY_GPU_QUEUE
    return Limits(
        wall_seconds=float(settings.TRIAL_TIMEOUT_SECONDS),
        cpu_seconds=settings.TRIAL_CPU_SECONDS,
        # GPU frameworks reserve huge address spaces; RLIMIT_AS would break them.
        memory_mb=None if on_gpu else settings.TRIAL_MEMORY_MB,
        file_size_mb=settings.TRIAL_FILE_SIZE_MB,
        open_files=settings.TRIAL_OPEN_FILES,
        threads=settings.TRIAL_THREADS,
        # A GPU worker is started with the GPUs it owns in CUDA_VISIBLE_DEVICES.
        cuda_visible_devices=os.environ.get("CUDA_VISIBLE_DEVICES", "") if on_gpu else "",
        max_params_mb=settings.TRIAL_MAX_PARAMS_MB,
        max_events=settings.TRIAL_MAX_LOG_ROWS,
        poll_interval=settings.TRIAL_POLL_SECONDS,
    )


# --- live callbacks -------------------------------------------------------------------------


def _log_time(value: Any, fallback: datetime) -> datetime:
    if isinstance(value, str):
        try:
            # The SDK writes the trial process's local time without a zone.
            return datetime.strptime(value, _LOG_TIME_FORMAT).astimezone()
        except ValueError:
            pass
    return fallback


def _log_row(trial_id: int, record: dict[str, Any], now: datetime) -> TrialLog | None:
    kind = record.get("type")
    if kind not in TrialLog.Type.values:
        return None
    payload = {k: v for k, v in record.items() if k not in ("type", "time")}
    if kind == TrialLog.Type.MESSAGE:
        payload["message"] = str(payload.get("message", ""))[:_MAX_MESSAGE_CHARS]
    return TrialLog(
        trial_id=trial_id, time=_log_time(record.get("time"), now), type=kind, payload=payload
    )


class TrialSession:
    """The runner's callbacks for one claimed attempt: store log batches, beat the heart,
    and tell the runner to stop when the claim is lost or the job was stopped."""

    def __init__(self, trial_id: int, attempt: int) -> None:
        self.trial_id = trial_id
        self.attempt = attempt
        self.lost = False
        self._last_beat = time.monotonic()

    def on_events(self, records: list[dict[str, Any]]) -> None:
        now = timezone.now()
        rows = [row for r in records if (row := _log_row(self.trial_id, r, now)) is not None]
        with transaction.atomic():
            if not _still_mine(self.trial_id, self.attempt).update(heartbeat_at=now):
                self.lost = True
                return
            TrialLog.objects.bulk_create(rows, batch_size=500)
        trial_metric_summary_on_rows(trial_id=self.trial_id, attempt=self.attempt, rows=rows)
        self._last_beat = time.monotonic()

    def on_heartbeat(self) -> None:
        if self.lost or time.monotonic() - self._last_beat < settings.TRIAL_HEARTBEAT_SECONDS:
            return
        self._last_beat = time.monotonic()
        if not _still_mine(self.trial_id, self.attempt).update(heartbeat_at=timezone.now()):
            self.lost = True

    def should_stop(self) -> bool:
        return self.lost


# --- recording ------------------------------------------------------------------------------


def _clip(text: str | None, limit: int = _MAX_TEXT_CHARS) -> str:
    text = text or ""
    return text if len(text) <= limit else "[...]\n" + text[-limit:]


def _record(trial: Trial, attempt: int, fields: dict[str, Any]) -> bool:
    now = timezone.now()
    return bool(
        Trial.objects.filter(pk=trial.pk, attempt=attempt, status=Trial.Status.RUNNING).update(
            datetime_stopped=now, heartbeat_at=now, **fields
        )
    )


def _record_outcome(trial: Trial, attempt: int, outcome: Any) -> None:
    fields: dict[str, Any] = {
        "end_reason": outcome.end_reason or "",
        "error": _clip(outcome.error, 10_000),
        "traceback": _clip(outcome.traceback),
        "stdout_tail": _clip(outcome.stdout_tail),
        "stderr_tail": _clip(outcome.stderr_tail),
    }
    stored_params = ""
    score = outcome.score
    completed = outcome.status == "COMPLETED"
    if completed and (
        score is None or not isinstance(score, (int, float)) or not math.isfinite(score)
    ):
        completed = False
        fields.update(
            end_reason=Trial.PlatformEndReason.INVALID_OUTPUT,
            error=f"The trial reported no finite score ({score!r}).",
        )
    if completed and outcome.params_path:
        size = os.path.getsize(outcome.params_path)
        if size > settings.TRIAL_MAX_PARAMS_MB * 2**20:
            completed = False
            fields.update(
                end_reason=Trial.PlatformEndReason.INVALID_OUTPUT,
                error=f"The parameters file is {size} bytes, over the limit.",
            )
        else:
            with open(outcome.params_path, "rb") as handle:
                stored_params = default_storage.save(
                    f"params/{trial.job_id}/trial-{trial.pk}-{attempt}.rafiki", File(handle)
                )
    if completed:
        fields.update(status=Trial.Status.COMPLETED, score=float(score))
        if stored_params:
            fields.update(params_file=stored_params, is_params_saved=True)
    else:
        fields.update(status=Trial.Status.ERRORED, score=None)
    if not _record(trial, attempt, fields) and stored_params:
        default_storage.delete(stored_params)  # a newer attempt owns the trial now


def trial_execute(*, trial_id: int) -> None:
    """Run one trial end to end on this worker (the body of the `trials.run_trial` task).

    Never raises for a trial's failure: the model's errors, the runner's verdicts and this
    platform's own failures are all recorded on the trial; then the job is scheduled on.
    """
    from rafiki.runner.supervise import run_trial

    attempt = trial_claim(trial_id=trial_id, worker=worker_name())
    if attempt is None:
        return
    trial = Trial.objects.select_related(
        "job__train_dataset", "job__val_dataset", "sub_job__model", "shared_params_from"
    ).get(pk=trial_id)
    # One trials root and one inputs folder per pool process (it runs one trial at a time):
    # its warm-start zygote binds the root writable and the inputs folder read-only.
    trials_root = Path(settings.WORKER_DIR) / "trials" / f"w{os.getpid()}"
    inputs = Path(settings.WORKER_DIR) / "inputs" / f"w{os.getpid()}"
    workdir = trials_root / f"{trial_id}-{attempt}"
    try:
        spec = _stage_inputs(_trial_spec(trial), inputs)
        session = TrialSession(trial_id, attempt)
        outcome = run_trial(
            spec,
            str(workdir),
            _limits(trial.job),
            on_events=session.on_events,
            on_heartbeat=session.on_heartbeat,
            should_stop=session.should_stop,
        )
        _record_outcome(trial, attempt, outcome)
    except Exception:
        log.exception("trial %s attempt %s failed in the platform", trial_id, attempt)
        _record(
            trial,
            attempt,
            {
                "status": Trial.Status.ERRORED,
                "end_reason": Trial.PlatformEndReason.PLATFORM_ERROR,
                "error": "The platform failed to run this trial (see traceback).",
                "traceback": _clip(traceback.format_exc()),
            },
        )
    finally:
        _clear_folder(inputs)
        if not settings.TRIAL_KEEP_WORKDIR:
            # All of the root, not only the working folder: nothing one trial leaves in the
            # writable root may reach the next trial (another user's, perhaps).
            _clear_folder(trials_root)
    train_job_schedule(job_id=trial.job_id)
