"""Jobs run to the end through Redis and real Celery worker processes."""

from __future__ import annotations

import os

import pytest

from apps.datasets.services import dataset_create
from apps.models.services import model_template_create
from apps.trials.models import TrainJob, Trial, TrialLog
from apps.trials.services import train_job_create, train_job_stop
from apps.trials.tasks import run_trial
from rafiki.model.params import load_params
from tests.conftest import REPO, TOY_TASK, upload
from tests.e2e.conftest import job_is_final

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture(scope="module")
def workers(cluster):
    procs = [cluster.worker("w1"), cluster.worker("w2")]
    cluster.beat()
    return procs


@pytest.fixture
def toy_job(alice, make_model, make_dataset, workers):
    model = make_model()
    train, val = make_dataset(name="train"), make_dataset(name="val")

    def create(*, budget, train_args=None, app="toy"):
        return train_job_create(
            owner=alice,
            app=app,
            task=TOY_TASK,
            train_dataset=train,
            val_dataset=val,
            models=[model],
            budget=budget,
            train_args=train_args or {},
        )

    return create


def test_example_model_job_runs_to_the_end(alice, workers, wait_for, iris_csvs) -> None:
    examples = REPO / "examples"
    model = model_template_create(
        owner=alice,
        name="gnb",
        task="TABULAR_CLASSIFICATION",
        file=upload(
            examples / "models" / "tabular_classification" / "SkGaussianNB.py", "SkGaussianNB.py"
        ),
        class_name="SkGaussianNB",
        dependencies={"scikit-learn": "1.4"},
        access_right="PRIVATE",
    )
    train = dataset_create(
        owner=alice, name="iris-train", task="TABULAR_CLASSIFICATION",
        file=upload(iris_csvs["train"], "iris_train.csv"),
    )  # fmt: skip
    val = dataset_create(
        owner=alice, name="iris-val", task="TABULAR_CLASSIFICATION",
        file=upload(iris_csvs["val"], "iris_val.csv"),
    )  # fmt: skip
    job = train_job_create(
        owner=alice,
        app="iris",
        task="TABULAR_CLASSIFICATION",
        train_dataset=train,
        val_dataset=val,
        models=[model],
        budget={"MODEL_TRIAL_COUNT": 3},
    )
    wait_for(job_is_final(job), "the iris job to finish")
    assert job.status == TrainJob.Status.STOPPED, job.error
    trials = list(Trial.objects.filter(job=job))
    assert len(trials) == 3
    for trial in trials:
        assert trial.status == Trial.Status.COMPLETED, (
            trial.end_reason,
            trial.error,
            trial.traceback,
        )
        assert 0.5 < trial.score <= 1.0
        assert trial.worker and not trial.worker.endswith(f":{os.getpid()}")  # ran in a worker
        assert set(load_params(trial.params_file.path)) >= {"theta", "var", "classes"}
        assert TrialLog.objects.filter(
            trial=trial, type="METRICS", payload__has_key="accuracy"
        ).exists()


def test_faulty_model_job_errors_and_the_workers_live_on(toy_job, workers, wait_for) -> None:
    bad = toy_job(budget={"MODEL_TRIAL_COUNT": 2}, train_args={"fault": "segfault"}, app="bad")
    wait_for(job_is_final(bad), "the faulty job to finish")
    assert bad.status == TrainJob.Status.ERRORED
    # Both in-flight trials ran (parallelism 2); the model was then given up.
    assert {t.end_reason for t in Trial.objects.filter(job=bad)} == {"SIGNAL"}
    good = toy_job(budget={"MODEL_TRIAL_COUNT": 2}, app="good")
    wait_for(job_is_final(good), "the next job to finish")
    assert good.status == TrainJob.Status.STOPPED
    assert Trial.objects.filter(job=good, status=Trial.Status.COMPLETED).count() == 2
    assert all(proc.poll() is None for proc in workers)


def test_stop_terminates_the_running_trial(toy_job, workers, wait_for) -> None:
    job = toy_job(budget={"MODEL_TRIAL_COUNT": 1}, train_args={"fault": "sleep_forever"})
    wait_for(
        lambda: Trial.objects.filter(job=job, status=Trial.Status.RUNNING).exists(),
        "the trial to run",
    )
    train_job_stop(job=job)
    trial = Trial.objects.get(job=job)
    wait_for(
        lambda: Trial.objects.get(pk=trial.pk).is_final, "the worker to stop the trial", timeout=30
    )
    trial.refresh_from_db()
    assert (trial.status, trial.end_reason) == (Trial.Status.ERRORED, "STOPPED")
    job.refresh_from_db()
    assert job.status == TrainJob.Status.STOPPED


def test_a_task_delivered_twice_runs_the_trial_once(toy_job, workers, wait_for) -> None:
    job = toy_job(budget={"MODEL_TRIAL_COUNT": 1}, train_args={"sleep": 2})
    wait_for(lambda: Trial.objects.filter(job=job).exists(), "the trial to be scheduled")
    trial_id = Trial.objects.get(job=job).pk
    run_trial.delay(trial_id)  # the same delivery twice more, while the first one runs
    run_trial.delay(trial_id)
    wait_for(job_is_final(job), "the job to finish")
    trial = Trial.objects.get(pk=trial_id)
    assert (trial.status, trial.attempt) == (Trial.Status.COMPLETED, 1)
    assert Trial.objects.filter(job=job).count() == 1
    assert TrialLog.objects.filter(trial=trial, type="MESSAGE").count() == 3
