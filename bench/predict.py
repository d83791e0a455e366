#!/usr/bin/env python
"""The predictor's added latency and its throughput, on a warm inference job.

Trains SkLogisticRegression on the digits (2 trials, in this process through the trial
runner), deploys the best trial (max_trials=1, so no ensembling: the figure is the platform's
cost alone) with a real `manage.py inference_worker`, and serves the predictor from the
Rafiki-compatible server as `make run` starts it (gunicorn, rafiki_web/gunicorn_conf.py, with
ROOT_URLCONF=apps.compat.urls), all on a private Redis and SQLite database. Then:

1. Added latency = the HTTP round trip to `http://{predictor_host}/predict` minus the same
   model's `predict` called in this process, for batches of 1 and 64 images (p50 and p99 of
   each, each over --requests requests, after a warm-up). The bus alone (the platform's
   `predict` service called in this process: Redis, the worker, the confined model process;
   no HTTP, no Django request) is printed too, to show where the time goes.
2. Throughput: 50 concurrent clients sending batch-1 requests for --seconds seconds.

Usage: .venv/bin/python bench/predict.py [--requests 300] [--seconds 10] [--clients 50]
                                         [--plain-runserver]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

from _harness import ROOT, Processes, free_port, private_data_dir, wait_port

DATA = private_data_dir("predict", INFERENCE_POLL_SECONDS="0.2")
sys.path.insert(0, str(ROOT / "examples"))


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def timed(call: Callable[[], object], n: int) -> list[float]:
    out = []
    for _ in range(n):
        start = time.perf_counter()
        call()
        out.append((time.perf_counter() - start) * 1000)
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument(
        "--plain-runserver",
        action="store_true",
        help="serve with Django's development server (what `make run` used before gunicorn)",
    )
    args = parser.parse_args()

    import django

    django.setup()
    import numpy as np
    import requests
    from datasets.image_digits import build_digits
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.core.management import call_command

    from apps.accounts.models import User
    from apps.datasets.services import dataset_create
    from apps.inference.models import InferenceJob
    from apps.inference.predictor import predict as service_predict
    from apps.inference.selectors import predictor_host
    from apps.inference.services import inference_job_create
    from apps.models.services import model_template_create
    from apps.trials.execution import trial_execute
    from apps.trials.models import Trial
    from apps.trials.services import train_job_create, train_job_schedule
    from rafiki.model import load_model_class
    from rafiki.model.params import load_params
    from rafiki.model.utils import utils
    from rafiki_web import gunicorn_conf
    from rafiki_web.gunicorn_conf import web_server_command

    call_command("migrate", verbosity=0)
    procs = Processes(DATA)
    try:
        redis_url = procs.start_redis()
        from django.conf import settings

        settings.REDIS_URL = redis_url
        web_port = free_port()
        settings.PREDICTOR_HOST = f"127.0.0.1:{web_port}"
        env = {
            **os.environ,
            "REDIS_URL": redis_url,
            "PYTHONPATH": str(ROOT),
            "PREDICTOR_HOST": settings.PREDICTOR_HOST,
        }

        print("training SkLogisticRegression on the digits (2 trials)...", flush=True)
        paths = build_digits(str(DATA / "digits"), image_size=8)
        user = User.objects.create_user("bench@rafiki", "bench")
        model_file = ROOT / "examples/models/image_classification/SkLogisticRegression.py"
        model = model_template_create(
            owner=user, name="lr", task="IMAGE_CLASSIFICATION",
            file=SimpleUploadedFile("lr.py", model_file.read_bytes()), class_name="SkLogisticRegression",
            dependencies={}, access_right="PRIVATE",
        )  # fmt: skip
        train, val = (
            dataset_create(
                owner=user,
                name=split,
                task="IMAGE_CLASSIFICATION",
                file=SimpleUploadedFile(f"{split}.zip", Path(paths[split]).read_bytes()),
            )
            for split in ("train", "val")
        )
        train_job = train_job_create(
            owner=user, app="bench", task="IMAGE_CLASSIFICATION", train_dataset=train, val_dataset=val,
            models=[model], budget={"MODEL_TRIAL_COUNT": 2}, train_args={},
        )  # fmt: skip
        train_job_schedule(job_id=train_job.pk)
        while True:
            train_job.refresh_from_db()
            if train_job.is_final:
                break
            pending = Trial.objects.filter(job=train_job, status="PENDING").first()
            if pending is None:
                train_job_schedule(job_id=train_job.pk)
                continue
            trial_execute(trial_id=pending.pk)

        procs.start([sys.executable, "manage.py", "inference_worker"], env, "inference-worker.log")
        procs.start(
            [sys.executable, "manage.py", "runserver", f"127.0.0.1:{web_port}", "--noreload"]
            if args.plain_runserver
            else web_server_command(f"127.0.0.1:{web_port}"),
            {**env, "ROOT_URLCONF": "apps.compat.urls"},
            "web.log",
        )
        job = inference_job_create(owner=user, train_job=train_job, max_trials=1)
        deadline = time.monotonic() + 120
        while job.status != "RUNNING":
            if time.monotonic() > deadline or job.status == "ERRORED":
                raise SystemExit(f"the inference job did not start: {job.status} {job.error}")
            time.sleep(0.2)
            job.refresh_from_db()
        wait_port(web_port)
        url = f"http://{predictor_host(job=job)}/predict"

        images, _ = utils.dataset.load_dataset_of_image_files(paths["val"]).to_arrays()
        images = np.asarray(images)
        batches = {1: images[:1].tolist(), 64: images[:64].tolist()}
        trial = job.workers.get().trial
        with model_file.open("rb") as f:
            clazz = load_model_class(f.read(), "SkLogisticRegression")
        local = clazz(**trial.knobs)
        local.load_parameters(load_params(trial.params_file.path))

        session = requests.Session()
        job = InferenceJob.objects.select_related("train_job__train_dataset").get(pk=job.pk)
        print(
            f"\nAdded latency over in-process predict ({args.requests} requests each, warm job, 1 trial):"
        )
        print(f"{'batch':>6} {'in-process p50':>15} {'HTTP p50':>9} {'HTTP p99':>9} {'added p50':>10} "
              f"{'added p99':>10} {'bus-only added p50':>19}")  # fmt: skip
        for size, queries in batches.items():

            def over_http(queries: list = queries) -> None:
                session.post(url, json={"queries": queries}).raise_for_status()

            def in_process(queries: list = queries) -> None:
                local.predict(queries)

            def through_bus(queries: list = queries) -> None:
                service_predict(job=job, queries=queries)

            timed(over_http, 30)
            timed(in_process, 30)
            base = timed(in_process, args.requests)
            http = timed(over_http, args.requests)
            bus = timed(through_bus, args.requests)
            base50 = statistics.median(base)
            print(
                f"{size:>6} {base50:>12.2f} ms {statistics.median(http):>6.2f} ms {percentile(http, 99):>6.2f} ms "
                f"{statistics.median(http) - base50:>7.2f} ms {percentile(http, 99) - percentile(base, 99):>7.2f} ms "
                f"{statistics.median(bus) - base50:>16.2f} ms"
            )  # fmt: skip

        print(f"\nThroughput: {args.clients} concurrent clients, batch 1, {args.seconds:g} s")
        stop = time.monotonic() + args.seconds
        counts = [0] * args.clients
        errors = [0] * args.clients

        def client(i: int) -> None:
            s = requests.Session()
            while time.monotonic() < stop:
                try:
                    r = s.post(url, json={"query": batches[1][0]}, timeout=60)
                except requests.RequestException:  # e.g. runserver's backlog of 10 overflowing
                    errors[i] += 1
                    s = requests.Session()
                    continue
                if r.status_code == 200:
                    counts[i] += 1
                else:
                    errors[i] += 1

        threads = [threading.Thread(target=client, args=(i,)) for i in range(args.clients)]
        began = time.monotonic()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        elapsed = time.monotonic() - began
        print(
            f"  {sum(counts)} answered, {sum(errors)} errors: {sum(counts) / elapsed:.0f} predictions/s"
        )
        server = (
            "Django's runserver"
            if args.plain_runserver
            else f"gunicorn, {gunicorn_conf.workers} workers x {gunicorn_conf.threads} threads"
        )
        print(f"\n(data folder {DATA}; the web server is {server})")
    finally:
        procs.stop_all()


if __name__ == "__main__":
    main()
