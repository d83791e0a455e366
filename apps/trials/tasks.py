"""Celery entry points: take ids, call one service. Enqueued on commit by the services."""

from celery import shared_task
from django.conf import settings

from apps.trials.execution import trial_execute
from apps.trials.services import train_job_schedule, trials_reconcile


# The hard limit only guards against a hung platform: the runner enforces the trial's own
# wall-clock limit well before it.
@shared_task(name="trials.run_trial", time_limit=settings.TRIAL_TIMEOUT_SECONDS + 900)
def run_trial(trial_id: int) -> None:
    trial_execute(trial_id=trial_id)


@shared_task(name="trials.schedule_job", time_limit=600)
def schedule_job(job_id: int) -> None:
    train_job_schedule(job_id=job_id)


@shared_task(name="trials.reconcile", time_limit=600)
def reconcile() -> dict[str, int]:
    return trials_reconcile()
