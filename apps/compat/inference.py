"""The seam where inference jobs plug into the Rafiki-compatible API.

Serving predictions is a later issue. Until it lands these functions answer as Rafiki would
for a server where no inference job ever runs: lists are empty, asking for the running job is
InvalidRunningInferenceJobError, and creating one checks the train job (InvalidTrainJobError
as Rafiki does) and then says plainly that serving is not available yet. The inference issue
replaces the bodies with calls to its services; the views in `apps.compat.api` stay as they are.
"""

from __future__ import annotations

from typing import Any

from apps.accounts.models import User
from apps.api.errors import ApiError
from apps.trials.models import TrainJob
from apps.trials.selectors import train_job_get


def _no_running_job(app: str, app_version: int) -> ApiError:
    version = "latest version" if app_version == -1 else f"version {app_version}"
    return ApiError(
        f"no inference job is running for app {app!r} ({version})",
        error="InvalidRunningInferenceJobError",
        status_code=400,
    )


def inference_job_list(*, user: User, app: str | None = None) -> list[dict[str, Any]]:
    return []


def inference_job_get_running(*, user: User, app: str, app_version: int) -> dict[str, Any]:
    raise _no_running_job(app, app_version)


def inference_job_create(
    *, user: User, app: str, app_version: int, budget: dict[str, Any]
) -> dict[str, Any]:
    job = train_job_get(user=user, app=app, app_version=app_version)
    if job is None:
        raise ApiError(
            f"you have no train job for app {app!r} version {app_version}",
            error="InvalidTrainJobError",
            status_code=400,
        )
    if job.status != TrainJob.Status.STOPPED:
        raise ApiError(
            f"train job {app} v{job.app_version} is {job.status}; an inference job needs a STOPPED train job",
            error="InvalidTrainJobError",
            status_code=400,
        )
    raise ApiError(
        "serving predictions is not available yet on this server (inference jobs land in a later version)",
        error="InferenceNotAvailableError",
        status_code=501,
    )


def inference_job_stop(*, user: User, app: str, app_version: int) -> dict[str, Any]:
    raise _no_running_job(app, app_version)


def inference_job_stop_all() -> list[int]:
    return []
