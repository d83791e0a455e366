"""Pages for train jobs and trials: list, create, job detail with charts, trial detail with
its live log and one chart per plot the model defined, downloads."""

from __future__ import annotations

from django.contrib import messages
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.views.decorators.http import require_POST

from apps.accounts.models import User
from apps.dashboard.access import member_required
from apps.datasets.selectors import dataset_list
from apps.models.selectors import model_template_list_available
from apps.trials import charts
from apps.trials.forms import TrainJobForm
from apps.trials.metric_summary import trial_metric_summary_update
from apps.trials.models import TrainJob, Trial
from apps.trials.selectors import (
    train_job_knob_rows,
    train_job_list_recent,
    train_job_list_visible,
    train_job_progress,
    train_job_score_points,
    trial_best_with_params,
    trial_get_visible,
    trial_list_sorted,
    trial_log_last_id,
    trial_log_rows,
    trial_messages_before,
    trial_metric_rows_charted,
    trial_params_pickled,
    trial_plot_definitions,
)
from apps.trials.services import train_job_create, train_job_stop

TRIALS_PER_PAGE = 50
#: MESSAGE rows shown on the trial page at first, and fetched per "older" click.
LOG_TAIL = 200
#: Log rows handed to the live view per poll; it polls again at once while more are waiting.
LIVE_BATCH = 500
#: How long a job's chart figures stay cached (they change only when a trial ends).
PLOT_CACHE_SECONDS = 6 * 3600


def _get_job_for_user(user: User, job_id: int) -> TrainJob:
    """A job the user may read (their own; admins read everyone's, as in the API); 404 else."""
    job = (
        train_job_list_visible(user=user)
        .filter(pk=job_id)
        .select_related("owner", "train_dataset", "val_dataset")
        .first()
    )
    if job is None:
        raise Http404("No such train job")
    return job


def _get_trial_for_user(user: User, trial_id: int) -> Trial:
    """A trial of a job the user may read (see `_get_job_for_user`); 404 for anyone else."""
    trial = trial_get_visible(user=user, trial_id=trial_id)
    if trial is None:
        raise Http404("No such trial")
    return trial


# --- jobs -----------------------------------------------------------------------------------


@member_required
def job_list(request: HttpRequest) -> HttpResponse:
    """The user's jobs; admins may list everyone's (``?owner=all``), as in the API."""
    everyone = request.user.is_admin and request.GET.get("owner") == "all"
    if everyone:
        jobs = train_job_list_visible(user=request.user).select_related("owner")
    else:
        jobs = train_job_list_recent(user=request.user)
    page = Paginator(jobs, 30).get_page(request.GET.get("page"))
    rows = [{"job": job, "progress": train_job_progress(job=job)} for job in page]
    return render(
        request, "trials/job_list.html", {"page_obj": page, "rows": rows, "everyone": everyone}
    )


@member_required
def job_create(request: HttpRequest) -> HttpResponse:
    datasets = dataset_list(user=request.user).order_by("task", "name")
    models = model_template_list_available(user=request.user).order_by("task", "name")
    initial = {
        "task": request.GET.get("task") or _guess_task(datasets, models),
        "train_dataset": request.GET.get("train_dataset"),
        "models": request.GET.getlist("model"),
        "app": request.GET.get("app", ""),
    }
    form = TrainJobForm(initial=initial, datasets=datasets, models=models)
    if request.method == "POST":
        form = TrainJobForm(request.POST, datasets=datasets, models=models)
        if form.is_valid():
            data = form.cleaned_data
            try:
                job = train_job_create(
                    owner=request.user,
                    app=data["app"],
                    task=data["task"],
                    train_dataset=data["train_dataset"],
                    val_dataset=data["val_dataset"],
                    models=list(data["models"]),
                    budget=form.budget(),
                    train_args=data["train_args"],
                )
            except ValidationError as exc:
                form.add_error(None, " ".join(exc.messages))
            else:
                messages.success(
                    request,
                    f"Train job {job.app} v{job.app_version} created: its first trials are queued.",
                )
                return redirect("trials:job_detail", job_id=job.pk)
    return render(
        request,
        "trials/job_create.html",
        {"form": form, "has_datasets": datasets.exists(), "has_models": models.exists()},
    )


def _guess_task(datasets, models) -> str | None:
    """The task of the newest dataset that has a model, so the form starts on something usable."""
    model_tasks = set(models.values_list("task", flat=True))
    for task in datasets.order_by("-datetime_created").values_list("task", flat=True)[:50]:
        if task in model_tasks:
            return task
    return None


@member_required
def job_detail(request: HttpRequest, job_id: int) -> HttpResponse:
    job = _get_job_for_user(request.user, job_id)
    sort = request.GET.get("sort", "number")
    ordered = trial_list_sorted(job=job, sort=sort)
    # Sort and page over ids only (narrow rows sort fast), then load the page's 50 trials.
    page = Paginator(ordered.values_list("pk", flat=True), TRIALS_PER_PAGE).get_page(
        request.GET.get("page")
    )
    ids = list(page)
    loaded = {t.pk: t for t in ordered.filter(pk__in=ids)}
    trials = [loaded[pk] for pk in ids if pk in loaded]
    best = trial_best_with_params(job=job)
    progress = train_job_progress(job=job)
    score_figure, knobs_figure = _job_figures(job, progress)
    context = {
        "job": job,
        "progress": progress,
        "signature": _progress_signature(progress),
        "page_obj": page,
        "trials": trials,
        "sort": sort,
        "best": best,
        "sub_jobs": list(job.sub_jobs.select_related("model")),
        "score_figure": score_figure,
        "knobs_figure": knobs_figure,
        "cpu_note": job.note
        or ("Trials run on CPU (GPU_COUNT is 0)." if job.gpu_count == 0 else ""),
    }
    return render(request, "trials/job_detail.html", context)


def _job_figures(job: TrainJob, progress: dict) -> tuple[dict | None, dict | None]:
    """The best-score and knobs-vs-score figures, cached until another trial of the job ends
    (a 10,000-trial job's figures take a while to build and change only then)."""
    key = f"job-figures:{job.pk}:{job.datetime_started.timestamp()}:{progress['done']}"
    figures = cache.get(key)
    if figures is None:
        points = train_job_score_points(job=job)
        figures = (
            charts.best_score_figure(points) if points else None,
            charts.knobs_figure(train_job_knob_rows(job=job)),
        )
        cache.set(key, figures, PLOT_CACHE_SECONDS)
    return figures


@member_required
def job_status(request: HttpRequest, job_id: int) -> HttpResponse:
    """The job page's status and progress block, polled while the job is active."""
    job = _get_job_for_user(request.user, job_id)
    progress = train_job_progress(job=job)
    html = render_to_string(
        "trials/_job_status.html", {"job": job, "progress": progress}, request=request
    )
    return JsonResponse(
        {"html": html, "final": job.is_final, "signature": _progress_signature(progress)}
    )


def _progress_signature(progress: dict) -> str:
    """Changes whenever a trial is created, starts or ends: the page then refreshes its table."""
    return ",".join(f"{status}={n}" for status, n in progress["counts"].items())


@require_POST
@member_required
def job_stop(request: HttpRequest, job_id: int) -> HttpResponse:
    job = _get_job_for_user(request.user, job_id)
    if job.is_final:
        messages.info(request, f"{job} had already ended ({job.status}).")
    else:
        train_job_stop(job=job)
        messages.success(
            request,
            f"Stopped {job}: pending trials are cancelled, running ones end within seconds.",
        )
    return redirect("trials:job_detail", job_id=job.pk)


@member_required
def job_best_params(request: HttpRequest, job_id: int) -> HttpResponse:
    job = _get_job_for_user(request.user, job_id)
    best = trial_best_with_params(job=job)
    if best is None:
        raise Http404("No trial of this job has saved parameters yet")
    return _params_response(best)


# --- trials ---------------------------------------------------------------------------------


def _plot_figures(trial: Trial, plots: list[dict], cursor: int) -> list[dict]:
    """One figure per plot, from the trial's METRICS rows up to ``cursor``: its metric summary
    plus the rows after it. The worker keeps the summary current; a trial logged before
    summaries existed gets one here, on its first view."""
    if not plots:
        return []
    trial_metric_summary_update(trial_id=trial.pk, attempt=trial.attempt)
    rows = trial_metric_rows_charted(trial=trial, up_to_id=cursor)
    return [charts.plot_figure(plot, rows) for plot in plots]


@member_required
def trial_detail(request: HttpRequest, trial_id: int) -> HttpResponse:
    trial = _get_trial_for_user(request.user, trial_id)
    cursor = trial_log_last_id(trial=trial)
    plots = trial_plot_definitions(trial=trial, up_to_id=cursor)
    figures = _plot_figures(trial, plots, cursor)
    log_rows = trial_messages_before(trial=trial, before_id=cursor + 1, limit=LOG_TAIL)
    model = trial.sub_job.model
    return render(
        request,
        "trials/trial_detail.html",
        {
            "trial": trial,
            "job": trial.job,
            "model": model,
            "can_download_model": model.owner_id == request.user.pk,
            "figures": figures,
            "plots": plots,
            "log_rows": log_rows,
            "has_older": len(log_rows) == LOG_TAIL,
            "live": {
                "cursor": cursor,
                "attempt": trial.attempt,
                "final": trial.is_final,
                "plots": [charts.plot_key(p) for p in plots],
                "live_url": reverse("trials:trial_live", args=[trial.pk]),
                "older_url": reverse("trials:trial_log", args=[trial.pk]),
                "oldest": log_rows[0].id if log_rows else cursor + 1,
            },
        },
    )


@member_required
def trial_live(request: HttpRequest, trial_id: int) -> JsonResponse:
    """What happened since ``after``: new message rows (HTML), new points for each drawn chart,
    figures for plots defined since, and the status block. ``plots`` is how many charts the
    page has drawn."""
    trial = _get_trial_for_user(request.user, trial_id)
    if "attempt" in request.GET and _int_arg(request, "attempt", 0) != trial.attempt:
        # The trial was retried (its worker was lost): its log was rewritten from the start.
        return JsonResponse({"reload": True})
    after = _int_arg(request, "after", 0)
    drawn = _int_arg(request, "plots", 0)
    rows = trial_log_rows(trial=trial, after_id=after, limit=LIVE_BATCH)
    cursor = rows[-1].id if rows else after
    messages_rows = [r for r in rows if r.type == "MESSAGE"]
    metric_rows = [(r.time, r.payload) for r in rows if r.type == "METRICS"]
    new_plot_defs = any(r.type == "PLOT" for r in rows)
    plots = trial_plot_definitions(trial=trial, up_to_id=cursor) if (new_plot_defs or drawn) else []
    old_plots, new_plots = plots[:drawn], plots[drawn:]
    # A new chart gets every point so far, not just this batch's.
    new_figures = _plot_figures(trial, plots, cursor)[drawn:] if new_plots else []
    html = render_to_string("trials/_log_rows.html", {"log_rows": messages_rows})
    trial.refresh_from_db()
    status_html = render_to_string("trials/_trial_status.html", {"trial": trial}, request=request)
    return JsonResponse(
        {
            "cursor": cursor,
            "more": len(rows) == LIVE_BATCH,
            "final": trial.is_final,
            "messages_html": html if messages_rows else "",
            "extend": charts.plot_extensions(old_plots, metric_rows) if metric_rows else [],
            "new_figures": new_figures,
            "status_html": status_html,
        }
    )


@member_required
def trial_log_older(request: HttpRequest, trial_id: int) -> JsonResponse:
    """Older message rows on demand: the LOG_TAIL rows before ``before``."""
    trial = _get_trial_for_user(request.user, trial_id)
    before = _int_arg(request, "before", 0)
    rows = trial_messages_before(trial=trial, before_id=before, limit=LOG_TAIL)
    return JsonResponse(
        {
            "html": render_to_string("trials/_log_rows.html", {"log_rows": rows}),
            "oldest": rows[0].id if rows else before,
            "has_older": len(rows) == LOG_TAIL,
        }
    )


@member_required
def trial_params(request: HttpRequest, trial_id: int) -> HttpResponse:
    return _params_response(_get_trial_for_user(request.user, trial_id))


@member_required
def trial_params_pickle(request: HttpRequest, trial_id: int) -> HttpResponse:
    trial = _get_trial_for_user(request.user, trial_id)
    if not trial.is_params_saved:
        raise Http404("This trial saved no parameters")
    response = HttpResponse(
        trial_params_pickled(trial=trial), content_type="application/octet-stream"
    )
    response["Content-Disposition"] = f'attachment; filename="{_params_name(trial)}.pickle"'
    return response


def _params_name(trial: Trial) -> str:
    safe_app = "".join(c if c.isalnum() or c in "-_" else "_" for c in trial.job.app)
    return f"{safe_app}-v{trial.job.app_version}-trial-{trial.number}-params"


def _params_response(trial: Trial) -> HttpResponse:
    if not trial.is_params_saved or not trial.params_file:
        raise Http404("This trial saved no parameters")
    return FileResponse(
        trial.params_file.open("rb"),
        as_attachment=True,
        filename=f"{_params_name(trial)}.rafiki",
        content_type="application/octet-stream",
    )


def _int_arg(request: HttpRequest, name: str, default: int) -> int:
    try:
        return max(0, int(request.GET.get(name, default)))
    except (TypeError, ValueError):
        return default
