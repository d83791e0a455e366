"""Fixtures for the HTTP API tests (`tests/api`, `tests/compat`): named users of every role and
clients logged in as them with Bearer tokens."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from apps.accounts.models import User
from apps.api.services import token_create
from apps.datasets.models import Dataset
from apps.models.models import ModelTemplate
from apps.trials.models import TrainJob, Trial
from apps.trials.services import train_job_create
from rafiki.constants import UserType
from tests.conftest import TOY_TASK, drive


@pytest.fixture(autouse=True)
def fresh_throttles() -> None:
    cache.clear()  # throttling counts live in the cache


@pytest.fixture
def superadmin(db: None) -> User:
    return User.objects.create_user(
        "superadmin@rafiki",
        "super-pw",
        user_type=UserType.SUPERADMIN,
        is_staff=True,
        is_superuser=True,
    )


@pytest.fixture
def admin(db: None) -> User:
    return User.objects.create_user("admin@example.com", "admin-pw", user_type=UserType.ADMIN)


@pytest.fixture
def carol(db: None) -> User:
    """A second model developer (alice's peer): sees alice's PUBLIC models only."""
    return User.objects.create_user(
        "carol@example.com", "carol-pw", user_type=UserType.MODEL_DEVELOPER
    )


@pytest.fixture
def client_for() -> Callable[[User | None], APIClient]:
    """An APIClient sending a fresh Bearer token of ``user`` (anonymous for None)."""

    def make(user: User | None) -> APIClient:
        client = APIClient()
        if user is not None:
            _, raw = token_create(user=user)
            client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
        return client

    return make


def assert_error(response, status: int, error: str | None = None) -> dict:
    """The response is an error in the one shape, with this status (and name)."""
    assert response.status_code == status, (
        response.status_code,
        getattr(response, "content", b"")[:500],
    )
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert set(body) >= {"error", "detail"}, body
    assert isinstance(body["detail"], str) and body["detail"]
    if error is not None:
        assert body["error"] == error, body
    return body


@dataclass
class World:
    """alice's objects (a finished one-trial job of her PRIVATE model, a PUBLIC model, unused
    ones to delete) and the people who try to reach them."""

    alice: User
    carol: User
    admin: User
    dave: User
    private_model: ModelTemplate
    public_model: ModelTemplate
    spare_model: ModelTemplate
    train: Dataset
    spare_dataset: Dataset
    job: TrainJob
    trial: Trial


@pytest.fixture
def world(alice: User, carol: User, admin: User, make_model, make_dataset) -> World:
    dave = User.objects.create_user("dave@example.com", "dave-pw", user_type=UserType.APP_DEVELOPER)
    private = make_model(name="private")
    public = make_model(name="public", access_right="PUBLIC")
    spare = make_model(name="spare")
    train, val = make_dataset(name="train"), make_dataset(name="val")
    spare_dataset = make_dataset(name="spare")
    job = train_job_create(
        owner=alice,
        app="toyapp",
        task=TOY_TASK,
        train_dataset=train,
        val_dataset=val,
        models=[private],
        budget={"MODEL_TRIAL_COUNT": 1},
    )
    job = drive(job)
    trial = job.trials.get()
    assert trial.status == "COMPLETED" and trial.is_params_saved
    return World(
        alice, carol, admin, dave, private, public, spare, train, spare_dataset, job, trial
    )
