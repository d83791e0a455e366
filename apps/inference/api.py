"""REST API for inference jobs: `/api/inference-jobs/` (list, create, detail, stop, predict)."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.api.errors import ApiError, not_found
from apps.api.pagination import Pagination, paginated
from apps.inference.models import InferenceJob
from apps.inference.selectors import inference_job_get_visible, inference_job_list
from apps.inference.serializers import (
    InferenceJobCreateInputSerializer,
    InferenceJobOutputSerializer,
    PredictInputSerializer,
    PredictOutputSerializer,
)
from apps.inference.services import inference_job_create, inference_job_stop
from apps.inference.views import predict_answer
from apps.trials.api import get_job_for_user as get_train_job_for_user


def get_job_for_user(request: Request, job_id: int) -> InferenceJob:
    job = inference_job_get_visible(user=request.user, job_id=job_id)
    if job is None:
        raise not_found(f"inference job {job_id}", "InvalidInferenceJobError")
    return job


def _jobs_with_workers(qs: QuerySet[InferenceJob]) -> QuerySet[InferenceJob]:
    return qs.prefetch_related("workers__trial__sub_job__model")


class InferenceJobListCreateApi(APIView):
    @extend_schema(
        operation_id="inference_jobs_list", responses=paginated(InferenceJobOutputSerializer)
    )
    def get(self, request: Request) -> Response:
        paginator = Pagination()
        page = paginator.paginate_queryset(
            _jobs_with_workers(inference_job_list(user=request.user)), request, view=self
        )
        return paginator.get_paginated_response(InferenceJobOutputSerializer(page, many=True).data)

    @extend_schema(
        request=InferenceJobCreateInputSerializer,
        responses={201: InferenceJobOutputSerializer},
        description="Serve the best trials of one of your STOPPED train jobs (top `max_trials`, "
        "default 2, one per model first). It is RUNNING once every trial is loaded.",
    )
    def post(self, request: Request) -> Response:
        data = InferenceJobCreateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        train_job = get_train_job_for_user(request, values["train_job_id"])
        if train_job.owner_id != request.user.pk:
            raise not_found(f"train job {train_job.pk}", "InvalidTrainJobError")
        try:
            job = inference_job_create(
                owner=request.user,
                train_job=train_job,
                max_trials=values.get("max_trials"),
                budget=values["budget"],
            )
        except ValidationError as e:
            raise ApiError(" ".join(e.messages), error=type(e).__name__, status_code=400) from None
        job = _jobs_with_workers(InferenceJob.objects.filter(pk=job.pk)).get()
        return Response(InferenceJobOutputSerializer(job).data, status=status.HTTP_201_CREATED)


class InferenceJobDetailApi(APIView):
    @extend_schema(responses=InferenceJobOutputSerializer)
    def get(self, request: Request, job_id: int) -> Response:
        return Response(InferenceJobOutputSerializer(get_job_for_user(request, job_id)).data)


class InferenceJobStopApi(APIView):
    @extend_schema(
        request=None, responses=InferenceJobOutputSerializer, description="Stop serving."
    )
    def post(self, request: Request, job_id: int) -> Response:
        job = inference_job_stop(job=get_job_for_user(request, job_id))
        return Response(InferenceJobOutputSerializer(job).data)


class InferenceJobPredictApi(APIView):
    @extend_schema(
        request=PredictInputSerializer,
        responses=PredictOutputSerializer,
        description='`{"query": q}` answers `{"prediction": p}`; `{"queries": [...]}` answers '
        '`{"predictions": [...]}`. Predictions of several trials are ensembled.',
    )
    def post(self, request: Request, job_id: int) -> Response:
        job = get_job_for_user(request, job_id)
        if job.owner_id != request.user.pk:
            raise not_found(f"inference job {job_id}", "InvalidInferenceJobError")
        answer, code = predict_answer(job, request.data)
        return Response(answer, status=code)
