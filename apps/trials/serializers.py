from __future__ import annotations

from typing import Any

from rest_framework import serializers

from apps.trials.models import TrainJob, Trial
from apps.trials.selectors import TRIAL_ORDERINGS


class TrainJobOutputSerializer(serializers.ModelSerializer):
    user_id = serializers.IntegerField(source="owner_id")
    train_dataset_id = serializers.IntegerField()
    val_dataset_id = serializers.IntegerField()
    budget = serializers.JSONField()
    train_args = serializers.JSONField()
    model_ids = serializers.SerializerMethodField()

    class Meta:
        model = TrainJob
        fields = [
            "id",
            "user_id",
            "app",
            "app_version",
            "task",
            "status",
            "train_dataset_id",
            "val_dataset_id",
            "model_ids",
            "budget",
            "train_args",
            "datetime_started",
            "datetime_stopped",
            "error",
            "note",
        ]
        read_only_fields = fields

    def get_model_ids(self, job: TrainJob) -> list[int]:
        return [sub.model_id for sub in job.sub_jobs.all()]


class TrainJobCreateInputSerializer(serializers.Serializer):
    app = serializers.CharField(max_length=200)
    task = serializers.CharField(max_length=100)
    train_dataset_id = serializers.IntegerField(min_value=1)
    val_dataset_id = serializers.IntegerField(min_value=1)
    model_ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1), min_length=1, max_length=100
    )
    budget = serializers.DictField(
        required=False,
        default=dict,
        help_text="MODEL_TRIAL_COUNT (-1 unlimited), TIME_HOURS, GPU_COUNT",
    )
    train_args = serializers.DictField(required=False, default=dict)


class TrainJobByAppInputSerializer(serializers.Serializer):
    app = serializers.CharField(max_length=200)
    app_version = serializers.IntegerField(min_value=-1)


class TrialOutputSerializer(serializers.ModelSerializer):
    no = serializers.IntegerField(source="number")
    train_job_id = serializers.IntegerField(source="job_id")
    model_id = serializers.IntegerField(source="sub_job.model_id")
    model_name = serializers.CharField(source="sub_job.model.name")
    worker_id = serializers.CharField(source="worker")
    knobs = serializers.JSONField()
    proposal = serializers.SerializerMethodField()

    class Meta:
        model = Trial
        fields = [
            "id",
            "no",
            "train_job_id",
            "model_id",
            "model_name",
            "status",
            "score",
            "knobs",
            "proposal",
            "worker_id",
            "datetime_started",
            "datetime_stopped",
            "is_params_saved",
            "end_reason",
            "error",
        ]
        read_only_fields = fields

    def get_proposal(self, trial: Trial) -> dict[str, Any]:
        return proposal_of(trial)


def proposal_of(trial: Trial) -> dict[str, Any]:
    """The advisor's proposal; ``knobs`` always holds the trial's knob values."""
    proposal = dict(trial.proposal or {})
    proposal.setdefault("knobs", trial.knobs)
    return proposal


class TrialListInputSerializer(serializers.Serializer):
    ordering = serializers.ChoiceField(choices=TRIAL_ORDERINGS, default="number")


class BestTrialsInputSerializer(serializers.Serializer):
    max_count = serializers.IntegerField(min_value=1, max_value=1000, default=2)


class TrialLogsInputSerializer(serializers.Serializer):
    after = serializers.IntegerField(
        min_value=0,
        default=0,
        help_text="Only rows after this cursor (the last_id of the previous answer).",
    )
    limit = serializers.IntegerField(min_value=1, max_value=5000, default=1000)


class TrialLogsOutputSerializer(serializers.Serializer):
    messages = serializers.ListField(child=serializers.DictField())
    metrics = serializers.ListField(child=serializers.DictField())
    plots = serializers.ListField(child=serializers.DictField())
    last_id = serializers.IntegerField(help_text="Pass as `after` to get only newer rows.")
    has_more = serializers.BooleanField()
