"""The `trials.run_trial` task body with the real runner subprocess (no broker)."""

import os
from pathlib import Path

import pytest

from apps.trials.execution import TrialSession, trial_claim
from apps.trials.models import TrainJob, Trial, TrialLog
from apps.trials.selectors import trial_list_best, trial_log_rows
from apps.trials.services import train_job_schedule
from apps.trials.tasks import run_trial
from rafiki.model.params import load_params
from rafiki.runner.limits import bwrap_path
from tests.conftest import drive


def test_job_runs_trials_to_the_end_with_scores_logs_and_params(make_job) -> None:
    job = drive(make_job(budget={"MODEL_TRIAL_COUNT": 3}, train_args={"log_lines": 2}))
    assert job.status == TrainJob.Status.STOPPED
    trials = list(Trial.objects.filter(job=job).order_by("number"))
    assert [t.status for t in trials] == [Trial.Status.COMPLETED] * 3
    for trial in trials:
        assert trial.score == pytest.approx(trial.knobs["x"] / 1000)
        assert trial.attempt == 1 and trial.end_reason == "COMPLETED"
        assert trial.datetime_started <= trial.datetime_stopped
        assert trial.is_params_saved
        params = load_params(trial.params_file.path)
        assert params["x"] == trial.knobs["x"]
        rows = trial_log_rows(trial=trial)
        assert [r.type for r in rows] == ["PLOT", "MESSAGE", "MESSAGE", "METRICS"]
        assert rows[0].payload == {"title": "Loss", "metrics": ["loss"], "x_axis": "epoch"}
        assert rows[3].payload["loss"] == pytest.approx(1 / trial.knobs["x"])
        assert trial_log_rows(trial=trial, after_id=rows[1].id) == rows[2:]
    best = list(trial_list_best(job=job, max_count=2))
    assert best[0].score >= best[1].score == max(t.score for t in trials if t != best[0])


def test_duplicate_delivery_is_harmless(make_job) -> None:
    job = make_job(budget={"MODEL_TRIAL_COUNT": 1}, parallelism=1)
    (trial_id,) = train_job_schedule(job_id=job.pk)
    run_trial(trial_id)
    run_trial(trial_id)  # the same message delivered again
    trial = Trial.objects.get(pk=trial_id)
    assert trial.status == Trial.Status.COMPLETED and trial.attempt == 1
    assert TrialLog.objects.filter(trial=trial, type="MESSAGE").count() == 3
    assert Trial.objects.filter(job=job).count() == 1


def test_writes_of_a_superseded_attempt_are_ignored(make_job) -> None:
    job = make_job(budget={"MODEL_TRIAL_COUNT": 1}, parallelism=1)
    (trial_id,) = train_job_schedule(job_id=job.pk)
    old_attempt = trial_claim(trial_id=trial_id, worker="lost-worker:1")
    old = TrialSession(trial_id, old_attempt)
    # The reconciler gave the trial back (the worker looked dead) and another worker ran it.
    Trial.objects.filter(pk=trial_id).update(status=Trial.Status.PENDING)
    run_trial(trial_id)
    old.on_events([{"type": "MESSAGE", "time": "2024-01-01T00:00:00", "message": "late"}])
    assert old.should_stop()
    trial = Trial.objects.get(pk=trial_id)
    assert trial.attempt == 2 and trial.status == Trial.Status.COMPLETED
    assert not TrialLog.objects.filter(trial=trial, payload__message="late").exists()


def test_shared_params_of_the_best_trial_reach_the_next_trial(make_job, monkeypatch) -> None:
    from rafiki.advisor import Proposal

    job = make_job(budget={"MODEL_TRIAL_COUNT": 3}, parallelism=1)
    train_job_schedule(job_id=job.pk)
    run_trial(Trial.objects.get(job=job, number=1).pk)  # and schedules trial 2
    monkeypatch.setattr(
        "apps.trials.services._propose",
        lambda job, sub, trials: Proposal(knobs={"x": 1, "name": "toy"}, share_params=True),
    )
    run_trial(Trial.objects.get(job=job, number=2).pk)  # and schedules trial 3, sharing
    best = max(Trial.objects.filter(job=job, number__lte=2), key=lambda t: t.score)
    trial = Trial.objects.get(job=job, number=3)
    run_trial(trial.pk)
    trial.refresh_from_db()
    assert trial.status == Trial.Status.COMPLETED
    assert trial.shared_params_from == best and trial.proposal["share_params"] is True
    assert TrialLog.objects.filter(
        trial=trial, payload__message=f"shared params from x={best.knobs['x']}"
    ).exists()


def test_model_error_ends_trial_and_job_errored_with_traceback(make_job) -> None:
    job = drive(
        make_job(budget={"MODEL_TRIAL_COUNT": 3}, train_args={"fault": "raise"}, parallelism=1)
    )
    assert job.status == TrainJob.Status.ERRORED
    assert "the model raised on purpose" in job.error
    (trial,) = Trial.objects.filter(job=job)  # the model is given up after its first error
    assert (trial.status, trial.end_reason) == (Trial.Status.ERRORED, "ERROR")
    assert "RuntimeError" in trial.traceback
    assert not trial.is_params_saved


def test_bad_knob_values_after_a_success_do_not_fail_the_job(make_job, monkeypatch) -> None:
    job = make_job(
        budget={"MODEL_TRIAL_COUNT": 4}, train_args={"fail_when_x_above": 500}, parallelism=1
    )
    job = drive(job)
    statuses = {t.knobs["x"] > 500: t.status for t in Trial.objects.filter(job=job)}
    if True in statuses and False in statuses:
        assert statuses == {True: Trial.Status.ERRORED, False: Trial.Status.COMPLETED}
    completed = Trial.objects.filter(job=job, status=Trial.Status.COMPLETED).exists()
    assert job.status == (TrainJob.Status.STOPPED if completed else TrainJob.Status.ERRORED)


FAULTS = {
    # fault: (expected end reason, extra settings)
    "exit3": ("NO_RESULT", {}),
    "os_exit": ("NO_RESULT", {}),
    "spin": ("TIMEOUT", {"TRIAL_TIMEOUT_SECONDS": 2}),
    "sleep_forever": ("TIMEOUT", {"TRIAL_TIMEOUT_SECONDS": 2}),
    "memory": ("OUT_OF_MEMORY", {"TRIAL_MEMORY_MB": 512}),
    "segfault": ("SIGNAL", {}),
}


@pytest.mark.parametrize("fault", sorted(FAULTS))
def test_misbehaving_model_ends_trial_with_reason_and_job_final(make_job, settings, fault) -> None:
    reason, extra = FAULTS[fault]
    for name, value in extra.items():
        setattr(settings, name, value)
    job = drive(make_job(budget={"MODEL_TRIAL_COUNT": 1}, train_args={"fault": fault}))
    (trial,) = Trial.objects.filter(job=job)
    assert (trial.status, trial.end_reason) == (Trial.Status.ERRORED, reason), trial.error
    assert trial.error
    assert job.status == TrainJob.Status.ERRORED
    if fault in ("spin", "sleep_forever"):
        # The log rows written before the trial hung were kept. (A process that dies within
        # the SDK logger's flush interval of its last record may take those records with it.)
        assert TrialLog.objects.filter(trial=trial, type="MESSAGE").count() == 3
    # This process played the worker: it is alive and can run the next job.
    later = drive(
        make_job(models=[trial.sub_job.model], budget={"MODEL_TRIAL_COUNT": 1}, app="next")
    )
    assert later.status == TrainJob.Status.STOPPED
    assert os.getpid()


def test_printing_100_mb_completes_with_capped_output(make_job) -> None:
    job = drive(make_job(budget={"MODEL_TRIAL_COUNT": 1}, train_args={"fault": "print100mb"}))
    (trial,) = Trial.objects.filter(job=job)
    assert trial.status == Trial.Status.COMPLETED
    assert len(trial.stdout_tail) < 200_000
    assert job.status == TrainJob.Status.STOPPED


def test_stopped_job_terminates_its_running_trial(make_job, settings) -> None:
    settings.TRIAL_HEARTBEAT_SECONDS = 0.1
    settings.TRIAL_POLL_SECONDS = 0.1
    job = make_job(budget={"MODEL_TRIAL_COUNT": 1}, train_args={"fault": "sleep_forever"})
    (trial_id,) = train_job_schedule(job_id=job.pk)
    calls = {"n": 0}
    original = TrialSession.on_heartbeat

    def stop_after_a_few_beats(self: TrialSession) -> None:
        calls["n"] += 1
        if calls["n"] == 3:
            TrainJob.objects.filter(pk=job.pk).update(status=TrainJob.Status.STOPPED)
        original(self)

    TrialSession.on_heartbeat = stop_after_a_few_beats  # type: ignore[method-assign]
    try:
        run_trial(trial_id)
    finally:
        TrialSession.on_heartbeat = original  # type: ignore[method-assign]
    trial = Trial.objects.get(pk=trial_id)
    assert (trial.status, trial.end_reason) == (Trial.Status.ERRORED, "STOPPED")


@pytest.mark.skipif(bwrap_path() is None, reason="bubblewrap is not installed or not usable")
def test_a_trial_sees_only_its_own_inputs(alice, bob, make_model, make_dataset, settings) -> None:
    """Warm trials fork from one zygote per worker process; the worker's file cache holds the
    datasets of every job it ran, another user's included, and must stay out of sight."""
    from apps.trials.services import train_job_create

    secret = make_dataset(owner=bob, name="secret", content=b"bob's secret rows\n")
    bobs_job = train_job_create(
        owner=bob, app="bobs", task=secret.task, train_dataset=secret, val_dataset=secret,
        models=[make_model(owner=bob)], budget={"MODEL_TRIAL_COUNT": 1},
    )  # fmt: skip
    assert drive(bobs_job).status == TrainJob.Status.STOPPED  # the secret is in the cache now
    cache = Path(settings.WORKER_DIR) / "cache"
    cached = [p for p in cache.iterdir() if p.read_bytes() == b"bob's secret rows\n"]
    assert cached

    mine = make_dataset(name="mine", content=b"alice rows\n")
    job = train_job_create(
        owner=alice, app="snoop", task=mine.task, train_dataset=mine, val_dataset=mine,
        models=[make_model(name="snoop", file="snoop.py", class_name="Snoop")],
        budget={"MODEL_TRIAL_COUNT": 1}, train_args={"peek": str(cached[0])},
    )  # fmt: skip
    assert drive(job).status == TrainJob.Status.STOPPED
    messages = [
        r.payload["message"] for r in TrialLog.objects.filter(trial__job=job, type="MESSAGE")
    ]
    assert "no peek: FileNotFoundError" in messages, messages
    (beside,) = [m for m in messages if m.startswith("beside: ")]
    assert beside.count(",") == 1, beside  # the model file and the one dataset, nothing else
    assert not any("secret" in m for m in messages)
