"""Pages for datasets: list, upload (with a progress bar), detail with a preview."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import cache_control

from apps.accounts.models import User
from apps.dashboard.access import member_required
from apps.datasets.forms import DatasetUploadForm
from apps.datasets.models import Dataset
from apps.datasets.selectors import (
    dataset_list,
    dataset_preview,
    dataset_preview_image,
    dataset_tasks,
)
from apps.datasets.services import dataset_create


def _get_dataset_for_user(user: User, dataset_id: int) -> Dataset:
    """Datasets are private to their owner: anyone else gets a 404."""
    dataset = dataset_list(user=user).filter(pk=dataset_id).first()
    if dataset is None:
        raise Http404("No such dataset")
    return dataset


@member_required
def dataset_list_view(request: HttpRequest) -> HttpResponse:
    task = request.GET.get("task") or None
    page = Paginator(dataset_list(user=request.user, task=task), 50).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "datasets/list.html",
        {"page_obj": page, "task": task, "tasks": dataset_tasks(user=request.user)},
    )


@member_required
def dataset_upload(request: HttpRequest) -> HttpResponse:
    form = DatasetUploadForm(
        initial={"task": request.GET.get("task")} if request.GET.get("task") else None
    )
    if request.method == "POST":
        form = DatasetUploadForm(request.POST, request.FILES)
        if form.is_valid():
            data = form.cleaned_data
            try:
                dataset = dataset_create(
                    owner=request.user, name=data["name"], task=data["task"], file=data["data_file"]
                )
            except ValidationError as exc:
                form.add_error(None, " ".join(exc.messages))
            else:
                messages.success(request, f"Dataset {dataset.name} uploaded.")
                return redirect("datasets:detail", dataset_id=dataset.pk)
    return render(request, "datasets/upload.html", {"form": form})


@member_required
def dataset_detail(request: HttpRequest, dataset_id: int) -> HttpResponse:
    dataset = _get_dataset_for_user(request.user, dataset_id)
    summary = dict(dataset.summary or {})
    return render(
        request,
        "datasets/detail.html",
        {
            "dataset": dataset,
            "summary": summary,
            "class_counts": list(enumerate(summary.get("class_counts", []))),
            "max_class_count": max(summary.get("class_counts") or [0]),
            "preview": dataset_preview(dataset=dataset),
        },
    )


@member_required
@cache_control(private=True, max_age=3600)
def dataset_thumbnail(request: HttpRequest, dataset_id: int, row: int) -> HttpResponse:
    dataset = _get_dataset_for_user(request.user, dataset_id)
    png = dataset_preview_image(dataset=dataset, row=row)
    if png is None:
        raise Http404("No such image")
    return HttpResponse(png, content_type="image/png")


@member_required
def dataset_download(request: HttpRequest, dataset_id: int) -> HttpResponse:
    dataset = _get_dataset_for_user(request.user, dataset_id)
    return FileResponse(
        dataset.data_file.open("rb"),
        as_attachment=True,
        filename=f"{dataset.name}{dataset.file_suffix}",
        content_type="application/octet-stream",
    )
