"""Shared fixtures: named users, and builders for uploads that go through the services."""

from __future__ import annotations

import pytest

from apps.accounts.models import User
from rafiki.constants import UserType


@pytest.fixture
def alice(db: None) -> User:
    return User.objects.create_user("alice@example.com", "alice-pw", user_type=UserType.MODEL_DEVELOPER)


@pytest.fixture
def bob(db: None) -> User:
    return User.objects.create_user("bob@example.com", "bob-pw", user_type=UserType.APP_DEVELOPER)
