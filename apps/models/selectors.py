"""Reads of model templates."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from apps.accounts.models import User
from apps.models.models import ModelTemplate


def model_template_list_available(
    *, user: User, task: str | None = None
) -> QuerySet[ModelTemplate]:
    """The user's own models and everyone's PUBLIC models, newest first."""
    qs = ModelTemplate.objects.filter(
        Q(owner=user) | Q(access_right=ModelTemplate.AccessRight.PUBLIC)
    )
    if task:
        qs = qs.filter(task=task)
    return qs


def model_template_is_usable_by(*, template: ModelTemplate, user: User) -> bool:
    return template.owner_id == user.pk or template.access_right == ModelTemplate.AccessRight.PUBLIC


def model_template_tasks(*, user: User) -> list[str]:
    """The tasks of the models the user can use, sorted (for the task filter)."""
    return sorted(set(model_template_list_available(user=user).values_list("task", flat=True)))


def model_template_get_visible(*, user: User, model_id: int) -> ModelTemplate | None:
    """The model if the user owns it or it is PUBLIC; None otherwise (answer 404)."""
    return model_template_list_available(user=user).filter(pk=model_id).first()
