#!/usr/bin/env python
"""Dashboard pages at scale: server time and bytes of the job page with 10,000 trials and of
the trial page with 100,000 log rows (50,000 messages, 50,000 metric rows feeding two plots).

Fills a temporary SQLite database with bulk_create, then requests the pages in-process with
Django's test client (server time = the whole request/response cycle, no network) and prints
the first view (empty cache) and the median of several later views next to the targets
(300 ms, 2 MB). plotly.min.js is a static
file the browser caches; its size is printed separately.

Usage: .venv/bin/python bench/dashboard.py [--trials 10000] [--log-rows 100000] [--runs 5]
"""

from __future__ import annotations

import argparse
import gzip
import statistics
import time
from datetime import timedelta

from _harness import ROOT, private_data_dir

DATA = private_data_dir("dashboard", ALLOWED_HOSTS="testserver")

import django

django.setup()

from django.conf import settings
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

TARGET_MS = 300
TARGET_BYTES = 2 * 1024 * 1024
#: Log rows per stored batch (the worker stores what the trial wrote since its last read).
LOG_BATCH = 500


def fill(trials: int, log_rows: int):
    from apps.accounts.models import User
    from apps.datasets.services import dataset_create
    from apps.models.services import model_template_create
    from apps.trials.models import TrainJob, Trial, TrialLog
    from apps.trials.services import train_job_create

    settings.CELERY_BROKER_URL = "memory://"
    user = User.objects.create_user("bench@rafiki", "pw")
    toy = ROOT / "tests" / "fixtures" / "models" / "toy.py"
    model = model_template_create(
        owner=user,
        name="toy",
        task="BENCH",
        file=SimpleUploadedFile("toy.py", toy.read_bytes()),
        class_name="Toy",
    )
    train = dataset_create(
        owner=user, name="train", task="BENCH", file=SimpleUploadedFile("t.txt", b"x")
    )
    val = dataset_create(
        owner=user, name="val", task="BENCH", file=SimpleUploadedFile("v.txt", b"x")
    )
    job = train_job_create(
        owner=user, app="bench", task="BENCH", train_dataset=train, val_dataset=val, models=[model],
        budget={"MODEL_TRIAL_COUNT": trials, "TIME_HOURS": 24},
    )  # fmt: skip
    TrainJob.objects.filter(pk=job.pk).update(status=TrainJob.Status.RUNNING)
    sub = job.sub_jobs.get()
    start = timezone.now() - timedelta(hours=3)
    rows = []
    for n in range(1, trials + 1):
        began = start + timedelta(seconds=n)
        errored = n % 17 == 0
        rows.append(
            Trial(
                job=job, sub_job=sub, number=n,
                knobs={"x": (n * 7919) % 1000 + 1, "lr": 10 ** -(1 + (n % 40) / 10), "opt": ["adam", "sgd", "rms"][n % 3], "name": "toy"},
                status=Trial.Status.ERRORED if errored else Trial.Status.COMPLETED,
                score=None if errored else ((n * 7919) % 1000) / 1000,
                datetime_started=began, datetime_stopped=began + timedelta(seconds=2),
                end_reason="EXCEPTION" if errored else "", traceback="Traceback...\nValueError: bad" if errored else "",
            )
        )  # fmt: skip
    Trial.objects.bulk_create(rows, batch_size=2000)
    busy = Trial.objects.get(job=job, number=1)
    Trial.objects.filter(pk=busy.pk).update(
        status=Trial.Status.RUNNING, score=None, datetime_stopped=None
    )
    logs = [
        TrialLog(
            trial=busy,
            time=start,
            type="PLOT",
            payload={"title": "Loss", "metrics": ["loss", "val_loss"], "x_axis": "step"},
        ),
        TrialLog(
            trial=busy,
            time=start,
            type="PLOT",
            payload={"title": "Accuracy", "metrics": ["acc"], "x_axis": None},
        ),
    ]
    metrics = log_rows // 2
    for i in range(log_rows - 2):
        when = start + timedelta(milliseconds=100 * i)
        if i % 2:
            logs.append(
                TrialLog(
                    trial=busy,
                    time=when,
                    type="MESSAGE",
                    payload={"message": f"step {i}: all is well and training goes on"},
                )
            )
        else:
            step = i // 2
            logs.append(
                TrialLog(
                    trial=busy,
                    time=when,
                    type="METRICS",
                    payload={
                        "loss": 1 / (1 + step),
                        "val_loss": 1.2 / (1 + step),
                        "acc": step / metrics,
                        "step": step,
                    },
                )
            )
    # Stored the way the worker stores them: in batches, each followed by the worker's hook
    # that keeps the trial's metric summary current.
    from apps.trials.metric_summary import trial_metric_summary_on_rows

    hook_seconds = 0.0
    for start_at in range(0, len(logs), LOG_BATCH):
        batch = TrialLog.objects.bulk_create(logs[start_at : start_at + LOG_BATCH])
        began = time.perf_counter()
        trial_metric_summary_on_rows(trial_id=busy.pk, attempt=busy.attempt, rows=batch)
        hook_seconds += time.perf_counter() - began
    return user, job, busy, hook_seconds


def measure(client: Client, url: str, runs: int) -> tuple[float, float, int, int]:
    """(first view ms, median ms of the next ``runs`` views, bytes, gzipped bytes). The first
    view starts with an empty cache (the job page caches its figures until a trial ends)."""
    cache.clear()
    began = time.perf_counter()
    response = client.get(url)
    first = (time.perf_counter() - began) * 1000
    assert response.status_code == 200, (url, response.status_code)
    times = []
    size, gz = len(response.content), len(gzip.compress(response.content))
    for _ in range(runs):
        began = time.perf_counter()
        response = client.get(url)
        body = response.content
        times.append((time.perf_counter() - began) * 1000)
        assert response.status_code == 200, (url, response.status_code)
        size, gz = max(size, len(body)), max(gz, len(gzip.compress(body)))
    return first, statistics.median(times), size, gz


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--trials", type=int, default=10_000)
    parser.add_argument("--log-rows", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()

    call_command("migrate", verbosity=0)
    began = time.perf_counter()
    user, job, busy, hook_seconds = fill(args.trials, args.log_rows)
    print(
        f"filled {args.trials} trials and {args.log_rows} log rows in "
        f"{time.perf_counter() - began:.1f} s ({DATA}); the worker's metric-summary hook took "
        f"{hook_seconds * 1000:.0f} ms of it ({args.log_rows // LOG_BATCH} batches of "
        f"{LOG_BATCH} rows)"
    )

    client = Client()
    client.force_login(user)
    from apps.trials.models import TrialMetricSummary
    from apps.trials.selectors import trial_log_last_id

    cursor = trial_log_last_id(trial=busy)
    pages = [
        (f"job page, {args.trials} trials", f"/jobs/{job.pk}/"),
        ("job page sorted by score, page 100", f"/jobs/{job.pk}/?sort=-score&page=100"),
        (f"trial page, {args.log_rows} log rows", f"/trials/{busy.pk}/"),
        ("trial live poll (nothing new)", f"/trials/{busy.pk}/live?after={cursor}&plots=2"),
        (
            "trial live poll (500-row batch)",
            f"/trials/{busy.pk}/live?after={cursor - 2000}&plots=2",
        ),
        ("home", "/"),
    ]
    client.get("/")  # load templates and open the connection once
    print(
        f"\n{'page':<38} {'first ms':>9} {'cached ms':>10} {'bytes':>10} {'gzip':>9}"
        f"   first/target  cached/target  bytes/target"
    )
    worst = 0.0
    for label, url in pages:
        first, ms, size, gz = measure(client, url, args.runs)
        worst = max(worst, first / TARGET_MS, ms / TARGET_MS, size / TARGET_BYTES)
        print(
            f"{label:<38} {first:>9.1f} {ms:>10.1f} {size:>10,} {gz:>9,}"
            f"   {first / TARGET_MS:>12.2f}  {ms / TARGET_MS:>13.2f}  {size / TARGET_BYTES:>12.3f}"
        )
    # A trial logged before metric summaries existed: its first view builds the summary.
    TrialMetricSummary.objects.filter(trial=busy).delete()
    first, ms, size, gz = measure(client, f"/trials/{busy.pk}/", args.runs)
    print(
        f"{'trial page, no summary yet (once)':<38} {first:>9.1f} {ms:>10.1f} {size:>10,} {gz:>9,}"
    )
    plotly_js = ROOT / "static" / "vendor" / "plotly.min.js"
    raw = plotly_js.read_bytes()
    shipped = plotly_js.with_name("plotly.min.js.gz")
    print(
        f"\nplotly.min.js (static, cached by the browser): {len(raw):,} bytes; served as "
        f"static/vendor/plotly.min.js.gz, {shipped.stat().st_size:,} bytes, to browsers that accept gzip"
    )
    print(
        f"worst ratio to target (first and cached views, bytes): {worst:.2f} "
        f"({'within' if worst <= 1 else 'OVER'} the targets)"
    )
    print("first ms: the first view with an empty cache; cached ms: the median of the next views.")
    print("The trial page charts the metric summary the worker keeps as it stores rows, plus the")
    print("rows after it; the last line is a trial whose summary is built on its first view.")


if __name__ == "__main__":
    main()
