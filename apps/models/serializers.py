from __future__ import annotations

import json
from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from apps.models.models import ModelTemplate
from rafiki.constants import ModelAccessRight


@extend_schema_field(
    {
        "type": "object",
        "additionalProperties": {"type": "string"},
        "description": "package name -> version; in a multipart form, a JSON string",
    }
)
class DependenciesField(serializers.Field):
    """A JSON object of package -> version, or that object as a JSON string (form uploads)."""

    default_error_messages = {"invalid": "must be a JSON object of package name -> version"}

    def to_internal_value(self, data: Any) -> dict[str, str]:
        if isinstance(data, str):
            try:
                data = json.loads(data) if data.strip() else {}
            except ValueError:
                self.fail("invalid")
        if not isinstance(data, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in data.items()
        ):
            self.fail("invalid")
        return data

    def to_representation(self, value: Any) -> Any:
        return value


class ModelTemplateOutputSerializer(serializers.ModelSerializer):
    user_id = serializers.IntegerField(source="owner_id")
    dependencies = serializers.JSONField()
    knob_config = serializers.JSONField()

    class Meta:
        model = ModelTemplate
        fields = [
            "id",
            "user_id",
            "name",
            "task",
            "model_class",
            "datetime_created",
            "docker_image",
            "dependencies",
            "access_right",
            "knob_config",
        ]
        read_only_fields = fields


class ModelTemplateCreateInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    task = serializers.CharField(max_length=100)
    model_class = serializers.CharField(max_length=200)
    model_file = serializers.FileField(help_text="The Python file defining `model_class`.")
    dependencies = DependenciesField(required=False, default=dict)
    access_right = serializers.ChoiceField(
        choices=ModelAccessRight.values(), default=ModelAccessRight.PRIVATE
    )
    docker_image = serializers.CharField(
        max_length=200, required=False, allow_blank=True, default=""
    )


class ModelTemplateListFilterSerializer(serializers.Serializer):
    task = serializers.CharField(max_length=100, required=False)
