from __future__ import annotations

from rest_framework import serializers

from apps.datasets.models import Dataset


class DatasetOutputSerializer(serializers.ModelSerializer):
    user_id = serializers.IntegerField(source="owner_id")
    summary = serializers.JSONField()

    class Meta:
        model = Dataset
        fields = ["id", "user_id", "name", "task", "size_bytes", "datetime_created", "summary"]
        read_only_fields = fields


class DatasetCreateInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    task = serializers.CharField(max_length=100)
    dataset = serializers.FileField(help_text="The dataset file (zip or csv for the known tasks).")


class DatasetListFilterSerializer(serializers.Serializer):
    task = serializers.CharField(max_length=100, required=False)
