"""A worker killed with SIGKILL mid-trial loses no trial: the reconciler (Celery beat) puts
the trial back once its heartbeat is stale, and another worker runs it to the end."""

from __future__ import annotations

import pytest

from apps.trials.models import TrainJob, Trial
from apps.trials.services import train_job_create
from tests.conftest import TOY_TASK
from tests.e2e.conftest import job_is_final

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_sigkilled_worker_trial_is_recovered(
    alice, make_model, make_dataset, cluster, wait_for
) -> None:
    victim = cluster.worker("victim", concurrency=1)
    cluster.beat()
    job = train_job_create(
        owner=alice,
        app="survivor",
        task=TOY_TASK,
        train_dataset=make_dataset(name="train"),
        val_dataset=make_dataset(name="val"),
        models=[make_model()],
        budget={"MODEL_TRIAL_COUNT": 1},
        train_args={"sleep": 3},
    )
    wait_for(
        lambda: Trial.objects.filter(job=job, status=Trial.Status.RUNNING).exists(),
        "the victim to claim the trial",
    )
    lost_worker = Trial.objects.get(job=job).worker
    cluster.kill(victim)  # the worker and its pool process, mid-trial
    rescuer = cluster.worker("rescuer", concurrency=1)
    wait_for(job_is_final(job), "the job to finish after the worker was lost")
    assert job.status == TrainJob.Status.STOPPED, job.error
    (trial,) = Trial.objects.filter(job=job)
    assert (trial.status, trial.attempt) == (Trial.Status.COMPLETED, 2)
    assert trial.worker != lost_worker  # "<host>:<pid>" of the rescuer's pool process
    assert rescuer.poll() is None
