"""Schemathesis generates requests for every operation of `/api/schema/` (valid and invalid
ones, as the superadmin who may call everything) and checks that none answers 5xx.
Bounded: a few examples per operation, derandomized, so the run is short and repeatable."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error

from apps.accounts.models import User
from apps.api.services import token_create
from rafiki.constants import UserType

schema = schemathesis.openapi.from_wsgi("/api/schema/", get_wsgi_application())


@pytest.fixture
def superadmin_token(db: None) -> Iterator[str]:
    # Django's WSGI handler closes the database connection after each request; the test's
    # connection holds the test transaction, so keep it open (as django.test.Client does).
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    user = User.objects.create_user("root@rafiki", "pw", user_type=UserType.SUPERADMIN)
    try:
        yield token_create(user=user)[1]
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


@schema.parametrize()
@settings(
    max_examples=6,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_no_operation_answers_a_server_error(case, superadmin_token: str) -> None:
    response = case.call(headers={"Authorization": f"Bearer {superadmin_token}"})
    case.validate_response(response, checks=[not_a_server_error])
    if response.status_code >= 400 and response.headers.get("Content-Type", "").startswith(
        "application/json"
    ):
        body = response.json()
        assert isinstance(body, dict) and {"error", "detail"} <= set(body), body
