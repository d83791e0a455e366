from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.core.exceptions import ValidationError
from django.db import models

from rafiki.constants import UserType


def validate_rafiki_email(value: str) -> None:
    """Rafiki accepts addresses such as `<uuid>@rafiki`: one `@`, something on each side,
    no dot required in the domain."""
    local, at, domain = value.partition("@")
    if not at or not local or not domain or "@" in domain or any(c.isspace() for c in value):
        raise ValidationError(f"{value!r} is not an email address")


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def create_user(self, email: str, password: str | None = None, **extra: Any) -> User:
        validate_rafiki_email(email)
        user = self.model(email=self.normalize_email(email), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **extra: Any) -> User:
        extra.setdefault("user_type", UserType.SUPERADMIN)
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        return self.create_user(email, password, **extra)


class User(AbstractBaseUser, PermissionsMixin):
    class Type(models.TextChoices):
        SUPERADMIN = UserType.SUPERADMIN
        ADMIN = UserType.ADMIN
        MODEL_DEVELOPER = UserType.MODEL_DEVELOPER
        APP_DEVELOPER = UserType.APP_DEVELOPER

    email = models.CharField(max_length=254, unique=True, validators=[validate_rafiki_email])
    user_type = models.CharField(max_length=32, choices=Type.choices, default=Type.MODEL_DEVELOPER)
    banned_date = models.DateTimeField(null=True, blank=True)
    is_staff = models.BooleanField(default=False)
    date_joined = models.DateTimeField(auto_now_add=True)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    def __str__(self) -> str:
        return self.email

    @property
    def is_banned(self) -> bool:
        return self.banned_date is not None

    @property
    def is_admin(self) -> bool:
        return self.user_type in (UserType.SUPERADMIN, UserType.ADMIN)
