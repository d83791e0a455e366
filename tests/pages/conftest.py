"""Fixtures for the page tests: signed-in clients and a job with trials, logs and saved
parameters built straight through the ORM (no worker needed to look at pages)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import numpy as np
import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.test import Client
from django.utils import timezone

from apps.accounts.models import User
from apps.trials.models import TrainJob, Trial, TrialLog
from rafiki.constants import UserType


@pytest.fixture(autouse=True)
def _empty_cache() -> None:
    from django.core.cache import cache

    cache.clear()


@pytest.fixture
def carol(db: None) -> User:
    return User.objects.create_user(
        "carol@example.com", "carol-pw", user_type=UserType.MODEL_DEVELOPER
    )


@pytest.fixture
def superadmin(db: None) -> User:
    return User.objects.create_superuser("superadmin@rafiki", "rafiki")


@pytest.fixture
def admin_user(db: None) -> User:
    return User.objects.create_user("admin@example.com", "admin-pw", user_type=UserType.ADMIN)


def signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def alice_client(alice: User) -> Client:
    return signed_in(alice)


@pytest.fixture
def bob_client(bob: User) -> Client:
    return signed_in(bob)


@pytest.fixture
def carol_client(carol: User) -> Client:
    return signed_in(carol)


def save_params(params: dict[str, Any]) -> str:
    """Store params in the SDK's safe format; return the storage name."""
    import tempfile

    from rafiki.model.params import save_params as sdk_save

    with tempfile.NamedTemporaryFile(suffix=".rafiki") as handle:
        sdk_save(params, handle.name)
        return default_storage.save(
            "params/test/trial.rafiki", ContentFile(open(handle.name, "rb").read())
        )


def add_trial(
    job: TrainJob,
    *,
    number: int,
    status: str = Trial.Status.COMPLETED,
    score: float | None = None,
    knobs: dict | None = None,
    params: dict | None = None,
    **fields: Any,
) -> Trial:
    now = timezone.now()
    sub = job.sub_jobs.first()
    trial = Trial.objects.create(
        job=job,
        sub_job=sub,
        number=number,
        knobs=knobs if knobs is not None else {"x": number, "name": "toy"},
        status=status,
        score=score,
        datetime_started=None if status == Trial.Status.PENDING else now - timedelta(seconds=30),
        datetime_stopped=now if status in Trial.FINAL_STATES else None,
        **fields,
    )
    if params is not None:
        trial.params_file = save_params(params)
        trial.is_params_saved = True
        trial.save(update_fields=["params_file", "is_params_saved"])
    return trial


def add_logs(trial: Trial, records: list[dict[str, Any]]) -> list[TrialLog]:
    now = timezone.now()
    rows = [
        TrialLog(
            trial=trial,
            time=now + timedelta(seconds=i),
            type=r["type"],
            payload={k: v for k, v in r.items() if k != "type"},
        )
        for i, r in enumerate(records)
    ]
    return TrialLog.objects.bulk_create(rows)


@pytest.fixture
def job_with_trials(make_job: Callable[..., TrainJob]) -> Callable[..., TrainJob]:
    """A RUNNING job of alice: trial 1 completed (score 0.5, params, a loss plot with 3 points,
    2 messages), trial 2 completed with the best score 0.9, trial 3 errored with a traceback,
    trial 4 pending."""

    def make(**kwargs: Any) -> TrainJob:
        job = make_job(**kwargs)
        TrainJob.objects.filter(pk=job.pk).update(status=TrainJob.Status.RUNNING)
        job.refresh_from_db()
        first = add_trial(job, number=1, score=0.5, params={"w": np.arange(3.0), "x": 1})
        add_logs(
            first,
            [
                {"type": "PLOT", "title": "Loss", "metrics": ["loss"], "x_axis": "epoch"},
                {"type": "MESSAGE", "message": "starting to train"},
                {"type": "METRICS", "loss": 0.9, "epoch": 0},
                {"type": "METRICS", "loss": 0.5, "epoch": 1},
                {"type": "METRICS", "loss": 0.25, "epoch": 2},
                {"type": "MESSAGE", "message": "done training"},
            ],
        )
        add_trial(
            job,
            number=2,
            score=0.9,
            knobs={"x": 900, "name": "toy"},
            params={"w": np.arange(3.0) * 900, "x": 900},
        )
        add_trial(
            job,
            number=3,
            status=Trial.Status.ERRORED,
            end_reason="EXCEPTION",
            error="ValueError: x=950 is too large",
            traceback='Traceback (most recent call last):\n  File "toy.py", line 40, in train\nValueError: x=950 is too large',
        )
        add_trial(job, number=4, status=Trial.Status.PENDING)
        return job

    return make
