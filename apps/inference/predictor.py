"""The web side of predictions: check the queries, send them through Redis to every served
trial's worker, wait for the answers and ensemble them. Any web process can do this for any
job (the state is in the database and Redis)."""

from __future__ import annotations

import functools
from typing import Any

from django.conf import settings

from apps.inference.models import InferenceJob, InferenceWorker
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


def predict(*, job: InferenceJob, queries: Any) -> list[Any]:
    """One ensembled prediction per query, from every trial the job serves.

    Raises a ``PredictionError``: the queries do not fit the task (400), the job is not
    running (400), every trial's model raised (500, with the model's error), no trial
    answered in time (504), Redis cannot be reached (503). When some trials answer and
    others fail, the answers that arrived are ensembled."""
    if job.status != InferenceJob.Status.RUNNING:
        if job.status == InferenceJob.Status.STARTED:
            raise JobNotRunningError(
                f"inference job {job.pk} is still loading its trials; try again shortly"
            )
        raise JobNotRunningError(f"inference job {job.pk} is {job.status}, not serving")
    task = job.task
    features = (
        _tabular_features(job)
        if task in (TaskType.TABULAR_CLASSIFICATION, TaskType.TABULAR_REGRESSION)
        else None
    )
    try:
        validate_queries(
            task, queries, features=features, max_queries=settings.INFERENCE_MAX_QUERIES
        )
    except InvalidQueryError as e:
        raise QueryError(str(e)) from None
    workers = list(
        InferenceWorker.objects.filter(job=job)
        .exclude(status__in=InferenceWorker.FINAL_STATES)
        .order_by("rank")
        .values_list("trial_id", flat=True)
    )
    if not workers:
        raise JobNotRunningError(f"inference job {job.pk} serves no trial")
    import redis

    try:
        answers = prediction_bus().ask(
            job.pk, workers, queries, settings.INFERENCE_PREDICT_TIMEOUT_SECONDS
        )
    except redis.RedisError as e:
        raise PredictorUnavailableError(f"the prediction queue cannot be reached: {e}") from None
    good = [answers[t].predictions for t in workers if t in answers and answers[t].error is None]
    if good:
        return ensemble_predictions(task, good)
    errors = [answers[t].error for t in workers if t in answers]
    if errors:
        raise ModelPredictError(f"the model failed to predict: {errors[0]}")
    raise PredictorTimeoutError(
        f"no trial answered within {settings.INFERENCE_PREDICT_TIMEOUT_SECONDS:g} s"
    )
