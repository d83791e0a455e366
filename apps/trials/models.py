from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import models

from rafiki.constants import BudgetOption, TrainJobStatus, TrialStatus


class TrainJob(models.Model):
    """A tuning job: one app version of one user, one sub-job per model.

    States: STARTED (created) -> RUNNING (first trial claimed) -> STOPPED | ERRORED (final).
    """

    class Status(models.TextChoices):
        STARTED = TrainJobStatus.STARTED
        RUNNING = TrainJobStatus.RUNNING
        STOPPED = TrainJobStatus.STOPPED
        ERRORED = TrainJobStatus.ERRORED

    FINAL_STATES = frozenset({Status.STOPPED, Status.ERRORED})
    ACTIVE_STATES = frozenset({Status.STARTED, Status.RUNNING})

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="train_jobs"
    )
    app = models.CharField(max_length=200)
    app_version = models.PositiveIntegerField()
    task = models.CharField(max_length=100)
    train_dataset = models.ForeignKey(
        "datasets.Dataset", on_delete=models.PROTECT, related_name="+"
    )
    val_dataset = models.ForeignKey("datasets.Dataset", on_delete=models.PROTECT, related_name="+")
    budget = models.JSONField()
    train_args = models.JSONField(default=dict, blank=True)
    #: Trials of this job in flight (PENDING + RUNNING) at once.
    parallelism = models.PositiveIntegerField(default=2)
    #: Celery queue its trials go to ("rafiki", or "gpu" when a GPU worker was available).
    queue = models.CharField(max_length=64, default="rafiki")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.STARTED)
    datetime_started = models.DateTimeField(auto_now_add=True)
    datetime_stopped = models.DateTimeField(null=True, blank=True)
    #: Why the job ended ERRORED.
    error = models.TextField(blank=True, default="")
    #: Things the user should know, e.g. "no GPU worker: running on CPU".
    note = models.TextField(blank=True, default="")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["owner", "app", "app_version"], name="train_job_app_version_unique"
            )
        ]
        indexes = [models.Index(fields=["status"], name="train_job_status_idx")]
        ordering = ["-datetime_started", "-id"]

    def __str__(self) -> str:
        return f"{self.app} v{self.app_version}"

    @property
    def is_final(self) -> bool:
        return self.status in self.FINAL_STATES

    @property
    def model_trial_count(self) -> int:
        return int(self.budget.get(BudgetOption.MODEL_TRIAL_COUNT, -1))

    @property
    def time_hours(self) -> float:
        return float(self.budget.get(BudgetOption.TIME_HOURS, 0.1))

    @property
    def gpu_count(self) -> int:
        return int(self.budget.get(BudgetOption.GPU_COUNT, 0))

    @property
    def deadline(self) -> datetime:
        """No new trial starts after this time (TIME_HOURS is a soft target)."""
        return self.datetime_started + timedelta(hours=self.time_hours)


class SubTrainJob(models.Model):
    """The part of a train job that tunes one model."""

    class Status(models.TextChoices):
        RUNNING = TrainJobStatus.RUNNING
        STOPPED = TrainJobStatus.STOPPED
        ERRORED = TrainJobStatus.ERRORED

    job = models.ForeignKey(TrainJob, on_delete=models.CASCADE, related_name="sub_jobs")
    model = models.ForeignKey(
        "ml_models.ModelTemplate", on_delete=models.PROTECT, related_name="sub_train_jobs"
    )
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.RUNNING)
    error = models.TextField(blank=True, default="")
    datetime_stopped = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["job", "model"], name="sub_job_model_unique")
        ]
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.job} / {self.model.name}"


class Trial(models.Model):
    """One training run of one model with one set of knob values.

    States: PENDING -> RUNNING -> COMPLETED | ERRORED. A RUNNING trial whose worker was lost
    goes back to PENDING (attempt is bumped on every claim); every write after the claim is
    conditional on the attempt, so a stale or duplicate task cannot overwrite a newer one.
    """

    class Status(models.TextChoices):
        PENDING = TrialStatus.PENDING
        RUNNING = TrialStatus.RUNNING
        ERRORED = TrialStatus.ERRORED
        COMPLETED = TrialStatus.COMPLETED

    FINAL_STATES = frozenset({Status.ERRORED, Status.COMPLETED})
    IN_FLIGHT_STATES = frozenset({Status.PENDING, Status.RUNNING})

    class PlatformEndReason(models.TextChoices):
        """End reasons the platform itself records; the runner adds the process-level ones
        (timeout, CPU limit, out of memory, signal, no result...)."""

        CANCELLED = "CANCELLED"  # the job was stopped before the trial ran
        WORKER_LOST = "WORKER_LOST"  # the claiming worker vanished TRIAL_MAX_ATTEMPTS times
        INVALID_OUTPUT = "INVALID_OUTPUT"  # score or parameters failed validation
        PLATFORM_ERROR = "PLATFORM_ERROR"  # preparing or recording the trial failed

    job = models.ForeignKey(TrainJob, on_delete=models.CASCADE, related_name="trials")
    sub_job = models.ForeignKey(SubTrainJob, on_delete=models.CASCADE, related_name="trials")
    number = models.PositiveIntegerField(help_text="1, 2, ... within the job")
    knobs = models.JSONField()
    #: The advisor's proposal: {"knobs": ..., "share_params": bool, "meta": {...}}.
    proposal = models.JSONField(default=dict)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    score = models.FloatField(null=True, blank=True)
    datetime_created = models.DateTimeField(auto_now_add=True)
    datetime_started = models.DateTimeField(null=True, blank=True)
    datetime_stopped = models.DateTimeField(null=True, blank=True)
    attempt = models.PositiveIntegerField(default=0)
    #: "<host>:<pid>" of the worker process holding the claim.
    worker = models.CharField(max_length=200, blank=True, default="")
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    enqueued_at = models.DateTimeField(null=True, blank=True)
    task_id = models.CharField(max_length=64, blank=True, default="")
    end_reason = models.CharField(max_length=32, blank=True, default="")
    error = models.TextField(blank=True, default="")
    traceback = models.TextField(blank=True, default="")
    stdout_tail = models.TextField(blank=True, default="")
    stderr_tail = models.TextField(blank=True, default="")
    params_file = models.FileField(max_length=300, blank=True, default="")
    is_params_saved = models.BooleanField(default=False)
    #: The trial whose parameters were passed to this one as shared_params.
    shared_params_from = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["job", "number"], name="trial_number_unique_per_job")
        ]
        indexes = [
            models.Index(fields=["job", "status"], name="trial_job_status_idx"),
            models.Index(fields=["status", "heartbeat_at"], name="trial_status_heartbeat_idx"),
        ]
        ordering = ["job_id", "number"]

    def __str__(self) -> str:
        return f"{self.job} trial {self.number}"

    @property
    def is_final(self) -> bool:
        return self.status in self.FINAL_STATES

    @property
    def model_name(self) -> str:
        return self.sub_job.model.name

    @property
    def no(self) -> int:
        return self.number

    @property
    def worker_id(self) -> str:
        return self.worker


class TrialLog(models.Model):
    """One record the model logged (MESSAGE, METRICS or PLOT), in the order it was logged.

    Read as "rows of trial T after id N" (the live log view's cursor), hence the index.
    """

    class Type(models.TextChoices):
        MESSAGE = "MESSAGE"
        METRICS = "METRICS"
        PLOT = "PLOT"

    trial = models.ForeignKey(Trial, on_delete=models.CASCADE, related_name="logs")
    time = models.DateTimeField()
    type = models.CharField(max_length=16, choices=Type.choices)
    #: The record without "type" and "time": {"message": ...}, {metric: number}, or
    #: {"title", "metrics", "x_axis"}.
    payload = models.JSONField()

    class Meta:
        indexes = [
            models.Index(fields=["trial", "id"], name="trial_log_cursor_idx"),
            # The trial page reads one type at a time: the message tail, the plot definitions,
            # the metric rows after the summary's cursor.
            models.Index(fields=["trial", "type", "id"], name="trial_log_type_cursor_idx"),
        ]
        ordering = ["id"]


class TrialMetricSummary(models.Model):
    """A downsampled copy of one attempt of a trial's METRICS rows up to ``cursor``: for each
    metric, the rows holding its lowest and highest value in every bucket of ``bucket``
    consecutive METRICS rows. Kept up to date as the rows are stored
    (`apps.trials.metric_summary`), so charting a 50,000-point trial reads a few thousand rows.
    """

    trial = models.OneToOneField(
        Trial, on_delete=models.CASCADE, primary_key=True, related_name="metric_summary"
    )
    #: The trial attempt whose rows these are (a retried trial's log is rewritten).
    attempt = models.PositiveIntegerField()
    #: Id of the newest TrialLog row folded in; rows after it are read as they are.
    cursor = models.BigIntegerField(default=0)
    #: METRICS rows folded in so far.
    seen = models.PositiveIntegerField(default=0)
    #: METRICS rows per bucket (doubles as the trial logs more).
    bucket = models.PositiveIntegerField(default=1)
    #: Names of the numeric metrics seen (more metrics, fewer buckets: the size stays bounded).
    metrics = models.JSONField(default=list)
    #: The kept rows, oldest first: [[seq, log row id, time text, {metric: value}], ...].
    rows = models.JSONField(default=list)
