"""Input and output shapes of the Rafiki-compatible admin API (COMPAT.md section 5). Outputs
are the `/api/` serializers cut down to the fields Rafiki's clients read."""

from __future__ import annotations

import json
from typing import Any

from rest_framework import serializers

from apps.accounts.serializers import UserOutputSerializer
from apps.datasets.serializers import DatasetOutputSerializer
from apps.models.serializers import DependenciesField, ModelTemplateOutputSerializer
from apps.trials.serializers import TrainJobOutputSerializer, TrialOutputSerializer
from rafiki.constants import ModelAccessRight, UserType


class JsonStringOr(serializers.Field):
    """A value given as JSON, or as a JSON string (form bodies and query strings carry only
    strings), then checked by ``child``."""

    def __init__(self, child: serializers.Field, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.child = child

    def bind(self, field_name: str, parent: Any) -> None:
        super().bind(field_name, parent)
        self.child.bind(field_name, parent)

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, str):
            try:
                data = json.loads(data)
            except ValueError:
                raise serializers.ValidationError("is not valid JSON") from None
        return self.child.run_validation(data)


# --- inputs ---------------------------------------------------------------------------------


class LoginInput(serializers.Serializer):
    email = serializers.CharField(max_length=254)
    password = serializers.CharField(max_length=1024, trim_whitespace=False)


class UserCreateInput(serializers.Serializer):
    email = serializers.CharField(max_length=254)
    password = serializers.CharField(max_length=1024, trim_whitespace=False)
    user_type = serializers.ChoiceField(choices=UserType.values())


class UserBanInput(serializers.Serializer):
    email = serializers.CharField(max_length=254)


class TaskFilterInput(serializers.Serializer):
    task = serializers.CharField(max_length=100, required=False, allow_blank=True, allow_null=True)


class DatasetCreateInput(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    task = serializers.CharField(max_length=100)
    dataset = serializers.FileField(required=False)
    dataset_url = serializers.CharField(
        max_length=2000, required=False, allow_blank=True, allow_null=True
    )


class ModelCreateInput(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    task = serializers.CharField(max_length=100)
    model_class = serializers.CharField(max_length=200)
    model_file_bytes = serializers.FileField()
    dependencies = DependenciesField(required=False, allow_null=True, default=dict)
    access_right = serializers.ChoiceField(
        choices=ModelAccessRight.values(), allow_null=True, default=ModelAccessRight.PRIVATE
    )
    docker_image = serializers.CharField(
        max_length=200, required=False, allow_blank=True, allow_null=True, default=""
    )


class TrainJobCreateInput(serializers.Serializer):
    app = serializers.CharField(max_length=200)
    task = serializers.CharField(max_length=100)
    train_dataset_id = serializers.IntegerField(min_value=1, max_value=2**62)
    val_dataset_id = serializers.IntegerField(min_value=1, max_value=2**62)
    model_ids = JsonStringOr(
        serializers.ListField(
            child=serializers.IntegerField(min_value=1, max_value=2**62),
            min_length=1,
            max_length=100,
        )
    )
    # Rafiki's clients send null for arguments left out.
    budget = JsonStringOr(serializers.DictField(), required=False, allow_null=True, default=dict)
    train_args = JsonStringOr(
        serializers.DictField(), required=False, allow_null=True, default=dict
    )


class UserIdFilterInput(serializers.Serializer):
    user_id = serializers.IntegerField(required=False, min_value=1, max_value=2**62)


class BestTrialsInput(serializers.Serializer):
    type = serializers.CharField(required=False, allow_blank=True)
    max_count = serializers.IntegerField(min_value=1, max_value=1000, default=2)


class ParametersInput(serializers.Serializer):
    format = serializers.ChoiceField(choices=["pickle", "rafiki-params"], default="pickle")


class InferenceJobCreateInput(serializers.Serializer):
    app = serializers.CharField(max_length=200)
    app_version = serializers.IntegerField(min_value=-1, max_value=2**31, default=-1)
    budget = JsonStringOr(serializers.DictField(), required=False, allow_null=True, default=dict)


# --- outputs --------------------------------------------------------------------------------


class TokenOut(serializers.Serializer):
    user_id = serializers.IntegerField()
    user_type = serializers.CharField()
    token = serializers.CharField()


class UserOut(UserOutputSerializer):
    class Meta(UserOutputSerializer.Meta):
        fields = ["id", "email", "user_type", "banned_date"]
        read_only_fields = fields


class DatasetOut(DatasetOutputSerializer):
    class Meta(DatasetOutputSerializer.Meta):
        fields = ["id", "name", "task", "datetime_created", "size_bytes"]
        read_only_fields = fields


class ModelOut(ModelTemplateOutputSerializer):
    docker_image = serializers.SerializerMethodField()

    class Meta(ModelTemplateOutputSerializer.Meta):
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
        ]
        read_only_fields = fields

    def get_docker_image(self, model: Any) -> str | None:
        return model.docker_image or None


class ModelBriefOut(ModelOut):
    class Meta(ModelOut.Meta):
        fields = ["id", "user_id", "name"]
        read_only_fields = fields


class AvailableModelOut(ModelOut):
    class Meta(ModelOut.Meta):
        fields = [
            "id",
            "user_id",
            "name",
            "task",
            "datetime_created",
            "dependencies",
            "access_right",
        ]
        read_only_fields = fields


class TrainJobOut(TrainJobOutputSerializer):
    class Meta(TrainJobOutputSerializer.Meta):
        fields = [
            "id",
            "status",
            "app",
            "app_version",
            "task",
            "train_dataset_id",
            "val_dataset_id",
            "train_args",
            "datetime_started",
            "datetime_stopped",
            "budget",
        ]
        read_only_fields = fields


class TrainJobBriefOut(TrainJobOutputSerializer):
    class Meta(TrainJobOutputSerializer.Meta):
        fields = ["id", "app", "app_version"]
        read_only_fields = fields


class TrialOut(TrialOutputSerializer):
    class Meta(TrialOutputSerializer.Meta):
        fields = [
            "id",
            "no",
            "worker_id",
            "proposal",
            "datetime_started",
            "status",
            "datetime_stopped",
            "model_name",
            "score",
            "is_params_saved",
        ]
        read_only_fields = fields
