from __future__ import annotations

from django.conf import settings
from django.db import models

from rafiki.constants import ModelAccessRight


def model_file_path(instance: ModelTemplate, filename: str) -> str:
    return f"models/{instance.owner_id}/{instance.checksum}.py"


class ModelTemplate(models.Model):
    """An uploaded model class: the file, its class name and the knob config read from it."""

    class AccessRight(models.TextChoices):
        PUBLIC = ModelAccessRight.PUBLIC
        PRIVATE = ModelAccessRight.PRIVATE

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="model_templates"
    )
    name = models.CharField(max_length=200)
    task = models.CharField(max_length=100, db_index=True)
    model_file = models.FileField(upload_to=model_file_path, max_length=300)
    checksum = models.CharField(max_length=64, help_text="sha256 of the model file")
    model_class = models.CharField(max_length=200)
    #: {package name: version string}, as Rafiki's ModelDependency names them.
    dependencies = models.JSONField(default=dict, blank=True)
    access_right = models.CharField(
        max_length=16, choices=AccessRight.choices, default=AccessRight.PRIVATE
    )
    docker_image = models.CharField(max_length=200, blank=True, default="")
    #: `rafiki.model.knob.knob_config_to_json` of the class's knob config.
    knob_config = models.JSONField()
    datetime_created = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["owner", "name"], name="model_name_unique_per_owner")
        ]
        ordering = ["-datetime_created", "-id"]

    def __str__(self) -> str:
        return f"{self.name} ({self.task})"

    @property
    def user_id(self) -> int:
        return self.owner_id
