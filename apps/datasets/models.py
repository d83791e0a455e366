from __future__ import annotations

from pathlib import PurePath

from django.conf import settings
from django.db import models


def dataset_file_path(instance: Dataset, filename: str) -> str:
    suffix = PurePath(filename).suffix.lower()[:10]
    return f"datasets/{instance.owner_id}/{instance.checksum}{suffix}"


class Dataset(models.Model):
    """An uploaded dataset file. Known tasks are validated on upload (see `summary`); any
    other task's file is stored as an opaque file."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="datasets"
    )
    name = models.CharField(max_length=200)
    task = models.CharField(max_length=100, db_index=True)
    data_file = models.FileField(upload_to=dataset_file_path, max_length=300)
    size_bytes = models.BigIntegerField()
    checksum = models.CharField(max_length=64, help_text="sha256 of the file")
    #: What the SDK's validator found (counts, classes, image size...); empty for custom tasks.
    summary = models.JSONField(default=dict, blank=True)
    datetime_created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-datetime_created", "-id"]

    def __str__(self) -> str:
        return f"{self.name} ({self.task})"

    @property
    def file_suffix(self) -> str:
        return PurePath(self.data_file.name).suffix
