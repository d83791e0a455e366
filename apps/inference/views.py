"""The predictor endpoint (`/predictors/<key>/predict`, on both ports) and the inference
pages: list, create from a stopped train job, job page with its workers, a predict form."""

from __future__ import annotations

import io
import json
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from apps.accounts.models import User
from apps.dashboard.access import member_required
from apps.inference import predictor
from apps.inference.models import InferenceJob
from apps.inference.selectors import (
    inference_job_list,
    inference_workers,
    predictor_host,
    train_jobs_servable,
)
from apps.inference.services import inference_job_create, inference_job_stop
from apps.trials.models import TrainJob
from rafiki.constants import TaskType

#: Largest predictor request body (a batch of images as JSON is large).
MAX_PREDICT_BODY = 64 * 1024 * 1024
#: Largest image accepted by the page's upload form.
MAX_UPLOAD_IMAGE = 10 * 1024 * 1024


def _error(error: str, detail: str, status: int) -> JsonResponse:
    return JsonResponse({"error": error, "detail": detail}, status=status)


def parse_predict_body(body: Any) -> tuple[list[Any], bool]:
    """(queries, single): ``{"query": q}`` is one query, ``{"queries": [...]}`` many."""
    if isinstance(body, dict) and "queries" in body:
        return body["queries"], False
    if isinstance(body, dict) and "query" in body:
        return [body["query"]], True
    raise predictor.QueryError('send {"query": <query>} or {"queries": [<query>, ...]}')


def predict_answer(
    job: InferenceJob | predictor.ServedJob, body: Any
) -> tuple[dict[str, Any], int]:
    """(JSON body, HTTP status) of the predictor's answer to a parsed request body, shared
    by every predict route."""
    try:
        queries, single = parse_predict_body(body)
        predictions = predictor.predict(job=job, queries=queries)
    except predictor.PredictionError as e:
        return {"error": e.error, "detail": e.detail}, e.status_code
    if single:
        return {"prediction": predictions[0]}, 200
    return {"predictions": predictions}, 200


@csrf_exempt
def predict(request: HttpRequest, key: str) -> HttpResponse:
    """``POST http://{predictor_host}/predict``. The key in the address is the credential
    (Rafiki's predictor takes no token), so it is long and random."""
    if request.method != "POST":
        return _error("MethodNotAllowedError", "POST a JSON body to predict", 405)
    job = predictor.served_job_by_key(key)
    if job is None:
        return _error(
            "InvalidRunningInferenceJobError", "no inference job has this predictor address", 404
        )
    if len(request.body) > MAX_PREDICT_BODY:
        return _error(
            "InvalidQueryError", f"the request body is over {MAX_PREDICT_BODY} bytes", 413
        )
    try:
        body = json.loads(request.body or b"null")
    except ValueError:
        return _error("MalformedRequestError", "the request body is not JSON", 400)
    answer, status = predict_answer(job, body)
    return JsonResponse(answer, status=status)


# --- pages ----------------------------------------------------------------------------------


def _get_job_for_user(user: User, job_id: int) -> InferenceJob:
    """The user's own inference job; 404 for anyone else's."""
    job = (
        InferenceJob.objects.filter(pk=job_id, owner=user)
        .select_related("train_job__train_dataset")
        .first()
    )
    if job is None:
        raise Http404("No such inference job")
    return job


@member_required
def job_list(request: HttpRequest) -> HttpResponse:
    jobs = list(inference_job_list(user=request.user)[:200])
    servable = list(train_jobs_servable(user=request.user)[:200])
    return render(request, "inference/job_list.html", {"jobs": jobs, "servable": servable})


@member_required
@require_POST
def job_create(request: HttpRequest) -> HttpResponse:
    train_job = TrainJob.objects.filter(
        pk=request.POST.get("train_job") or 0, owner=request.user
    ).first()
    if train_job is None:
        messages.error(request, "Choose one of your stopped train jobs.")
        return redirect("inference:job_list")
    try:
        max_trials = int(request.POST.get("max_trials") or 0) or None
        job = inference_job_create(owner=request.user, train_job=train_job, max_trials=max_trials)
    except (ValueError, ValidationError) as e:
        messages.error(request, " ".join(getattr(e, "messages", [str(e)])))
        return redirect("inference:job_list")
    messages.success(request, f"Deploying {train_job}: its trials are loading.")
    return redirect("inference:job_detail", job.pk)


def _image_query(upload: Any) -> list[Any]:
    """An uploaded image as the H x W x 3 array of 0..255 values image models take."""
    import numpy as np
    from PIL import Image, UnidentifiedImageError

    if upload.size > MAX_UPLOAD_IMAGE:
        raise predictor.QueryError("the image is over 10 MB")
    try:
        image = Image.open(io.BytesIO(upload.read()))
        image.load()
    except (UnidentifiedImageError, OSError):
        raise predictor.QueryError("the file is not an image (PNG or JPEG)") from None
    return np.asarray(image.convert("RGB")).tolist()


def _page_context(request: HttpRequest, job: InferenceJob, **extra: Any) -> dict[str, Any]:
    return {
        "job": job,
        "workers": list(inference_workers(job=job)),
        "predictor_url": f"http://{predictor_host(job=job)}/predict",
        "image_task": job.task == TaskType.IMAGE_CLASSIFICATION,
        **extra,
    }


@member_required
def job_detail(request: HttpRequest, job_id: int) -> HttpResponse:
    job = _get_job_for_user(request.user, job_id)
    return render(request, "inference/job_detail.html", _page_context(request, job))


@member_required
def job_status(request: HttpRequest, job_id: int) -> HttpResponse:
    """The status card alone, polled by the job page while the job is not final."""
    job = _get_job_for_user(request.user, job_id)
    return render(request, "inference/_job_status.html", _page_context(request, job))


@member_required
@require_POST
def job_predict(request: HttpRequest, job_id: int) -> HttpResponse:
    job = _get_job_for_user(request.user, job_id)
    query_text = request.POST.get("query", "")
    result: dict[str, Any] = {}
    try:
        if "image" in request.FILES:
            query = _image_query(request.FILES["image"])
        else:
            try:
                query = json.loads(query_text)
            except ValueError:
                raise predictor.QueryError("the query is not valid JSON") from None
        result["prediction"] = predictor.predict(job=job, queries=[query])[0]
        if isinstance(result["prediction"], list) and job.task in (
            TaskType.IMAGE_CLASSIFICATION,
            TaskType.TABULAR_CLASSIFICATION,
        ):
            probs = result["prediction"]
            if probs and all(isinstance(p, (int, float)) for p in probs):
                result["best_class"] = max(range(len(probs)), key=probs.__getitem__)
        result["prediction_json"] = json.dumps(result["prediction"])
    except predictor.PredictionError as e:
        result["error"] = f"{e.error}: {e.detail}"
    status = 200 if "error" not in result else 400
    context = _page_context(request, job, result=result, query_text=query_text)
    return render(request, "inference/job_detail.html", context, status=status)


@member_required
@require_POST
def job_stop(request: HttpRequest, job_id: int) -> HttpResponse:
    job = _get_job_for_user(request.user, job_id)
    inference_job_stop(job=job)
    messages.success(request, "The inference job was stopped.")
    return redirect("inference:job_detail", job.pk)
