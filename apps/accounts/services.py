from __future__ import annotations

from django.conf import settings
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
