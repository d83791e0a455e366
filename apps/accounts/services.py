from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction

from apps.accounts.models import User
from rafiki.constants import UserType


@transaction.atomic
def ensure_superadmin(*, password: str) -> tuple[User, bool]:
    """Create the superadmin (`settings.SUPERADMIN_EMAIL`) if missing; return (user, created).

    An existing superadmin keeps its password: changing SUPERADMIN_PASSWORD later does not
    silently reset an account someone may have secured.
    """
    user, created = User.objects.get_or_create(
        email=settings.SUPERADMIN_EMAIL,
        defaults={
            "user_type": UserType.SUPERADMIN,
            "is_staff": True,
            "is_superuser": True,
        },
    )
    if created:
        user.set_password(password)
        user.save(update_fields=["password"])
    return user, created


class UserPermissionError(Exception):
    """The acting user may not do this (e.g. an admin creating another admin)."""


class InvalidUserError(ValidationError):
    """The new user's details were refused; the message says why."""


def user_create(*, creator: User, email: str, password: str, user_type: str) -> User:
    """Create a user on behalf of an admin. Only the superadmin creates admins; nobody creates
    another superadmin. The email follows Rafiki's rule (`<uuid>@rafiki` is fine)."""
    from apps.accounts.models import validate_rafiki_email

    if not creator.is_admin:
        raise UserPermissionError("only admins can create users")
    if user_type not in (UserType.ADMIN, UserType.MODEL_DEVELOPER, UserType.APP_DEVELOPER):
        raise InvalidUserError(
            f"user type {user_type!r} is not one of ADMIN, MODEL_DEVELOPER, APP_DEVELOPER"
        )
    if user_type == UserType.ADMIN and creator.user_type != UserType.SUPERADMIN:
        raise UserPermissionError("only the superadmin can create admins")
    email = (email or "").strip()
    validate_rafiki_email(email)
    if not password:
        raise InvalidUserError("a user needs a password")
    with transaction.atomic():
        if User.objects.filter(email__iexact=email).exists():
            raise InvalidUserError(f"a user with email {email!r} already exists")
        return User.objects.create_user(email, password, user_type=user_type)


def user_ban(*, actor: User, user: User) -> User:
    """Ban a user: they can no longer sign in or get API tokens. Admins ban developers; only
    the superadmin bans admins; the superadmin and yourself cannot be banned. Banning a banned
    user changes nothing."""
    from django.utils import timezone

    if not actor.is_admin:
        raise UserPermissionError("only admins can ban users")
    if user.pk == actor.pk:
        raise UserPermissionError("you cannot ban yourself")
    if user.user_type == UserType.SUPERADMIN:
        raise UserPermissionError("the superadmin cannot be banned")
    if user.user_type == UserType.ADMIN and actor.user_type != UserType.SUPERADMIN:
        raise UserPermissionError("only the superadmin can ban admins")
    if user.banned_date is None:
        User.objects.filter(pk=user.pk, banned_date__isnull=True).update(banned_date=timezone.now())
        user.refresh_from_db(fields=["banned_date"])
    return user
