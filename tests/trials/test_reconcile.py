from datetime import timedelta

from django.utils import timezone

from apps.trials.execution import trial_claim
from apps.trials.models import TrainJob, Trial
from apps.trials.services import train_job_schedule, trials_reconcile
from apps.trials.tasks import reconcile, run_trial


def _age_heartbeat(trial_id: int, seconds: float) -> None:
    Trial.objects.filter(pk=trial_id).update(
        heartbeat_at=timezone.now() - timedelta(seconds=seconds)
    )


def test_stale_running_trial_is_requeued_then_run_again(
    make_job, settings, django_capture_on_commit_callbacks
) -> None:
    job = make_job(budget={"MODEL_TRIAL_COUNT": 1}, parallelism=1)
    (trial_id,) = train_job_schedule(job_id=job.pk)
    assert trial_claim(trial_id=trial_id, worker="dead-host:42") == 1
    _age_heartbeat(trial_id, settings.TRIAL_STALE_SECONDS + 1)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        counts = reconcile()
    assert counts["requeued"] == 1 and len(callbacks) == 1
    trial = Trial.objects.get(pk=trial_id)
    assert trial.status == Trial.Status.PENDING and trial.worker == ""
    run_trial(trial_id)
    trial.refresh_from_db()
    assert (trial.status, trial.attempt) == (Trial.Status.COMPLETED, 2)
    job.refresh_from_db()
    assert job.status == TrainJob.Status.STOPPED


def test_fresh_running_trial_is_left_alone(make_job) -> None:
    job = make_job(budget={"MODEL_TRIAL_COUNT": 1}, parallelism=1)
    (trial_id,) = train_job_schedule(job_id=job.pk)
    trial_claim(trial_id=trial_id, worker="busy-host:1")
    assert trials_reconcile()["requeued"] == 0
    assert Trial.objects.get(pk=trial_id).status == Trial.Status.RUNNING


def test_trial_lost_too_often_ends_errored_and_job_finishes(
    make_job, settings, django_capture_on_commit_callbacks
) -> None:
    settings.TRIAL_MAX_ATTEMPTS = 2
    job = make_job(budget={"MODEL_TRIAL_COUNT": 1}, parallelism=1)
    (trial_id,) = train_job_schedule(job_id=job.pk)
    for attempt in (1, 2):
        assert trial_claim(trial_id=trial_id, worker=f"dead:{attempt}") == attempt
        _age_heartbeat(trial_id, settings.TRIAL_STALE_SECONDS + 1)
        with django_capture_on_commit_callbacks(execute=False):
            trials_reconcile()
    trial = Trial.objects.get(pk=trial_id)
    assert (trial.status, trial.end_reason) == (Trial.Status.ERRORED, "WORKER_LOST")
    assert "dead:2" in trial.error
    train_job_schedule(job_id=job.pk)  # what the enqueued schedule task does
    job.refresh_from_db()
    assert job.status == TrainJob.Status.ERRORED and "WORKER_LOST" in job.error


def test_orphaned_pending_trial_is_enqueued_again(
    make_job, settings, django_capture_on_commit_callbacks
) -> None:
    job = make_job(budget={"MODEL_TRIAL_COUNT": 1}, parallelism=1)
    (trial_id,) = train_job_schedule(job_id=job.pk)
    before = Trial.objects.get(pk=trial_id)
    assert trials_reconcile()["orphans"] == 0  # just enqueued: a worker may pick it up yet
    Trial.objects.filter(pk=trial_id).update(
        enqueued_at=timezone.now() - timedelta(seconds=settings.TRIAL_ORPHAN_SECONDS + 1)
    )
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        assert trials_reconcile()["orphans"] == 1
    assert len(callbacks) == 1
    assert Trial.objects.get(pk=trial_id).task_id != before.task_id


def test_idle_active_job_is_scheduled_again(make_job, monkeypatch) -> None:
    job = make_job(budget={"MODEL_TRIAL_COUNT": 1})
    scheduled: list[int] = []
    monkeypatch.setattr("apps.trials.services._enqueue_schedule", scheduled.append)
    assert trials_reconcile()["jobs"] == 1
    assert scheduled == [job.pk]
