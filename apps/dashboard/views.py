"""The home page (what is running, what just finished, where to go next) and the examples."""

from __future__ import annotations

from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from apps.dashboard.access import can_upload_models, member_required
from apps.dashboard.examples import (
    EXAMPLE_DATASETS,
    example_dataset,
    example_dataset_files,
    example_model,
    example_models,
)
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


@member_required
def examples(request: HttpRequest) -> HttpResponse:
    """Example model files and datasets to download, then upload with the forms."""
    return render(
        request,
        "dashboard/examples.html",
        {
            "models": example_models(),
            "datasets": EXAMPLE_DATASETS,
            "can_upload": can_upload_models(request.user),
        },
    )


@member_required
def example_model_file(request: HttpRequest, task: str, file_name: str) -> FileResponse:
    model = example_model(task, file_name)
    if model is None:
        raise Http404("no such example model")
    return FileResponse(
        open(model.path, "rb"),
        as_attachment=True,
        filename=model.file_name,
        content_type="text/x-python",
    )


@member_required
def example_dataset_file(request: HttpRequest, key: str, split: str) -> FileResponse:
    dataset = example_dataset(key)
    if dataset is None:
        raise Http404("no such example dataset")
    path = example_dataset_files(dataset).get(split)
    if path is None:
        raise Http404("no such split")
    return FileResponse(open(path, "rb"), as_attachment=True, filename=path.name)
