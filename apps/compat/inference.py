"""Where inference jobs plug into the Rafiki-compatible API: the views in `apps.compat.api`
call these, which call the inference app's services and shape Rafiki's answers."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError

from apps.accounts.models import User
from apps.api.errors import ApiError
from apps.inference import selectors, services
from apps.inference.models import InferenceJob
from apps.trials.selectors import train_job_get


def _no_running_job(app: str, app_version: int) -> ApiError:
    version = "latest version" if app_version == -1 else f"version {app_version}"
    return ApiError(
        f"no inference job is running for app {app!r} ({version})",
        error="InvalidRunningInferenceJobError",
        status_code=400,
    )


def _brief(job: InferenceJob) -> dict[str, Any]:
    return {
        "id": job.pk,
        "train_job_id": job.train_job_id,
        "app": job.app,
        "app_version": job.app_version,
    }


def _out(job: InferenceJob) -> dict[str, Any]:
    return {
        **_brief(job),
        "status": job.status,
        "datetime_started": job.datetime_started.isoformat(),
        "datetime_stopped": job.datetime_stopped.isoformat() if job.datetime_stopped else None,
    }


def inference_job_list(*, user: User, app: str | None = None) -> list[dict[str, Any]]:
    return [_out(job) for job in selectors.inference_job_list(user=user, app=app)]


def inference_job_get_running(*, user: User, app: str, app_version: int) -> dict[str, Any]:
    job = selectors.inference_job_get_running(user=user, app=app, app_version=app_version)
    if job is None:
        raise _no_running_job(app, app_version)
    return {**_out(job), "predictor_host": selectors.predictor_host(job=job)}


def inference_job_create(
    *, user: User, app: str, app_version: int, budget: dict[str, Any]
) -> dict[str, Any]:
    train_job = train_job_get(user=user, app=app, app_version=app_version)
    if train_job is None:
        raise ApiError(
            f"you have no train job for app {app!r} version {app_version}",
            error="InvalidTrainJobError",
            status_code=400,
        )
    try:
        job = services.inference_job_create(owner=user, train_job=train_job, budget=budget)
    except ValidationError as e:
        raise ApiError(" ".join(e.messages), error=type(e).__name__, status_code=400) from None
    return {**_brief(job), "predictor_host": selectors.predictor_host(job=job)}


def inference_job_stop(*, user: User, app: str, app_version: int) -> dict[str, Any]:
    job = selectors.inference_job_get_running(user=user, app=app, app_version=app_version)
    if job is None:
        raise _no_running_job(app, app_version)
    return _brief(services.inference_job_stop(job=job))


def inference_job_stop_all() -> list[int]:
    return [job.pk for job in services.inference_job_stop_all()]
