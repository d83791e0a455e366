"""Reads of train jobs, trials and trial logs."""

from __future__ import annotations

from django.db.models import QuerySet

from apps.accounts.models import User
from apps.trials.models import TrainJob, Trial, TrialLog


def train_job_list(*, user: User, app: str | None = None) -> QuerySet[TrainJob]:
    qs = TrainJob.objects.filter(owner=user)
    if app is not None:
        qs = qs.filter(app=app)
    return qs.order_by("app", "app_version")


def train_job_get(*, user: User, app: str, app_version: int) -> TrainJob | None:
    """One job of the user's app; ``app_version`` -1 means the latest."""
    qs = TrainJob.objects.filter(owner=user, app=app)
    if app_version == -1:
        return qs.order_by("-app_version").first()
    return qs.filter(app_version=app_version).first()


def trial_list(*, job: TrainJob) -> QuerySet[Trial]:
    return job.trials.select_related("sub_job__model").order_by("number")


def trial_list_best(*, job: TrainJob, max_count: int = 2) -> QuerySet[Trial]:
    """Completed trials by score, best first (ties: earlier trial first)."""
    return (
        job.trials.filter(status=Trial.Status.COMPLETED, score__isnull=False)
        .select_related("sub_job__model")
        .order_by("-score", "number")[:max_count]
    )


def trial_log_rows(*, trial: Trial, after_id: int = 0, limit: int = 1000) -> list[TrialLog]:
    """Log rows of a trial with id > ``after_id``, oldest first (the live view's cursor)."""
    return list(TrialLog.objects.filter(trial=trial, id__gt=after_id).order_by("id")[:limit])
