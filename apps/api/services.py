"""Writes for API tokens: log in with email and password, create, revoke."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import authenticate
from django.utils import timezone

from apps.accounts.models import User
from apps.api.models import ApiToken


class InvalidCredentialsError(Exception):
    """Wrong email or password, or a banned user (the message does not say which)."""


def token_hash(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def user_authenticate(*, email: str, password: str) -> User:
    """The user with this email and password; banned users are refused like a wrong password,
    so the answer does not tell whether an account exists or is banned."""
    email = (email or "").strip()
    # Emails are matched case-insensitively (Django keeps the case the admin typed).
    stored = User.objects.filter(email__iexact=email).values_list("email", flat=True).first()
    user = authenticate(username=stored or email, password=password or "")
    if user is None or user.is_banned:
        raise InvalidCredentialsError("wrong email or password")
    return user


def token_create(*, user: User, lifetime: timedelta | None = None) -> tuple[ApiToken, str]:
    """A new token for ``user`` valid for ``lifetime`` (default API_TOKEN_HOURS); returns the
    row and the raw token, which is shown once and never stored. Expired tokens of the user
    are deleted on the way."""
    if user.is_banned:
        raise InvalidCredentialsError("this user is banned")
    now = timezone.now()
    lifetime = lifetime or timedelta(hours=settings.API_TOKEN_HOURS)
    ApiToken.objects.filter(user=user, expires_at__lte=now).delete()
    raw = secrets.token_urlsafe(32)
    token = ApiToken.objects.create(user=user, key_hash=token_hash(raw), expires_at=now + lifetime)
    return token, raw


def token_revoke(*, token: ApiToken) -> None:
    token.delete()


def token_revoke_all(*, user: User) -> int:
    return ApiToken.objects.filter(user=user).delete()[0]
