from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from apps.accounts.models import User, validate_rafiki_email
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


class InvalidUserError(ValidationError):
    """A user could not be created or banned; the message says why."""


_ADMIN_TYPES = {UserType.SUPERADMIN, UserType.ADMIN}


def user_create(*, creator: User, email: str, password: str, user_type: str) -> User:
    """Create a user on behalf of an admin. Only the superadmin creates admins; nobody creates
    another superadmin. Passwords are hashed by Django."""
    email = (email or "").strip()
    if user_type not in UserType.values():
        raise InvalidUserError(
            f"user type {user_type!r} is not one of {', '.join(UserType.values())}"
        )
    if user_type == UserType.SUPERADMIN:
        raise InvalidUserError("there is only one superadmin")
    if user_type == UserType.ADMIN and creator.user_type != UserType.SUPERADMIN:
        raise InvalidUserError("only the superadmin may create admins")
    if not password:
        raise InvalidUserError("a user needs a password")
    try:
        validate_rafiki_email(email)
    except ValidationError as exc:
        raise InvalidUserError(exc.messages[0]) from None
    if User.objects.filter(email__iexact=email).exists():
        raise InvalidUserError(f"a user with email {email!r} already exists")
    try:
        with transaction.atomic():
            return User.objects.create_user(email, password, user_type=user_type)
    except IntegrityError:
        raise InvalidUserError(f"a user with email {email!r} already exists") from None


@transaction.atomic
def user_ban(*, banner: User, user: User) -> User:
    """Ban a user: their tokens are deleted and they can no longer log in. Admins ban
    developers; only the superadmin bans admins; the superadmin cannot be banned.
    Banning a banned user keeps the first ban date."""
    from apps.api.services import token_revoke_all

    if user.user_type == UserType.SUPERADMIN:
        raise InvalidUserError("the superadmin cannot be banned")
    if user.user_type in _ADMIN_TYPES and banner.user_type != UserType.SUPERADMIN:
        raise InvalidUserError("only the superadmin may ban admins")
    if user.banned_date is None:
        user.banned_date = timezone.now()
        user.save(update_fields=["banned_date"])
    token_revoke_all(user=user)
    return user
