"""Reads of inference jobs."""

from __future__ import annotations

from django.db.models import QuerySet

from apps.accounts.models import User
from apps.inference.models import InferenceJob, InferenceWorker
from apps.trials.models import TrainJob


def _jobs() -> QuerySet[InferenceJob]:
    return InferenceJob.objects.select_related("train_job", "owner")


def inference_job_list(*, user: User, app: str | None = None) -> QuerySet[InferenceJob]:
    """The user's own inference jobs, newest first."""
    qs = _jobs().filter(owner=user)
    if app is not None:
        qs = qs.filter(train_job__app=app)
    return qs


def inference_job_list_visible(*, user: User) -> QuerySet[InferenceJob]:
    """Jobs the user may read: their own; admins read everyone's."""
    return _jobs() if user.is_admin else _jobs().filter(owner=user)


def inference_job_get_visible(*, user: User, job_id: int) -> InferenceJob | None:
    return inference_job_list_visible(user=user).filter(pk=job_id).first()


def inference_job_get_running(*, user: User, app: str, app_version: int) -> InferenceJob | None:
    """The user's active (STARTED or RUNNING) inference job of that app version (-1: the
    latest version that has one)."""
    qs = _jobs().filter(owner=user, train_job__app=app, status__in=InferenceJob.ACTIVE_STATES)
    if app_version != -1:
        qs = qs.filter(train_job__app_version=app_version)
    return qs.order_by("-train_job__app_version", "-id").first()


def inference_job_get_by_key(*, key: str) -> InferenceJob | None:
    """The job behind a predictor address (the key is its only credential)."""
    return _jobs().select_related("train_job__train_dataset").filter(predictor_key=key).first()


def inference_workers(*, job: InferenceJob) -> QuerySet[InferenceWorker]:
    return job.workers.select_related("trial__sub_job__model").order_by("rank")


def train_jobs_servable(*, user: User) -> QuerySet[TrainJob]:
    """The user's STOPPED train jobs with a completed trial that saved parameters."""
    return (
        TrainJob.objects.filter(
            owner=user, status=TrainJob.Status.STOPPED, trials__is_params_saved=True
        )
        .distinct()
        .order_by("app", "-app_version")
    )


def predictor_host(*, job: InferenceJob) -> str:
    """What Rafiki's clients format as ``http://{predictor_host}/predict``."""
    from django.conf import settings

    return f"{settings.PREDICTOR_HOST}/predictors/{job.predictor_key}"
