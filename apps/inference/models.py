from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q

from rafiki.constants import BudgetOption, InferenceJobStatus


def new_predictor_key() -> str:
    return secrets.token_urlsafe(18)


class InferenceJob(models.Model):
    """The best trials of a stopped train job, served for predictions.

    States: STARTED (created, workers loading) -> RUNNING (every worker loaded its trial)
    -> STOPPED | ERRORED (final). At most one active (STARTED or RUNNING) job per train job.
    """

    class Status(models.TextChoices):
        STARTED = InferenceJobStatus.STARTED
        RUNNING = InferenceJobStatus.RUNNING
        ERRORED = InferenceJobStatus.ERRORED
        STOPPED = InferenceJobStatus.STOPPED

    FINAL_STATES = frozenset({Status.STOPPED, Status.ERRORED})
    ACTIVE_STATES = frozenset({Status.STARTED, Status.RUNNING})

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="inference_jobs"
    )
    train_job = models.ForeignKey(
        "trials.TrainJob", on_delete=models.PROTECT, related_name="inference_jobs"
    )
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.STARTED)
    budget = models.JSONField(default=dict, blank=True)
    #: How many of the best trials are served.
    max_trials = models.PositiveIntegerField(default=2)
    #: The secret part of the predictor's address: whoever knows it may predict.
    predictor_key = models.CharField(max_length=64, unique=True, default=new_predictor_key)
    datetime_started = models.DateTimeField(auto_now_add=True)
    datetime_stopped = models.DateTimeField(null=True, blank=True)
    #: Why the job ended ERRORED.
    error = models.TextField(blank=True, default="")
    #: Things the user should know, one per line, e.g. a trial served on CPU although the
    #: budget asks for a GPU.
    note = models.TextField(blank=True, default="")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["train_job"],
                condition=Q(status__in=["STARTED", "RUNNING"]),
                name="one_active_inference_job_per_train_job",
            )
        ]
        indexes = [models.Index(fields=["status"], name="inference_job_status_idx")]
        ordering = ["-datetime_started", "-id"]

    def __str__(self) -> str:
        return f"inference job {self.pk} of {self.train_job}"

    @property
    def is_final(self) -> bool:
        return self.status in self.FINAL_STATES

    @property
    def gpu_count(self) -> int:
        """GPUs per served trial the budget asks for (0 when unset or not a whole number)."""
        value = self.budget.get(BudgetOption.GPU_COUNT, 0)
        return value if isinstance(value, int) and not isinstance(value, bool) else 0

    @property
    def app(self) -> str:
        return self.train_job.app

    @property
    def app_version(self) -> int:
        return self.train_job.app_version

    @property
    def task(self) -> str:
        return self.train_job.task


class InferenceWorker(models.Model):
    """The process serving one trial of an inference job, on some worker machine.

    States: PENDING (waiting for a worker) -> STARTING (claimed, loading) -> RUNNING
    (answering) -> STOPPED | ERRORED. A claimed worker whose heartbeat goes stale (its machine
    died) is claimed again by another worker process; attempt grows on every claim, and every
    write after a claim is conditional on it.
    """

    class Status(models.TextChoices):
        PENDING = "PENDING"
        STARTING = "STARTING"
        RUNNING = "RUNNING"
        ERRORED = "ERRORED"
        STOPPED = "STOPPED"

    FINAL_STATES = frozenset({Status.ERRORED, Status.STOPPED})
    CLAIMED_STATES = frozenset({Status.STARTING, Status.RUNNING})

    job = models.ForeignKey(InferenceJob, on_delete=models.CASCADE, related_name="workers")
    trial = models.ForeignKey("trials.Trial", on_delete=models.PROTECT, related_name="+")
    #: 0 for the best served trial; ties in ensembling go to the lower rank.
    rank = models.PositiveIntegerField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    attempt = models.PositiveIntegerField(default=0)
    #: "<host>:<pid>" of the worker process holding the claim.
    host = models.CharField(max_length=200, blank=True, default="")
    #: Process id of the model's serving process on that host.
    pid = models.PositiveIntegerField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    #: Times the model process died while serving (and was restarted).
    crashes = models.PositiveIntegerField(default=0)
    last_crash = models.TextField(blank=True, default="")
    error = models.TextField(blank=True, default="")
    traceback = models.TextField(blank=True, default="")
    datetime_started = models.DateTimeField(null=True, blank=True)
    datetime_stopped = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["job", "trial"], name="inference_worker_trial_unique")
        ]
        indexes = [
            models.Index(fields=["status", "heartbeat_at"], name="inference_worker_claim_idx")
        ]
        ordering = ["job_id", "rank"]

    def __str__(self) -> str:
        return f"{self.job} / trial {self.trial_id}"

    @property
    def is_final(self) -> bool:
        return self.status in self.FINAL_STATES
