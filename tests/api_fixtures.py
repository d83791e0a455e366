"""Fixtures for the HTTP API tests (`tests/api`, `tests/compat`): named users of every role and
clients logged in as them with Bearer tokens."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from apps.accounts.models import User
from apps.api.services import token_create
from rafiki.constants import UserType


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
