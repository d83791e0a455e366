"""Reads of users."""

from __future__ import annotations

from django.db.models import QuerySet

from apps.accounts.models import User


def user_list() -> QuerySet[User]:
    """Every user, oldest first (admins list them)."""
    return User.objects.order_by("id")


def user_get_by_email(*, email: str) -> User | None:
    return User.objects.filter(email__iexact=(email or "").strip()).first()


def user_get(*, user_id: int) -> User | None:
    return User.objects.filter(pk=user_id).first()
