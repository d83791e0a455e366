"""Logging in for a token, token expiry and logout, sessions with CSRF, bans, throttling."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.middleware.csrf import _get_new_csrf_string
from django.utils import timezone
from rest_framework.test import APIClient

from apps.accounts.models import User
from apps.accounts.services import user_ban
from apps.api.models import ApiToken
from tests.api_fixtures import assert_error


def test_token_login_then_bearer_calls_then_logout(alice: User) -> None:
    client = APIClient()
    response = client.post(
        "/api/tokens/", {"email": "alice@example.com", "password": "alice-pw"}, format="json"
    )
    assert response.status_code == 201
    body = response.json()
    assert body["user_id"] == alice.pk and body["user_type"] == "MODEL_DEVELOPER"
    # Only a hash is stored: the raw token is nowhere in the database.
    assert not ApiToken.objects.filter(key_hash=body["token"]).exists()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {body['token']}")
    assert client.get("/api/me/").json()["email"] == "alice@example.com"
    assert client.delete("/api/tokens/current/").status_code == 204
    assert_error(client.get("/api/me/"), 401, "UnauthorizedError")


def test_anonymous_calls_get_401_with_a_bearer_challenge(db: None) -> None:
    response = APIClient().get("/api/models/")
    assert_error(response, 401, "UnauthorizedError")
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_expired_and_garbage_tokens_are_refused(alice: User, client_for) -> None:
    client = client_for(alice)
    ApiToken.objects.filter(user=alice).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert_error(client.get("/api/me/"), 401, "UnauthorizedError")
    for header in ["Bearer nope", "Bearer", "Bearer a b", "Bearer \u00e9t\u00e9"]:
        garbage = APIClient()
        garbage.credentials(HTTP_AUTHORIZATION=header)
        assert_error(garbage.get("/api/me/"), 401, "UnauthorizedError")


def test_wrong_password_and_banned_users_get_no_token(alice: User, admin: User) -> None:
    client = APIClient()
    assert_error(
        client.post("/api/tokens/", {"email": "alice@example.com", "password": "x"}, format="json"),
        401,
    )
    assert_error(
        client.post(
            "/api/tokens/", {"email": "nobody@example.com", "password": "x"}, format="json"
        ),
        401,
    )
    user_ban(banner=admin, user=alice)
    body = assert_error(
        client.post(
            "/api/tokens/", {"email": "alice@example.com", "password": "alice-pw"}, format="json"
        ),
        401,
    )
    assert "banned" not in body["detail"]  # does not tell an attacker the password was right


def test_banning_ends_existing_tokens_and_sessions(alice: User, admin: User, client_for) -> None:
    by_token = client_for(alice)
    by_session = APIClient()
    by_session.force_login(alice)
    assert by_session.get("/api/me/").status_code == 200
    user_ban(banner=admin, user=alice)
    assert_error(by_token.get("/api/me/"), 401, "UnauthorizedError")
    assert_error(by_session.get("/api/me/"), 401, "UnauthorizedError")


def test_session_writes_need_the_csrf_token(alice: User, make_model) -> None:
    job_request = {
        "app": "a",
        "task": "T",
        "train_dataset_id": 1,
        "val_dataset_id": 1,
        "model_ids": [1],
    }
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(alice)
    assert client.get("/api/me/").status_code == 200  # reads need no token
    body = assert_error(
        client.post("/api/train-jobs/", job_request, format="json"), 403, "ForbiddenError"
    )
    assert "CSRF" in body["detail"]
    token = _get_new_csrf_string()
    client.cookies[settings.CSRF_COOKIE_NAME] = token
    response = client.post("/api/train-jobs/", job_request, format="json", HTTP_X_CSRFTOKEN=token)
    assert response.status_code == 400  # past CSRF: the service refuses the unknown dataset
    assert response.json()["error"] == "InvalidTrainJobError"


def test_bearer_writes_need_no_csrf_token(alice: User) -> None:
    client = APIClient(enforce_csrf_checks=True)
    token = client.post(
        "/api/tokens/", {"email": "alice@example.com", "password": "alice-pw"}, format="json"
    ).json()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token['token']}")
    response = client.post("/api/train-jobs/", {"app": "a"}, format="json")
    assert_error(response, 400, "InvalidRequestError")


def test_failed_logins_are_throttled_per_address(alice: User) -> None:
    client = APIClient()
    for _ in range(10):
        assert (
            client.post(
                "/api/tokens/", {"email": "alice@example.com", "password": "x"}, format="json"
            ).status_code
            == 401
        )
    response = client.post(
        "/api/tokens/", {"email": "alice@example.com", "password": "alice-pw"}, format="json"
    )
    assert_error(response, 429, "TooManyRequestsError")
    assert int(response["Retry-After"]) > 0
    other_address = APIClient(REMOTE_ADDR="10.0.0.9")
    assert (
        other_address.post(
            "/api/tokens/", {"email": "alice@example.com", "password": "alice-pw"}, format="json"
        ).status_code
        == 201
    )


def test_admins_create_and_ban_users_only_superadmin_creates_admins(
    admin: User, superadmin: User, client_for
) -> None:
    by_admin = client_for(admin)
    made = by_admin.post(
        "/api/users/",
        {"email": "new@rafiki", "password": "pw", "user_type": "APP_DEVELOPER"},
        format="json",
    )
    assert made.status_code == 201 and made.json()["email"] == "new@rafiki"
    assert_error(
        by_admin.post(
            "/api/users/",
            {"email": "new@rafiki", "password": "pw", "user_type": "APP_DEVELOPER"},
            format="json",
        ),
        400,
        "InvalidUserError",
    )
    assert_error(
        by_admin.post(
            "/api/users/",
            {"email": "adm@rafiki", "password": "pw", "user_type": "ADMIN"},
            format="json",
        ),
        400,
        "InvalidUserError",
    )
    assert_error(by_admin.post(f"/api/users/{superadmin.pk}/ban/"), 400, "InvalidUserError")
    by_root = client_for(superadmin)
    assert (
        by_root.post(
            "/api/users/",
            {"email": "adm@rafiki", "password": "pw", "user_type": "ADMIN"},
            format="json",
        ).status_code
        == 201
    )
    banned = by_admin.post(f"/api/users/{made.json()['id']}/ban/").json()
    assert banned["banned_date"] is not None
    emails = [u["email"] for u in by_admin.get("/api/users/").json()["results"]]
    assert {"new@rafiki", "adm@rafiki", "admin@example.com", "superadmin@rafiki"} <= set(emails)
