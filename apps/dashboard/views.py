"""The home page: what is running, what just finished, where to go next."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from apps.dashboard.access import can_upload_models, member_required
from apps.datasets.selectors import dataset_list
from apps.models.selectors import model_template_list_available
from apps.trials.selectors import (
    train_job_list_active,
    train_job_list_recent,
    train_job_progress,
    trial_list_recent,
)


@member_required
def home(request: HttpRequest) -> HttpResponse:
    user = request.user
    running = [
        {"job": job, "progress": train_job_progress(job=job)}
        for job in train_job_list_active(user=user)[:10]
    ]
    context = {
        "running": running,
        "recent_trials": trial_list_recent(user=user, limit=10),
        "counts": {
            "models": model_template_list_available(user=user).count(),
            "datasets": dataset_list(user=user).count(),
            "jobs": train_job_list_recent(user=user).count(),
        },
        "can_upload": can_upload_models(user),
    }
    return render(request, "dashboard/home.html", context)
