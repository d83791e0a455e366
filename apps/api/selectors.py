"""Reads of API tokens."""

from __future__ import annotations

from django.utils import timezone

from apps.api.models import ApiToken
from apps.api.services import token_hash


def token_get_valid(*, raw: str) -> ApiToken | None:
    """The unexpired token with this raw value, with its user; None otherwise."""
    return (
        ApiToken.objects.select_related("user")
        .filter(key_hash=token_hash(raw), expires_at__gt=timezone.now())
        .first()
    )
