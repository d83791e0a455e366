"""The web side of predictions: check the queries, send them through Redis to every served
trial's worker, wait for the answers and ensemble them. Any web process can do this for any
job (the state is in the database and Redis)."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

from django.conf import settings

from apps.inference.models import InferenceJob, InferenceWorker
from apps.inference.selectors import inference_job_get_by_key
from rafiki.constants import TaskType
from rafiki.predictor.bus import PredictionBus
from rafiki.predictor.ensemble import ensemble_predictions
from rafiki.predictor.queries import InvalidQueryError, validate_queries


class PredictionError(Exception):
    """A prediction request that failed; ``error`` is the name clients match on."""

    error = "PredictionError"
    status_code = 500

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class QueryError(PredictionError):
    error = "InvalidQueryError"
    status_code = 400


class JobNotRunningError(PredictionError):
    error = "InvalidRunningInferenceJobError"
    status_code = 400


class ModelPredictError(PredictionError):
    error = "ModelPredictError"
    status_code = 500


class PredictorTimeoutError(PredictionError):
    error = "PredictorTimeoutError"
    status_code = 504


class PredictorUnavailableError(PredictionError):
    error = "PredictorUnavailableError"
    status_code = 503


def redis_url() -> str:
    return settings.REDIS_URL or settings.CELERY_BROKER_URL


@functools.lru_cache(maxsize=4)
def _redis(url: str) -> Any:
    import redis

    # One pool per process and URL; health checks notice a restarted Redis. Reads block up to
    # the predict timeout (BLPOP), so the socket timeout must outlast it.
    return redis.Redis.from_url(
        url,
        health_check_interval=30,
        socket_connect_timeout=5,
        socket_timeout=settings.INFERENCE_PREDICT_TIMEOUT_SECONDS + 10,
    )


def prediction_bus() -> PredictionBus:
    return PredictionBus(_redis(redis_url()))


@dataclass(frozen=True)
class ServedJob:
    """What a prediction needs to know about a job that never changes once it is created;
    kept per process by predictor key (``served_job_by_key``), so that a request costs one
    small query (the job's status and serving trials) instead of a join over four tables."""

    job_id: int
    task: str
    #: The columns a tabular query must have (None: not tabular, or unknown).
    features: tuple[str, ...] | None

    @classmethod
    def of(cls, job: InferenceJob) -> ServedJob:
        task = job.task
        features = (
            _tabular_features(job)
            if task in (TaskType.TABULAR_CLASSIFICATION, TaskType.TABULAR_REGRESSION)
            else None
        )
        return cls(job.pk, task, tuple(features) if features is not None else None)


def _tabular_features(job: InferenceJob) -> list[str] | None:
    train_job = job.train_job
    features = (train_job.train_args or {}).get("features")
    if isinstance(features, list) and all(isinstance(f, str) for f in features):
        return features
    columns = (train_job.train_dataset.summary or {}).get("columns")
    if not isinstance(columns, list) or not columns:
        return None
    target = (train_job.train_args or {}).get("target") or columns[-1]
    return [c for c in columns if c != target]


@functools.lru_cache(maxsize=1024)
def _served_job_by_key(key: str) -> ServedJob:
    job = inference_job_get_by_key(key=key)
    if job is None:
        raise LookupError(key)  # not cached: the key may belong to a job created later
    return ServedJob.of(job)


def served_job_by_key(key: str) -> ServedJob | None:
    """The job behind a predictor address, or None."""
    try:
        return _served_job_by_key(key)
    except LookupError:
        return None


def _serving_trials(served: ServedJob) -> list[int]:
    """The job's trials that are serving, best first; raises ``JobNotRunningError`` unless
    the job is RUNNING (read fresh on every request: a stopped job must say so at once)."""
    rows = list(
        InferenceWorker.objects.filter(job_id=served.job_id)
        .order_by("rank")
        .values_list("job__status", "trial_id", "status")
    )
    status = rows[0][0] if rows else None
    if status != InferenceJob.Status.RUNNING:
        if status == InferenceJob.Status.STARTED:
            raise JobNotRunningError(
                f"inference job {served.job_id} is still loading its trials; try again shortly"
            )
        raise JobNotRunningError(f"inference job {served.job_id} is {status}, not serving")
    trial_ids = [t for _, t, s in rows if s not in InferenceWorker.FINAL_STATES]
    if not trial_ids:
        raise JobNotRunningError(f"inference job {served.job_id} serves no trial")
    return trial_ids


def predict(*, job: InferenceJob | ServedJob, queries: Any) -> list[Any]:
    """One ensembled prediction per query, from every trial the job serves.

    Raises a ``PredictionError``: the queries do not fit the task (400), the job is not
    running (400), every trial's model raised (500, with the model's error), no trial
    answered in time (504), Redis cannot be reached (503). When some trials answer and
    others fail, the answers that arrived are ensembled."""
    served = job if isinstance(job, ServedJob) else ServedJob.of(job)
    trial_ids = _serving_trials(served)
    try:
        validate_queries(
            served.task,
            queries,
            features=served.features,
            max_queries=settings.INFERENCE_MAX_QUERIES,
        )
    except InvalidQueryError as e:
        raise QueryError(str(e)) from None
    import redis

    try:
        answers = prediction_bus().ask(
            served.job_id, trial_ids, queries, settings.INFERENCE_PREDICT_TIMEOUT_SECONDS
        )
    except redis.RedisError as e:
        raise PredictorUnavailableError(f"the prediction queue cannot be reached: {e}") from None
    good = [answers[t].predictions for t in trial_ids if t in answers and answers[t].error is None]
    if good:
        return ensemble_predictions(served.task, good)
    errors = [answers[t].error for t in trial_ids if t in answers]
    if errors:
        raise ModelPredictError(f"the model failed to predict: {errors[0]}")
    raise PredictorTimeoutError(
        f"no trial answered within {settings.INFERENCE_PREDICT_TIMEOUT_SECONDS:g} s"
    )
