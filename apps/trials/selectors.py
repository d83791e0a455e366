"""Reads of train jobs, trials and trial logs."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from django.db.models import (
    CharField,
    Count,
    DurationField,
    ExpressionWrapper,
    F,
    QuerySet,
    TextField,
)
from django.db.models.functions import Cast, Mod
from django.utils import timezone

from apps.accounts.models import User
from apps.trials.models import TrainJob, Trial, TrialLog, TrialMetricSummary


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


# --- pages (the dashboard) --------------------------------------------------------------------


def train_job_list_recent(*, user: User) -> QuerySet[TrainJob]:
    """The user's jobs, newest first."""
    return TrainJob.objects.filter(owner=user).order_by("-datetime_started", "-id")


def train_job_list_active(*, user: User) -> QuerySet[TrainJob]:
    return train_job_list_recent(user=user).filter(status__in=TrainJob.ACTIVE_STATES)


def train_job_progress(*, job: TrainJob, now: datetime | None = None) -> dict[str, Any]:
    """Trial counts by status, trials done of the budget (None when unlimited), and time used
    of TIME_HOURS, as fractions for progress bars."""
    counts = dict(job.trials.values_list("status").annotate(n=Count("id")).order_by())
    done = counts.get(Trial.Status.COMPLETED, 0) + counts.get(Trial.Status.ERRORED, 0)
    models = job.sub_jobs.count()
    budget_trials = job.model_trial_count * models if job.model_trial_count != -1 else None
    end = job.datetime_stopped or now or timezone.now()
    used_seconds = max(0.0, (end - job.datetime_started).total_seconds())
    budget_seconds = job.time_hours * 3600
    return {
        "counts": {status: counts.get(status, 0) for status in Trial.Status.values},
        "total": sum(counts.values()),
        "done": done,
        "models": models,
        "budget_trials": budget_trials,
        "trials_fraction": min(1.0, done / budget_trials) if budget_trials else None,
        "used_seconds": used_seconds,
        "budget_seconds": budget_seconds,
        "time_fraction": min(1.0, used_seconds / budget_seconds) if budget_seconds else 1.0,
    }


_TRIAL_SORTS = {
    "number": ("number",),
    "model": ("sub_job__model__name", "number"),
    "status": ("status", "number"),
    "score": (F("score").asc(nulls_first=True), "number"),
    "duration": (F("duration").asc(nulls_first=True), "number"),
}


def trial_list_sorted(*, job: TrainJob, sort: str = "number") -> QuerySet[Trial]:
    """The job's trials for the trials table, sorted by ``sort`` (number, model, status, score,
    duration; a leading "-" reverses). Unknown sorts fall back to number."""
    descending = sort.startswith("-")
    key = sort.lstrip("-")
    order = _TRIAL_SORTS.get(key, _TRIAL_SORTS["number"])
    if descending:
        order = tuple(
            (o.copy().reverse_ordering() if hasattr(o, "reverse_ordering") else f"-{o}")
            for o in order
        )
    qs = job.trials.select_related("sub_job__model").defer(
        "proposal", "stdout_tail", "stderr_tail", "traceback"
    )
    if key == "duration":  # computed per row, so only when asked for (it slows counting)
        qs = qs.annotate(
            duration=ExpressionWrapper(
                F("datetime_stopped") - F("datetime_started"), output_field=DurationField()
            )
        )
    return qs.order_by(*order)


def train_job_score_points(*, job: TrainJob) -> list[tuple[str, float, int]]:
    """(stopped at, score, trial number) of every completed trial, in the order they ended;
    times as UTC text "YYYY-MM-DD HH:MM:SS[.ffffff]" (plotly's format, and no per-row
    datetime conversion on a 10,000-trial job)."""
    rows = (
        job.trials.filter(status=Trial.Status.COMPLETED, score__isnull=False)
        .order_by("datetime_stopped", "number")
        .values_list(Cast("datetime_stopped", CharField()), "score", "number")
    )
    return [(stopped.split("+")[0], score, number) for stopped, score, number in rows]


def train_job_knob_rows(
    *, job: TrainJob, limit: int = 1000, keep_best: int = 100
) -> list[tuple[int, dict, float]]:
    """(number, knobs, score) of completed trials for the knobs-vs-score chart: all of them up
    to ``limit``; beyond it the ``keep_best`` best plus every k-th of the rest."""
    completed = job.trials.filter(status=Trial.Status.COMPLETED, score__isnull=False)
    fields = ("number", "knobs", "score")
    total = completed.count()
    if total <= limit:
        return list(completed.order_by("number").values_list(*fields))
    step = -(-total // (limit - keep_best))  # ceiling division
    sample = completed.annotate(slot=Mod("number", step)).filter(slot=0).values_list(*fields)
    best = completed.order_by("-score", "number").values_list(*fields)[:keep_best]
    rows = {row[0]: row for row in [*sample, *best]}
    return [rows[n] for n in sorted(rows)]


def trial_list_recent(*, user: User, limit: int = 10) -> list[Trial]:
    """The user's most recently started or finished trials (home page)."""
    return list(
        Trial.objects.filter(job__owner=user)
        .exclude(datetime_started__isnull=True)
        .select_related("job", "sub_job__model")
        .defer("proposal", "stdout_tail", "stderr_tail", "traceback")
        .order_by("-datetime_started", "-id")[:limit]
    )


def trial_log_last_id(*, trial: Trial) -> int:
    """The id of the trial's newest log row (0 when none): the live view's first cursor."""
    last = TrialLog.objects.filter(trial=trial).order_by("-id").values_list("id", flat=True).first()
    return last or 0


def trial_messages_before(*, trial: Trial, before_id: int, limit: int = 200) -> list[TrialLog]:
    """The ``limit`` newest MESSAGE rows with id < ``before_id``, oldest first (the log tail,
    and "older" pages of it)."""
    rows = list(
        TrialLog.objects.filter(trial=trial, type=TrialLog.Type.MESSAGE, id__lt=before_id).order_by(
            "-id"
        )[:limit]
    )
    rows.reverse()
    return rows


def trial_plot_definitions(*, trial: Trial, up_to_id: int | None = None) -> list[dict[str, Any]]:
    """The plots the model defined (``define_plot``), in order, later duplicates dropped."""
    qs = TrialLog.objects.filter(trial=trial, type=TrialLog.Type.PLOT)
    if up_to_id is not None:
        qs = qs.filter(id__lte=up_to_id)
    seen: set[str] = set()
    plots = []
    for payload in qs.order_by("id").values_list("payload", flat=True):
        key = json.dumps(payload, sort_keys=True)
        if key not in seen:
            seen.add(key)
            plots.append(payload)
    return plots


def trial_metric_rows_with_ids(
    *, trial_id: int, after_id: int = 0, up_to_id: int | None = None
) -> list[tuple[int, str, dict[str, Any]]]:
    """(id, time, {metric: value}) of the trial's METRICS rows with ``after_id`` < id <=
    ``up_to_id``, in log order; time is UTC text "YYYY-MM-DD HH:MM:SS[.ffffff]" (what plotly
    reads).

    Payloads are fetched as text and decoded with one ``json.loads``, and times as text,
    skipping the ORM's per-row JSON and datetime converters (several times slower)."""
    qs = TrialLog.objects.filter(trial_id=trial_id, type=TrialLog.Type.METRICS, id__gt=after_id)
    if up_to_id is not None:
        qs = qs.filter(id__lte=up_to_id)
    rows = list(
        qs.order_by("id").values_list("id", Cast("time", CharField()), Cast("payload", TextField()))
    )
    if not rows:
        return []
    payloads = json.loads("[" + ",".join(text for _, _, text in rows) + "]")
    # PostgreSQL prints "+00" after a timestamptz (the session is UTC); SQLite stores none.
    return [
        (row_id, time.split("+")[0], payload) for (row_id, time, _), payload in zip(rows, payloads)
    ]


def trial_metric_rows(
    *, trial: Trial, after_id: int = 0, up_to_id: int | None = None
) -> list[tuple[str, dict[str, Any]]]:
    """(time, {metric: value}) of the trial's METRICS rows with ``after_id`` < id <= ``up_to_id``
    (see `trial_metric_rows_with_ids`)."""
    rows = trial_metric_rows_with_ids(trial_id=trial.pk, after_id=after_id, up_to_id=up_to_id)
    return [(time, payload) for _, time, payload in rows]


def trial_metric_rows_charted(*, trial: Trial, up_to_id: int) -> list[tuple[str, dict[str, Any]]]:
    """(time, {metric: value}) of the METRICS rows up to ``up_to_id`` that the trial page
    charts: the rows kept by the trial's metric summary (each metric's extremes per bucket,
    see `apps.trials.metric_summary`), then every row stored after the summary's cursor."""
    summary = (
        TrialMetricSummary.objects.filter(trial=trial, attempt=trial.attempt)
        .values_list("cursor", "rows")
        .first()
    )
    if summary is None:
        return trial_metric_rows(trial=trial, up_to_id=up_to_id)
    cursor, kept = summary
    # The summary may have moved past the page's cursor since the page read it.
    rows = [(time, values) for _, row_id, time, values in kept if row_id <= up_to_id]
    if cursor < up_to_id:
        rows += trial_metric_rows(trial=trial, after_id=cursor, up_to_id=up_to_id)
    return rows


def trial_best_with_params(*, job: TrainJob) -> Trial | None:
    """The best-scoring completed trial whose parameters were saved (the job page's
    "download best parameters")."""
    return (
        job.trials.filter(status=Trial.Status.COMPLETED, score__isnull=False, is_params_saved=True)
        .order_by("-score", "number")
        .first()
    )


def trial_params_pickled(*, trial: Trial) -> bytes:
    """The trial's parameters as the pickled dict that the original Rafiki client unpickles.
    Stored parameters are never pickles; this one is made from the safe format on the way out."""
    import os
    import pickle
    import tempfile

    from rafiki.model.params import load_params

    with (
        trial.params_file.open("rb") as source,
        tempfile.NamedTemporaryFile(suffix=".rafiki") as copy,
    ):
        for chunk in iter(lambda: source.read(1024 * 1024), b""):
            copy.write(chunk)
        copy.flush()
        params = load_params(copy.name, max_bytes=os.path.getsize(copy.name))
    return pickle.dumps(params, protocol=4)


def train_job_list_visible(*, user: User) -> QuerySet[TrainJob]:
    """Jobs the user may read, newest first: their own; admins read everyone's (they may stop
    all jobs). The pages and the API both check access with it."""
    jobs = TrainJob.objects.order_by("-datetime_started", "-id")
    return jobs if user.is_admin else jobs.filter(owner=user)


def train_job_get_visible(*, user: User, job_id: int) -> TrainJob | None:
    return train_job_list_visible(user=user).filter(pk=job_id).first()


def trial_get_visible(*, user: User, trial_id: int) -> Trial | None:
    """A trial of a job the user may read (see ``train_job_list_visible``)."""
    jobs = train_job_list_visible(user=user)
    return (
        Trial.objects.select_related("sub_job__model", "job")
        .filter(pk=trial_id, job__in=jobs)
        .first()
    )


#: Values of `?ordering=` on the API's trial list (see `trial_list_sorted`).
TRIAL_ORDERINGS = sorted(k for key in _TRIAL_SORTS for k in (key, f"-{key}"))


def trial_logs_split(*, trial: Trial, after_id: int = 0, limit: int = 1000) -> dict:
    """A trial's log rows after ``after_id`` split as Rafiki shows them: ``messages``
    ({time, message}), ``metrics`` ({time, <name>: number...}), ``plots`` ({title, metrics,
    x_axis}), plus ``last_id`` (the cursor for the next call; ``after_id`` when nothing is
    new) and ``has_more`` (more rows than ``limit`` are waiting)."""
    rows = list(TrialLog.objects.filter(trial=trial, id__gt=after_id).order_by("id")[: limit + 1])
    has_more = len(rows) > limit
    rows = rows[:limit]
    out: dict = {"messages": [], "metrics": [], "plots": []}
    for row in rows:
        time = row.time.strftime("%Y-%m-%dT%H:%M:%S")
        payload = row.payload if isinstance(row.payload, dict) else {}
        if row.type == TrialLog.Type.MESSAGE:
            out["messages"].append({"time": time, "message": payload.get("message", "")})
        elif row.type == TrialLog.Type.METRICS:
            out["metrics"].append({"time": time, **payload})
        elif row.type == TrialLog.Type.PLOT:
            out["plots"].append(
                {
                    "title": payload.get("title", ""),
                    "metrics": payload.get("metrics", []),
                    "x_axis": payload.get("x_axis"),
                }
            )
    out["last_id"] = rows[-1].id if rows else after_id
    out["has_more"] = has_more
    return out


def trial_params_bytes(*, trial: Trial) -> bytes | None:
    """The trial's saved parameters file (pickle-free ``rafiki.model.params`` format), or None."""
    if not trial.is_params_saved or not trial.params_file:
        return None
    with trial.params_file.open("rb") as handle:
        return handle.read()
