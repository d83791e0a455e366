"""Signing in and out, and the admins' users page."""

from __future__ import annotations

from django.test import Client
from django.utils import timezone

from apps.accounts.models import User


def test_anonymous_visitors_are_sent_to_the_login_page(db):
    for url in ["/", "/models/", "/datasets/", "/jobs/", "/users/"]:
        response = Client().get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith("/login/?next=")


def test_login_with_the_right_password_lands_on_home(alice):
    client = Client()
    page = client.get("/login/")
    assert b'name="username"' in page.content and b'name="password"' in page.content
    response = client.post(
        "/login/", {"username": "alice@example.com", "password": "alice-pw"}, follow=True
    )
    assert response.redirect_chain[-1][0] == "/"
    assert b"alice@example.com" in response.content
    assert b"Running jobs" in response.content


def test_login_with_a_wrong_password_says_so(alice):
    response = Client().post("/login/", {"username": "alice@example.com", "password": "nope"})
    assert response.status_code == 200
    assert b"Wrong email or password." in response.content


def test_a_banned_user_cannot_sign_in(alice):
    User.objects.filter(pk=alice.pk).update(banned_date=timezone.now())
    client = Client()
    response = client.post("/login/", {"username": "alice@example.com", "password": "alice-pw"})
    assert b"Wrong email or password." in response.content
    assert client.get("/").status_code == 302


def test_a_user_banned_while_signed_in_is_signed_out(alice, alice_client):
    assert alice_client.get("/").status_code == 200
    User.objects.filter(pk=alice.pk).update(banned_date=timezone.now())
    response = alice_client.get("/")
    assert response.status_code == 302 and response["Location"].startswith("/login/")


def test_logout_ends_the_session(alice_client):
    response = alice_client.post("/logout/")
    assert response.status_code == 302
    assert alice_client.get("/").status_code == 302


def test_users_page_is_for_admins_only(alice_client, bob_client):
    assert alice_client.get("/users/").status_code == 403
    assert bob_client.get("/users/").status_code == 403


def test_an_admin_creates_a_model_developer_who_can_then_sign_in(admin_user):
    client = Client()
    client.force_login(admin_user)
    response = client.post(
        "/users/",
        {"email": "dana@rafiki", "password": "pw", "user_type": "MODEL_DEVELOPER"},
        follow=True,
    )
    assert b"Created dana@rafiki" in response.content
    assert User.objects.get(email="dana@rafiki").user_type == "MODEL_DEVELOPER"
    assert Client().login(username="dana@rafiki", password="pw")


def test_only_the_superadmin_may_create_admins(admin_user, superadmin):
    client = Client()
    client.force_login(admin_user)
    page = client.get("/users/")
    assert b'value="ADMIN"' not in page.content
    response = client.post(
        "/users/", {"email": "eve@rafiki", "password": "pw", "user_type": "ADMIN"}
    )
    assert response.status_code == 200
    assert not User.objects.filter(email="eve@rafiki").exists()

    client.force_login(superadmin)
    client.post("/users/", {"email": "eve@rafiki", "password": "pw", "user_type": "ADMIN"})
    assert User.objects.get(email="eve@rafiki").user_type == "ADMIN"


def test_creating_a_duplicate_email_shows_the_error_on_the_form(admin_user, alice):
    client = Client()
    client.force_login(admin_user)
    response = client.post(
        "/users/", {"email": "alice@example.com", "password": "pw", "user_type": "APP_DEVELOPER"}
    )
    assert b"already exists" in response.content


def test_an_admin_bans_a_developer(admin_user, alice):
    client = Client()
    client.force_login(admin_user)
    response = client.post(f"/users/{alice.pk}/ban", follow=True)
    assert b"Banned alice@example.com" in response.content
    alice.refresh_from_db()
    assert alice.banned_date is not None
    refused = Client().post("/login/", {"username": "alice@example.com", "password": "alice-pw"})
    assert b"Wrong email or password." in refused.content


def test_nobody_bans_the_superadmin_and_admins_do_not_ban_admins(admin_user, superadmin):
    other_admin = User.objects.create_user("ops@example.com", "pw", user_type="ADMIN")
    client = Client()
    client.force_login(admin_user)
    client.post(f"/users/{superadmin.pk}/ban")
    client.post(f"/users/{other_admin.pk}/ban")
    superadmin.refresh_from_db()
    other_admin.refresh_from_db()
    assert superadmin.banned_date is None
    assert other_admin.banned_date is None


def test_ban_needs_a_post(admin_user, alice):
    client = Client()
    client.force_login(admin_user)
    assert client.get(f"/users/{alice.pk}/ban").status_code == 405
