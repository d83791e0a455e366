from datetime import timedelta

from apps.trials.models import SubTrainJob, TrainJob, Trial
from apps.trials.services import train_job_schedule, train_job_stop


def test_schedule_keeps_parallelism_and_enqueues_after_commit(
    make_job, django_capture_on_commit_callbacks
) -> None:
    job = make_job(budget={"MODEL_TRIAL_COUNT": 5}, parallelism=2)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        first = train_job_schedule(job_id=job.pk)
    assert len(first) == 2 and len(callbacks) == 2
    assert train_job_schedule(job_id=job.pk) == []  # two in flight already
    trials = list(Trial.objects.filter(job=job))
    assert [t.number for t in trials] == [1, 2]
    assert all(t.status == Trial.Status.PENDING and t.task_id for t in trials)
    assert trials[0].knobs != trials[1].knobs  # the second proposal knew the first was pending
    assert all(t.knobs["name"] == "toy" and 1 <= t.knobs["x"] <= 1000 for t in trials)


def test_trial_count_is_per_model(make_job, make_model) -> None:
    models = [make_model(name="a"), make_model(name="b")]
    job = make_job(models=models, budget={"MODEL_TRIAL_COUNT": 2}, parallelism=10)
    train_job_schedule(job_id=job.pk)
    per_model = {s.model.name: s.trials.count() for s in job.sub_jobs.all()}
    assert per_model == {"a": 2, "b": 2}


def test_fixed_only_model_runs_one_trial(make_job, make_model) -> None:
    job = make_job(
        models=[make_model(name="fixed", file="fixed.py", class_name="FixedOnly")], parallelism=3
    )
    assert len(train_job_schedule(job_id=job.pk)) == 1
    Trial.objects.filter(job=job).update(status=Trial.Status.COMPLETED, score=0.75)
    assert train_job_schedule(job_id=job.pk) == []
    job.refresh_from_db()
    assert job.status == TrainJob.Status.STOPPED and job.datetime_stopped is not None


def test_no_new_trials_after_time_budget(make_job) -> None:
    job = make_job(budget={"TIME_HOURS": 0.5})
    TrainJob.objects.filter(pk=job.pk).update(
        datetime_started=job.datetime_started - timedelta(hours=1)
    )
    assert train_job_schedule(job_id=job.pk) == []
    job.refresh_from_db()
    assert job.status == TrainJob.Status.STOPPED


def test_stop_cancels_pending_trials_and_ends_the_job(make_job) -> None:
    job = make_job(budget={"MODEL_TRIAL_COUNT": 5})
    train_job_schedule(job_id=job.pk)
    Trial.objects.filter(job=job, number=1).update(status=Trial.Status.RUNNING, attempt=1)
    train_job_stop(job=job)
    job.refresh_from_db()
    assert job.status == TrainJob.Status.STOPPED
    cancelled = Trial.objects.get(job=job, number=2)
    assert (cancelled.status, cancelled.end_reason) == (Trial.Status.ERRORED, "CANCELLED")
    # The running trial is left to its worker, which sees the stop at its next heartbeat.
    assert Trial.objects.get(job=job, number=1).status == Trial.Status.RUNNING
    assert job.sub_jobs.get().status == SubTrainJob.Status.STOPPED
    assert train_job_schedule(job_id=job.pk) == []
    stopped_again = train_job_stop(job=job)
    assert stopped_again.datetime_stopped == job.datetime_stopped


def test_job_whose_only_model_errors_ends_errored(make_job) -> None:
    job = make_job(budget={"MODEL_TRIAL_COUNT": 5}, parallelism=1)
    train_job_schedule(job_id=job.pk)
    Trial.objects.filter(job=job).update(
        status=Trial.Status.ERRORED, end_reason="ERROR", error="ValueError: boom"
    )
    assert train_job_schedule(job_id=job.pk) == []
    job.refresh_from_db()
    assert job.status == TrainJob.Status.ERRORED
    assert "'toy'" in job.error and "ValueError: boom" in job.error
    assert job.sub_jobs.get().status == SubTrainJob.Status.ERRORED


def test_errors_after_a_completed_trial_do_not_stop_the_model(make_job) -> None:
    job = make_job(budget={"MODEL_TRIAL_COUNT": 4}, parallelism=1)
    train_job_schedule(job_id=job.pk)
    Trial.objects.filter(job=job, number=1).update(status=Trial.Status.COMPLETED, score=0.5)
    train_job_schedule(job_id=job.pk)
    Trial.objects.filter(job=job, number=2).update(status=Trial.Status.ERRORED, end_reason="ERROR")
    assert len(train_job_schedule(job_id=job.pk)) == 1


def test_scheduling_keeps_the_advisor_and_rebuilds_it_when_trials_change(
    make_job, monkeypatch
) -> None:
    import rafiki.advisor
    from apps.trials import services

    built = []
    original = rafiki.advisor.make_advisor
    monkeypatch.setattr(
        rafiki.advisor, "make_advisor", lambda *a, **k: built.append(1) or original(*a, **k)
    )
    services._kept_advisors.clear()
    job = make_job(budget={"MODEL_TRIAL_COUNT": 8}, parallelism=2)
    for number in range(1, 7):  # finish trials one by one, as workers would
        train_job_schedule(job_id=job.pk)
        Trial.objects.filter(job=job, number=number).update(
            status=Trial.Status.COMPLETED, score=number / 10
        )
    assert len(built) == 1  # told what changed each time, never replayed
    # Another process changed a result this one had been told: the kept advisor is stale.
    Trial.objects.filter(job=job, number=1).update(status=Trial.Status.ERRORED, score=None)
    train_job_schedule(job_id=job.pk)
    assert len(built) == 2
    assert Trial.objects.filter(job=job).count() == 8  # the rebuilt one proposed the rest
