"""The per-trial metric summary: kept as the worker stores rows, it lets the trial page chart
a long trial from a few thousand rows without losing its spikes and dips."""

from __future__ import annotations

import math

from django.test import Client

from apps.trials.execution import TrialSession, trial_claim
from apps.trials.metric_summary import FOLD_EVERY, summary_fold, trial_metric_summary_update
from apps.trials.models import TrainJob, Trial, TrialLog, TrialMetricSummary
from apps.trials.selectors import trial_log_last_id, trial_metric_rows_charted
from apps.trials.services import train_job_schedule

EMPTY = {"seen": 0, "bucket": 1, "metrics": [], "rows": []}


def _metric_rows(n: int, start: int = 0) -> list[tuple[int, str, dict]]:
    rows = []
    for i in range(start, start + n):
        loss = math.cos(i / 300) + (9.0 if i == 7777 else 0.0) - (9.0 if i == 23_456 else 0.0)
        rows.append((i + 1, f"2024-01-01 00:00:{i % 60:02d}", {"loss": loss, "step": i}))
    return rows


def test_folding_in_batches_keeps_the_rows_of_folding_at_once_and_stays_small() -> None:
    rows = _metric_rows(30_000)
    at_once = summary_fold(EMPTY, rows)
    summary = EMPTY
    for start in range(0, len(rows), 1700):
        summary = summary_fold(summary, rows[start : start + 1700])
    assert summary == at_once
    assert len(summary["rows"]) <= 4000
    losses = [values["loss"] for _, _, _, values in summary["rows"]]
    assert max(losses) > 9 and min(losses) < -9  # the spike and the dip survive
    steps = [values["step"] for _, _, _, values in summary["rows"]]
    assert steps == sorted(steps) and steps[0] == 0 and steps[-1] == 29_999


def _records(n: int, start: int = 0) -> list[dict]:
    out = []
    for i in range(start, start + n):
        loss = 1 / (1 + i) + (5.0 if i == 3333 else 0.0)
        out.append({"type": "METRICS", "time": "2024-01-01T00:00:00", "loss": loss, "step": i})
        out.append({"type": "MESSAGE", "time": "2024-01-01T00:00:00", "message": f"step {i}"})
    return out


def _running_trial(make_job) -> tuple[Trial, TrialSession]:
    job = make_job(budget={"MODEL_TRIAL_COUNT": 1}, parallelism=1)
    (trial_id,) = train_job_schedule(job_id=job.pk)
    attempt = trial_claim(trial_id=trial_id, worker="test:1")
    session = TrialSession(trial_id, attempt)
    plot = {"title": "Loss", "metrics": ["loss"], "x_axis": "step"}
    session.on_events([{"type": "PLOT", "time": "2024-01-01T00:00:00", **plot}])
    return Trial.objects.get(pk=trial_id), session


def test_the_worker_keeps_the_summary_as_it_stores_rows(make_job) -> None:
    trial, session = _running_trial(make_job)
    for start in range(0, 5000, 250):
        session.on_events(_records(250, start))
    summary = TrialMetricSummary.objects.get(trial=trial)
    assert summary.attempt == trial.attempt and summary.seen >= 2 * FOLD_EVERY
    # Only the rows after the last fold are read as they are.
    waiting = TrialLog.objects.filter(trial=trial, type="METRICS", id__gt=summary.cursor).count()
    assert waiting < FOLD_EVERY
    rows = trial_metric_rows_charted(trial=trial, up_to_id=trial_log_last_id(trial=trial))
    steps = [values["step"] for _, values in rows]
    assert steps == sorted(steps) and steps[-1] == 4999 and len(rows) < 5000
    assert max(values["loss"] for _, values in rows) > 5  # the spike at step 3333


def test_trial_page_charts_from_the_summary_and_the_rows_after_it(make_job, alice) -> None:
    trial, session = _running_trial(make_job)
    session.on_events(_records(2 * FOLD_EVERY + 10))
    client = Client()
    client.force_login(alice)
    page = client.get(f"/trials/{trial.pk}/")
    figure = page.context["figures"][0]
    xs = figure["data"][0]["x"]
    assert xs[-1] == 2 * FOLD_EVERY + 9  # the newest point, stored after the last fold
    assert max(figure["data"][0]["y"]) > 5


def test_a_trial_without_a_summary_gets_one_on_its_first_view(make_job, alice) -> None:
    trial, session = _running_trial(make_job)
    session.on_events(_records(2 * FOLD_EVERY + 500))
    TrialMetricSummary.objects.filter(trial=trial).delete()  # as if logged before summaries
    client = Client()
    client.force_login(alice)
    client.get(f"/trials/{trial.pk}/")
    summary = TrialMetricSummary.objects.get(trial=trial)
    assert summary.seen == 2 * FOLD_EVERY + 500


def test_a_retried_trial_starts_its_summary_over(make_job) -> None:
    trial, session = _running_trial(make_job)
    session.on_events(_records(2 * FOLD_EVERY))
    assert TrialMetricSummary.objects.get(trial=trial).attempt == 1
    # The worker was lost: the trial is claimed again and its log rewritten from the start.
    Trial.objects.filter(pk=trial.pk).update(status=Trial.Status.PENDING)
    TrainJob.objects.filter(pk=trial.job_id).update(status=TrainJob.Status.RUNNING)
    attempt = trial_claim(trial_id=trial.pk, worker="test:2")
    trial.refresh_from_db()
    # Until the new attempt folds, the old attempt's summary is not used.
    TrialSession(trial.pk, attempt).on_events(_records(10))
    rows = trial_metric_rows_charted(trial=trial, up_to_id=trial_log_last_id(trial=trial))
    assert [values["step"] for _, values in rows] == list(range(10))
    assert trial_metric_summary_update(trial_id=trial.pk, attempt=attempt, fold_at=1)
    summary = TrialMetricSummary.objects.get(trial=trial)
    assert summary.attempt == attempt and summary.seen == 10
