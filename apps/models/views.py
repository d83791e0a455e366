"""Pages for model templates: list, upload, detail (knobs and source), download."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from apps.accounts.models import User
from apps.dashboard.access import can_upload_models, member_required
from apps.models.forms import ModelUploadForm
from apps.models.models import ModelTemplate
from apps.models.selectors import (
    model_template_get_visible,
    model_template_list_available,
    model_template_tasks,
)
from apps.models.services import model_template_create


def _get_model_for_user(user: User, model_id: int) -> ModelTemplate:
    """The model if the user owns it or it is PUBLIC (the API's rule); 404 otherwise."""
    template = model_template_get_visible(user=user, model_id=model_id)
    if template is None:
        raise Http404("No such model")
    return template


@member_required
def model_list(request: HttpRequest) -> HttpResponse:
    task = request.GET.get("task") or None
    qs = model_template_list_available(user=request.user, task=task).select_related("owner")
    page = Paginator(qs, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "models/list.html",
        {
            "page_obj": page,
            "task": task,
            "tasks": model_template_tasks(user=request.user),
            "can_upload": can_upload_models(request.user),
        },
    )


@member_required
def model_upload(request: HttpRequest) -> HttpResponse:
    if not can_upload_models(request.user):
        messages.error(
            request, "App developers use models; ask an admin or a model developer to upload one."
        )
        return redirect("models:list")
    form = ModelUploadForm()
    if request.method == "POST":
        form = ModelUploadForm(request.POST, request.FILES)
        if form.is_valid():
            data = form.cleaned_data
            try:
                template = model_template_create(
                    owner=request.user,
                    name=data["name"],
                    task=data["task"],
                    file=data["model_file"],
                    class_name=data["model_class"],
                    dependencies=data["dependencies"],
                    access_right=data["access_right"],
                )
            except ValidationError as exc:
                form.add_error(None, " ".join(exc.messages))
            else:
                messages.success(
                    request,
                    f"Model {template.name} uploaded: {len(template.knob_config)} knobs found.",
                )
                return redirect("models:detail", model_id=template.pk)
    return render(request, "models/upload.html", {"form": form})


@member_required
def model_detail(request: HttpRequest, model_id: int) -> HttpResponse:
    template = _get_model_for_user(request.user, model_id)
    is_owner = template.owner_id == request.user.pk
    source_html = ""
    if is_owner:
        source_html = _highlight(template)
    return render(
        request,
        "models/detail.html",
        {
            "model": template,
            "is_owner": is_owner,
            "knobs": _knob_rows(template.knob_config),
            "source_html": source_html,
        },
    )


@member_required
def model_download(request: HttpRequest, model_id: int) -> HttpResponse:
    template = _get_model_for_user(request.user, model_id)
    if template.owner_id != request.user.pk:  # Rafiki serves a model file to its owner only
        raise Http404("No such model")
    return FileResponse(
        template.model_file.open("rb"),
        as_attachment=True,
        filename=f"{template.model_class}.py",
        content_type="text/x-python",
    )


def _highlight(template: ModelTemplate) -> str:
    from pygments import highlight
    from pygments.formatters import HtmlFormatter
    from pygments.lexers import PythonLexer

    with template.model_file.open("rb") as handle:
        source = handle.read().decode("utf-8", errors="replace")
    return highlight(source, PythonLexer(), HtmlFormatter(linenos="table", cssclass="highlight"))


def _knob_rows(config: dict) -> list[dict]:
    """The stored knob config as table rows: name, type, what values it takes, scale."""
    rows = []
    for name, spec in config.items():
        kind = spec.get("type", "?")
        if kind in ("IntegerKnob", "FloatKnob"):
            values = f"{spec['value_min']} … {spec['value_max']}"
            scale = "log" if spec.get("is_exp") else "linear"
        elif kind == "CategoricalKnob":
            values = ", ".join(map(str, spec.get("values", [])))
            scale = ""
        elif kind == "FixedKnob":
            values = str(spec.get("value"))
            scale = "not tuned"
        elif kind == "PolicyKnob":
            values = spec.get("policy", "")
            scale = "set by the advisor"
        elif kind == "ArchKnob":
            table = spec.get("values", [])
            values = " · ".join(
                "[" + ", ".join(str(table[i]) for i in item) + "]" for item in spec.get("items", [])
            )
            scale = f"{len(spec.get('items', []))} positions"
        else:
            values, scale = str(spec), ""
        rows.append(
            {"name": name, "type": kind.removesuffix("Knob"), "values": values, "scale": scale}
        )
    return rows
