"""Writes of inference jobs and their workers: create, stop, and the transitions the
inference workers report (claimed, loaded, crashed, failed)."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from apps.accounts.models import User
from apps.inference.models import InferenceJob, InferenceWorker
from apps.trials.models import TrainJob, Trial
from rafiki.constants import BudgetOption

log = logging.getLogger(__name__)


class InvalidTrainJobError(ValidationError):
    """The train job cannot be served (not STOPPED, or no trial with saved parameters)."""


class RunningInferenceJobExistsError(ValidationError):
    """The train job already has an inference job STARTED or RUNNING."""


class InvalidInferenceJobError(ValidationError):
    """A request about an inference job that cannot be honoured (bad parameters)."""


def served_trials_pick(*, train_job: TrainJob, max_trials: int) -> list[Trial]:
    """The trials to serve, best first: the best trial of each model (so several tuned models
    are all represented), then the next best trials of any model, up to ``max_trials``."""
    trials = list(
        Trial.objects.filter(
            job=train_job, status=Trial.Status.COMPLETED, score__isnull=False, is_params_saved=True
        )
        .select_related("sub_job__model")
        .order_by("-score", "number")
    )
    picked: list[Trial] = []
    models_seen: set[int] = set()
    for trial in trials:
        if trial.sub_job.model_id not in models_seen:
            models_seen.add(trial.sub_job.model_id)
            picked.append(trial)
    for trial in trials:
        if trial not in picked:
            picked.append(trial)
    picked = picked[:max_trials]
    picked.sort(key=lambda t: (-(t.score or 0.0), t.number))
    return picked


def inference_budget_validate(budget: dict[str, Any] | None) -> dict[str, Any]:
    """The budget of an inference job: ``GPU_COUNT`` (default 0) is a whole number >= 0,
    other keys are kept as given. Raises ``InvalidInferenceJobError``."""
    budget = dict(budget or {})
    gpus = budget.get(BudgetOption.GPU_COUNT, 0)
    if isinstance(gpus, bool) or not isinstance(gpus, int) or gpus < 0:
        raise InvalidInferenceJobError(
            f"budget GPU_COUNT must be a whole number >= 0, got {gpus!r}"
        )
    return budget


@transaction.atomic
def inference_job_create(
    *,
    owner: User,
    train_job: TrainJob,
    max_trials: int | None = None,
    budget: dict[str, Any] | None = None,
) -> InferenceJob:
    """Serve the best trials of a STOPPED train job of ``owner``.

    Raises ``InvalidTrainJobError`` (the job is not STOPPED, is not the owner's, or has no
    completed trial with saved parameters) or ``RunningInferenceJobExistsError``. The job
    starts STARTED; inference workers (``manage.py inference_worker``) claim its trials,
    and it becomes RUNNING when every trial is loaded. With ``GPU_COUNT`` > 0 in the budget
    a worker started with GPUs serves on them; one without serves on CPU and the job's
    ``note`` says so (``inference_worker_on_cpu``)."""
    if max_trials is None:
        max_trials = settings.INFERENCE_MAX_TRIALS
    if max_trials < 1:
        raise InvalidInferenceJobError("max_trials must be at least 1")
    budget = inference_budget_validate(budget)
    locked = TrainJob.objects.select_for_update().filter(pk=train_job.pk, owner=owner).first()
    if locked is None:
        raise InvalidTrainJobError(f"train job {train_job.pk} is not one of your jobs")
    if locked.status != TrainJob.Status.STOPPED:
        raise InvalidTrainJobError(
            f"train job {locked} is {locked.status}; an inference job needs a STOPPED train job"
        )
    if InferenceJob.objects.filter(
        train_job=locked, status__in=InferenceJob.ACTIVE_STATES
    ).exists():
        raise RunningInferenceJobExistsError(
            f"train job {locked} already has a running inference job; stop it first"
        )
    trials = served_trials_pick(train_job=locked, max_trials=max_trials)
    if not trials:
        raise InvalidTrainJobError(
            f"train job {locked} has no completed trial with saved parameters to serve"
        )
    try:
        with transaction.atomic():
            job = InferenceJob.objects.create(
                owner=owner, train_job=locked, max_trials=max_trials, budget=budget
            )
    except IntegrityError:  # a concurrent create won the partial unique constraint
        raise RunningInferenceJobExistsError(
            f"train job {locked} already has a running inference job; stop it first"
        ) from None
    InferenceWorker.objects.bulk_create(
        InferenceWorker(job=job, trial=trial, rank=rank) for rank, trial in enumerate(trials)
    )
    return job


def _drop_waiting_requests(job_id: int, trial_ids: list[int]) -> None:
    from apps.inference.predictor import prediction_bus

    try:
        prediction_bus().drop(job_id, trial_ids)
    except Exception:  # Redis down: the lists expire on their own
        log.warning(
            "could not drop the waiting requests of inference job %s", job_id, exc_info=True
        )


def _end(job: InferenceJob, status: str, error: str = "") -> bool:
    """Move an active job to a final state, with its unfinished workers; False when it was
    final already."""
    now = timezone.now()
    ended = InferenceJob.objects.filter(pk=job.pk, status__in=InferenceJob.ACTIVE_STATES).update(
        status=status, datetime_stopped=now, error=error
    )
    if not ended:
        return False
    InferenceWorker.objects.filter(job_id=job.pk).exclude(
        status__in=InferenceWorker.FINAL_STATES
    ).update(status=InferenceWorker.Status.STOPPED, datetime_stopped=now)
    trial_ids = list(
        InferenceWorker.objects.filter(job_id=job.pk).values_list("trial_id", flat=True)
    )
    transaction.on_commit(lambda: _drop_waiting_requests(job.pk, trial_ids))
    return True


@transaction.atomic
def inference_job_stop(*, job: InferenceJob) -> InferenceJob:
    """Stop serving: the job ends STOPPED now and its workers end their model processes
    within a poll interval. Stopping a finished job changes nothing."""
    _end(job, InferenceJob.Status.STOPPED)
    job.refresh_from_db()
    return job


def inference_job_stop_all() -> list[InferenceJob]:
    """Stop every active inference job (the superadmin's "stop all jobs"); returns them."""
    ids = list(
        InferenceJob.objects.filter(status__in=InferenceJob.ACTIVE_STATES).values_list(
            "pk", flat=True
        )
    )
    return [inference_job_stop(job=InferenceJob(pk=pk)) for pk in ids]


# --- what the inference workers report ------------------------------------------------------


def _mine(worker_id: int, attempt: int) -> Any:
    return InferenceWorker.objects.filter(
        pk=worker_id,
        attempt=attempt,
        status__in=InferenceWorker.CLAIMED_STATES,
        job__status__in=InferenceJob.ACTIVE_STATES,
    )


def inference_workers_claim(
    *, host: str, limit: int, now: datetime | None = None
) -> list[tuple[int, int]]:
    """Take up to ``limit`` workers that need a process: PENDING ones, and claimed ones whose
    holder stopped beating (its machine died). Each claim is one conditional UPDATE, so two
    worker processes never serve the same trial. Returns (worker id, attempt) pairs."""
    now = now or timezone.now()
    stale = now - timedelta(seconds=settings.INFERENCE_STALE_SECONDS)
    candidates = list(
        InferenceWorker.objects.filter(job__status__in=InferenceJob.ACTIVE_STATES)
        .filter(
            Q(status=InferenceWorker.Status.PENDING)
            | Q(status__in=InferenceWorker.CLAIMED_STATES, heartbeat_at__lt=stale)
        )
        .order_by("job_id", "rank")
        .values_list("pk", "attempt", "status")[:limit]
    )
    claimed = []
    for worker_id, attempt, status in candidates:
        with transaction.atomic():
            taken = (
                InferenceWorker.objects.filter(pk=worker_id, attempt=attempt)
                .filter(
                    Q(status=InferenceWorker.Status.PENDING)
                    | Q(status__in=InferenceWorker.CLAIMED_STATES, heartbeat_at__lt=stale)
                )
                .update(
                    status=InferenceWorker.Status.STARTING,
                    attempt=F("attempt") + 1,
                    host=host,
                    pid=None,
                    heartbeat_at=now,
                    datetime_started=now,
                )
            )
        if taken:
            if status != InferenceWorker.Status.PENDING:
                log.warning(
                    "inference worker %s: its holder went silent; serving it here", worker_id
                )
            claimed.append((worker_id, attempt + 1))
    return claimed


def inference_workers_heartbeat(*, host: str, held: list[tuple[int, int]]) -> set[tuple[int, int]]:
    """Refresh the heartbeat of the claims this process holds; returns the ones still valid
    (a stopped job or a claim taken over by another process drops out)."""
    if not held:
        return set()
    valid = set(
        InferenceWorker.objects.filter(
            pk__in=[w for w, _ in held],
            host=host,
            status__in=InferenceWorker.CLAIMED_STATES,
            job__status__in=InferenceJob.ACTIVE_STATES,
        ).values_list("pk", "attempt")
    ) & set(held)
    if valid:
        InferenceWorker.objects.filter(pk__in=[w for w, _ in valid], host=host).update(
            heartbeat_at=timezone.now()
        )
    return valid


@transaction.atomic
def inference_worker_ready(*, worker_id: int, attempt: int, pid: int | None) -> bool:
    """The trial is loaded and answering; the job is RUNNING once all its trials are."""
    if not _mine(worker_id, attempt).update(
        status=InferenceWorker.Status.RUNNING, pid=pid, heartbeat_at=timezone.now()
    ):
        return False
    job_id = InferenceWorker.objects.values_list("job_id", flat=True).get(pk=worker_id)
    waiting = InferenceWorker.objects.filter(job_id=job_id).exclude(
        status=InferenceWorker.Status.RUNNING
    )
    if not waiting.exists():
        InferenceJob.objects.filter(pk=job_id, status=InferenceJob.Status.STARTED).update(
            status=InferenceJob.Status.RUNNING
        )
    return True


@transaction.atomic
def inference_worker_failed(
    *, worker_id: int, attempt: int, error: str, traceback: str = ""
) -> bool:
    """The trial cannot be served (its model failed to load, or kept crashing): the worker
    ends ERRORED and so does the job, with the reason, and the other trials stop."""
    worker = _mine(worker_id, attempt).select_related("trial__sub_job__model").first()
    if worker is None:
        return False
    now = timezone.now()
    InferenceWorker.objects.filter(pk=worker_id).update(
        status=InferenceWorker.Status.ERRORED,
        error=error[:10_000],
        traceback=traceback[-64_000:],
        datetime_stopped=now,
    )
    trial = worker.trial
    _end(
        InferenceJob(pk=worker.job_id),
        InferenceJob.Status.ERRORED,
        f"trial {trial.number} ({trial.sub_job.model.name}): {error}"[:10_000],
    )
    return True


@transaction.atomic
def inference_worker_on_cpu(*, worker_id: int, attempt: int, reason: str) -> bool:
    """The job's budget asks for a GPU but the worker serving this trial has none: it serves
    on CPU, and the job's note says so (once per trial). False when the claim is gone."""
    worker = _mine(worker_id, attempt).select_related("trial").first()
    if worker is None:
        return False
    job = InferenceJob.objects.select_for_update().get(pk=worker.job_id)
    line = f"Trial {worker.trial.number} is served on CPU: {reason}"
    if line not in job.note.splitlines():
        job.note = f"{job.note}\n{line}" if job.note else line
        job.save(update_fields=["note"])
    return True


def inference_worker_crashed(*, worker_id: int, attempt: int, reason: str, pid: int | None) -> bool:
    """The trial's model process died and was restarted (``pid`` is the new one); recorded
    for the job's page. False when the claim is no longer this process's."""
    return bool(
        _mine(worker_id, attempt).update(
            crashes=F("crashes") + 1,
            last_crash=reason[:10_000],
            pid=pid,
            heartbeat_at=timezone.now(),
        )
    )


def inference_worker_release(*, host: str, held: list[tuple[int, int]]) -> int:
    """Give back claims this process holds (it is shutting down): they become PENDING for
    another inference worker to take at once, instead of after the stale timeout."""
    released = 0
    for worker_id, attempt in held:
        released += (
            _mine(worker_id, attempt)
            .filter(host=host)
            .update(status=InferenceWorker.Status.PENDING, pid=None, heartbeat_at=None)
        )
    return released
