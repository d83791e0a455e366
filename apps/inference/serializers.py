from __future__ import annotations

from rest_framework import serializers

from apps.inference.models import InferenceJob, InferenceWorker
from apps.inference.selectors import predictor_host


class InferenceJobCreateInputSerializer(serializers.Serializer):
    train_job_id = serializers.IntegerField(min_value=1)
    max_trials = serializers.IntegerField(min_value=1, max_value=100, required=False)
    budget = serializers.DictField(required=False, default=dict)


class PredictInputSerializer(serializers.Serializer):
    """Either ``query`` (one query, answered as ``prediction``) or ``queries`` (a list,
    answered as ``predictions``)."""

    query = serializers.JSONField(required=False)
    queries = serializers.ListField(child=serializers.JSONField(), required=False)


class PredictOutputSerializer(serializers.Serializer):
    prediction = serializers.JSONField(required=False)
    predictions = serializers.ListField(child=serializers.JSONField(), required=False)


class InferenceWorkerOutputSerializer(serializers.ModelSerializer):
    trial_no = serializers.IntegerField(source="trial.number")
    model_name = serializers.CharField(source="trial.sub_job.model.name")
    score = serializers.FloatField(source="trial.score")

    class Meta:
        model = InferenceWorker
        fields = [
            "trial_id", "trial_no", "model_name", "score", "rank", "status", "host",
            "crashes", "last_crash", "error", "heartbeat_at",
        ]  # fmt: skip
        read_only_fields = fields


class InferenceJobOutputSerializer(serializers.ModelSerializer):
    user_id = serializers.IntegerField(source="owner_id")
    app = serializers.CharField()
    app_version = serializers.IntegerField()
    task = serializers.CharField()
    predictor_host = serializers.SerializerMethodField()
    workers = InferenceWorkerOutputSerializer(many=True, read_only=True)

    class Meta:
        model = InferenceJob
        fields = [
            "id", "user_id", "train_job_id", "app", "app_version", "task", "status", "max_trials",
            "budget", "predictor_host", "datetime_started", "datetime_stopped", "error", "note",
            "workers",
        ]  # fmt: skip
        read_only_fields = fields

    def get_predictor_host(self, job: InferenceJob) -> str:
        return predictor_host(job=job)
