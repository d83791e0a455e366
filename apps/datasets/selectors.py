"""Reads of datasets."""

from __future__ import annotations

from django.db.models import QuerySet

from apps.accounts.models import User
from apps.datasets.models import Dataset


def dataset_list(*, user: User, task: str | None = None) -> QuerySet[Dataset]:
    """The user's own datasets (datasets are never shared), newest first."""
    qs = Dataset.objects.filter(owner=user)
    if task:
        qs = qs.filter(task=task)
    return qs
