#!/usr/bin/env python
"""Platform overhead per trial, and worker scaling.

1. Overhead: a job of 50 no-op trials (parallelism 1) through Redis and a real Celery worker,
   against the same 50 trials in-process (advisor.propose -> model -> train/evaluate/dump ->
   save_params -> advisor.feedback). Overhead per trial = median cycle through the platform
   (one trial's creation to the next one's) - median in-process trial. The cycle is split into
   queue + claim, the runner subprocess (spawn, interpreter start, imports, user code, result
   checks), and record + schedule (store params, rows, rebuild advisor, next trial).
2. Scaling: a job of CPU-bound trials (parallelism 2) on 1 worker process, then on 2; prints
   the throughput ratio.

Usage: .venv/bin/python bench/trial_overhead.py [--trials 50] [--cpu-trials 8] [--cpu-seconds 1.5]
Everything runs in a temporary data folder with its own SQLite database and Redis.
"""

from __future__ import annotations

import argparse
import itertools
import os
import statistics
import subprocess
import sys
import time

from _harness import ROOT, Processes, private_data_dir

DATA = private_data_dir("overhead")

NOOP_MODEL = b"""
from rafiki.model import BaseModel, IntegerKnob


class Noop(BaseModel):
    @staticmethod
    def get_knob_config():
        return {"x": IntegerKnob(1, 1000)}

    def __init__(self, **knobs):
        super().__init__(**knobs)
        self.x = knobs["x"]

    def train(self, dataset_path, shared_params=None, spin_seconds=0, **train_args):
        import time
        end = time.process_time() + float(spin_seconds)
        n = 0
        while time.process_time() < end:  # CPU-bound work for the scaling test
            n += 1

    def evaluate(self, dataset_path):
        return self.x / 1000.0

    def predict(self, queries):
        return [0 for _ in queries]

    def dump_parameters(self):
        return {"x": self.x}

    def load_parameters(self, params):
        self.x = params["x"]
"""


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--trials", type=int, default=50)
    parser.add_argument("--cpu-trials", type=int, default=12)
    parser.add_argument("--cpu-seconds", type=float, default=1.5)
    args = parser.parse_args()

    import django

    django.setup()
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.core.management import call_command

    from apps.accounts.models import User
    from apps.datasets.services import dataset_create
    from apps.models.services import model_template_create
    from apps.trials.models import Trial
    from apps.trials.services import train_job_create
    from rafiki_web.celery import app as celery_app

    call_command("migrate", verbosity=0)
    procs = Processes(DATA)
    redis_url = procs.start_redis()
    celery_app.conf.broker_url = redis_url
    worker_env = {**os.environ, "REDIS_URL": redis_url, "PYTHONPATH": str(ROOT)}

    def worker(name: str) -> subprocess.Popen:
        return procs.start(
            [sys.executable, "-m", "celery", "-A", "rafiki_web", "worker", "-l", "warning", "-Q", "rafiki",
             "-c", "1", "-n", f"{name}@%h", "--without-mingle", "--without-gossip"],
            {**worker_env, "RAFIKI_WORKER_DIR": str(DATA / f"worker-{name}")},
            f"worker-{name}.log",
        )  # fmt: skip

    def run_job(app: str, count: int, parallelism: int, train_args: dict) -> list[Trial]:
        job = train_job_create(
            owner=user, app=app, task="BENCH", train_dataset=data, val_dataset=data, models=[model],
            budget={"MODEL_TRIAL_COUNT": count, "TIME_HOURS": 10}, train_args=train_args, parallelism=parallelism,
        )  # fmt: skip
        while True:
            job.refresh_from_db()
            if job.is_final:
                break
            time.sleep(0.1)
        trials = list(Trial.objects.filter(job=job).order_by("number"))
        bad = [t for t in trials if t.status != Trial.Status.COMPLETED]
        if bad:
            raise SystemExit(f"{len(bad)} trials failed: {bad[0].end_reason} {bad[0].error}")
        return trials

    try:
        user = User.objects.create_user("bench@rafiki", "bench")
        model = model_template_create(
            owner=user, name="noop", task="BENCH", file=SimpleUploadedFile("noop.py", NOOP_MODEL),
            class_name="Noop", dependencies={}, access_right="PRIVATE",
        )  # fmt: skip
        data = dataset_create(
            owner=user, name="bench", task="BENCH", file=SimpleUploadedFile("d.txt", b"bench")
        )

        # --- 1. overhead ---------------------------------------------------------------------
        w1 = worker("one")
        run_job("warmup", 2, 1, {})  # worker start, first imports, file cache
        trials = run_job("noop", args.trials, 1, {})
        cycles = [
            (b.datetime_created - a.datetime_created).total_seconds()
            for a, b in itertools.pairwise(trials)
        ]
        queue_claim = [(t.datetime_started - t.datetime_created).total_seconds() for t in trials]
        running = [(t.datetime_stopped - t.datetime_started).total_seconds() for t in trials]
        record_schedule = [
            (b.datetime_created - a.datetime_stopped).total_seconds()
            for a, b in itertools.pairwise(trials)
        ]

        in_process = in_process_trials(model.knob_config, args.trials)
        runner_only = runner_trials(model, 10)
        overhead = statistics.median(cycles) - statistics.median(in_process)

        def ms(xs: list[float]) -> str:
            return f"{1000 * statistics.median(xs):7.1f} ms"

        print(f"\n== Overhead: {args.trials} no-op trials, 1 worker process, parallelism 1")
        print(f"  median cycle through the platform    {ms(cycles)}")
        print(f"    queue + claim                      {ms(queue_claim)}")
        print(f"    claimed -> recorded (runner etc.)  {ms(running)}")
        print(
            f"      of which the runner subprocess   {ms(runner_only)}  (run_trial alone, same model)"
        )
        print(
            f"    recorded -> next trial created     {ms(record_schedule)}  (params, rows, advisor, next trial)"
        )
        tenth = max(len(cycles) // 5, 1)
        print(
            f"    first {tenth} cycles / last {tenth}         {ms(cycles[:tenth])} / {ms(cycles[-tenth:])}"
            "  (growth with the job's size)"
        )
        print(f"  median in-process trial (advisor)    {ms(in_process)}")
        print(
            f"  platform overhead per trial          {1000 * overhead:7.1f} ms  (goal <= 50 ms: "
            f"{'met' if overhead <= 0.05 else 'NOT met'}; ratio to goal {overhead / 0.05:.1f}x)"
        )
        parts = {
            "queue + claim": statistics.median(queue_claim),
            "runner subprocess": statistics.median(runner_only),
            "record + schedule": statistics.median(record_schedule),
        }
        print(f"  dominated by: {max(parts, key=parts.get)}")

        # --- 2. scaling ----------------------------------------------------------------------
        cpu_args = {"spin_seconds": args.cpu_seconds}
        print(
            f"\n== Scaling: {args.cpu_trials} CPU-bound trials of {args.cpu_seconds} s CPU, parallelism 2 "
            f"({os.cpu_count()} CPUs)"
        )
        trials_one = run_job("cpu1", args.cpu_trials, 2, cpu_args)
        w2 = worker("two")
        # Measure steady state, not the second worker's boot: warm it (its first trial pays
        # the worker start, the runner's zygote and the file cache) with a short job first.
        run_job("warmup2", 4, 2, {"spin_seconds": 0.3})
        trials_two = run_job("cpu2", args.cpu_trials, 2, cpu_args)
        one, two = throughput(trials_one), throughput(trials_two)
        for label, rate, trials in (
            ("1 worker process ", one, trials_one),
            ("2 worker processes", two, trials_two),
        ):
            wall = [(t.datetime_stopped - t.datetime_started).total_seconds() for t in trials]
            wait = [(t.datetime_started - t.datetime_created).total_seconds() for t in trials]
            workers = len({t.worker for t in trials})
            print(
                f"  {label}: {rate:.3f} trials/s  (median trial {ms(wall)}, median wait {ms(wait)}, {workers} worker(s) used)"
            )
        print(
            f"  throughput ratio 2:1 = {two / one:.2f} (goal >= 1.8: {'met' if two / one >= 1.8 else 'NOT met'})"
        )
        procs.stop(w2)
        procs.stop(w1)
    finally:
        procs.stop_all()


def throughput(trials) -> float:
    start = min(t.datetime_created for t in trials)
    end = max(t.datetime_stopped for t in trials)
    return len(trials) / (end - start).total_seconds()


def in_process_trials(knob_config_json: dict, count: int) -> list[float]:
    """The same trials without the platform: propose, run the model, save params, feedback."""
    from rafiki.advisor import make_advisor
    from rafiki.model.knob import knob_config_from_json
    from rafiki.model.model import load_model_class
    from rafiki.model.params import save_params

    clazz = load_model_class(NOOP_MODEL, "Noop")
    advisor = make_advisor(knob_config_from_json(knob_config_json), budget=None, seed=1)
    durations = []
    path = DATA / "inprocess.params"
    for _ in range(count):
        start = time.perf_counter()
        proposal = advisor.propose()
        model = clazz(**proposal.knobs)
        model.train("unused")
        score = model.evaluate("unused")
        save_params(model.dump_parameters(), str(path))
        advisor.feedback(proposal.knobs, score)
        durations.append(time.perf_counter() - start)
    return durations


def runner_trials(model, count: int) -> list[float]:
    """run_trial alone (the subprocess part of a platform trial), same model and limits."""
    from apps.trials.execution import _limits
    from apps.trials.models import TrainJob
    from rafiki.runner.supervise import run_trial

    limits = _limits(TrainJob(queue="rafiki"))
    model_path = DATA / "noop_model.py"
    model_path.write_bytes(NOOP_MODEL)
    durations = []
    for i in range(count):
        spec = {"model_file": str(model_path), "model_class": "Noop", "knobs": {"x": 5},
                "train_dataset_path": str(model_path), "val_dataset_path": str(model_path),
                "train_args": {}, "shared_params_path": None}  # fmt: skip
        start = time.perf_counter()
        outcome = run_trial(spec, str(DATA / f"runner-{i}"), limits)
        durations.append(time.perf_counter() - start)
        assert outcome.status == "COMPLETED", outcome.error
    return durations


if __name__ == "__main__":
    main()
