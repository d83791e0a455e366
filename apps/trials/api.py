"""REST API for train jobs and trials: `/api/train-jobs/`, `/api/trials/`."""

from __future__ import annotations

from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.api.errors import ApiError, not_found
from apps.api.pagination import Pagination, paginated
from apps.trials.models import TrainJob, Trial
from apps.trials.selectors import (
    train_job_get,
    train_job_get_visible,
    train_job_list,
    trial_get_visible,
    trial_list_best,
    trial_list_sorted,
    trial_logs_split,
    trial_params_bytes,
)
from apps.trials.serializers import (
    BestTrialsInputSerializer,
    TrainJobCreateInputSerializer,
    TrainJobOutputSerializer,
    TrialListInputSerializer,
    TrialLogsInputSerializer,
    TrialLogsOutputSerializer,
    TrialOutputSerializer,
)
from apps.trials.services import train_job_create, train_job_stop


def get_job_for_user(request: Request, job_id: int) -> TrainJob:
    job = train_job_get_visible(user=request.user, job_id=job_id)
    if job is None:
        raise not_found(f"train job {job_id}", "InvalidTrainJobError")
    return job


def get_trial_for_user(request: Request, trial_id: int) -> Trial:
    trial = trial_get_visible(user=request.user, trial_id=trial_id)
    if trial is None:
        raise not_found(f"trial {trial_id}", "InvalidTrialError")
    return trial


def params_response(data: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(data, content_type="application/octet-stream")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


class TrainJobListCreateApi(APIView):
    @extend_schema(
        operation_id="train_jobs_list",
        responses=paginated(TrainJobOutputSerializer),
        description="Your train jobs by app and version.",
    )
    def get(self, request: Request) -> Response:
        jobs = train_job_list(user=request.user).prefetch_related("sub_jobs")
        paginator = Pagination()
        page = paginator.paginate_queryset(jobs, request, view=self)
        return paginator.get_paginated_response(TrainJobOutputSerializer(page, many=True).data)

    @extend_schema(
        request=TrainJobCreateInputSerializer,
        responses={201: TrainJobOutputSerializer},
        description="Start tuning models on your datasets; the app's next version is used.",
    )
    def post(self, request: Request) -> Response:
        data = TrainJobCreateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        job = train_job_create(
            owner=request.user,
            app=values["app"],
            task=values["task"],
            train_dataset=values["train_dataset_id"],
            val_dataset=values["val_dataset_id"],
            models=values["model_ids"],
            budget=values["budget"],
            train_args=values["train_args"],
        )
        return Response(TrainJobOutputSerializer(job).data, status=status.HTTP_201_CREATED)


class TrainJobDetailApi(APIView):
    @extend_schema(responses=TrainJobOutputSerializer)
    def get(self, request: Request, job_id: int) -> Response:
        return Response(TrainJobOutputSerializer(get_job_for_user(request, job_id)).data)


class TrainJobByAppApi(APIView):
    @extend_schema(
        responses=TrainJobOutputSerializer,
        description="Your job of `app`; version -1 is the latest.",
    )
    def get(self, request: Request, app: str, app_version: int) -> Response:
        job = train_job_get(user=request.user, app=app, app_version=app_version)
        if job is None:
            raise not_found(f"train job {app} v{app_version}", "InvalidTrainJobError")
        return Response(TrainJobOutputSerializer(job).data)


class TrainJobStopApi(APIView):
    @extend_schema(
        request=None,
        responses=TrainJobOutputSerializer,
        description="Stop the job (a finished job is left as it is).",
    )
    def post(self, request: Request, job_id: int) -> Response:
        job = train_job_stop(job=get_job_for_user(request, job_id))
        return Response(TrainJobOutputSerializer(job).data)


class TrialListApi(APIView):
    @extend_schema(
        operation_id="train_jobs_trials_list",
        parameters=[TrialListInputSerializer],
        responses=paginated(TrialOutputSerializer),
    )
    def get(self, request: Request, job_id: int) -> Response:
        query = TrialListInputSerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        trials = trial_list_sorted(
            job=get_job_for_user(request, job_id), sort=query.validated_data["ordering"]
        )
        paginator = Pagination()
        page = paginator.paginate_queryset(trials, request, view=self)
        return paginator.get_paginated_response(TrialOutputSerializer(page, many=True).data)


class BestTrialListApi(APIView):
    pagination_class = None

    @extend_schema(
        parameters=[BestTrialsInputSerializer],
        responses=TrialOutputSerializer(many=True),
        description="The job's best completed trials by score, best first.",
    )
    def get(self, request: Request, job_id: int) -> Response:
        query = BestTrialsInputSerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        trials = trial_list_best(job=get_job_for_user(request, job_id), **query.validated_data)
        return Response(TrialOutputSerializer(trials, many=True).data)


class TrialDetailApi(APIView):
    @extend_schema(responses=TrialOutputSerializer)
    def get(self, request: Request, trial_id: int) -> Response:
        return Response(TrialOutputSerializer(get_trial_for_user(request, trial_id)).data)


class TrialLogsApi(APIView):
    @extend_schema(
        parameters=[TrialLogsInputSerializer],
        responses=TrialLogsOutputSerializer,
        description="The trial's log split into messages, metrics and plots. Poll with "
        "`after=<last_id>` to get only new rows.",
    )
    def get(self, request: Request, trial_id: int) -> Response:
        query = TrialLogsInputSerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        values = query.validated_data
        trial = get_trial_for_user(request, trial_id)
        logs = trial_logs_split(trial=trial, after_id=values["after"], limit=values["limit"])
        return Response(TrialLogsOutputSerializer(logs).data)


class TrialParametersApi(APIView):
    @extend_schema(
        responses={(200, "application/octet-stream"): OpenApiResponse(OpenApiTypes.BINARY)},
        description="The trial's parameters in the pickle-free format of `rafiki.model.params` "
        "(read with `load_params`).",
    )
    def get(self, request: Request, trial_id: int) -> HttpResponse:
        trial = get_trial_for_user(request, trial_id)
        data = trial_params_bytes(trial=trial)
        if data is None:
            raise ApiError(
                f"trial {trial_id} has no saved parameters",
                error="InvalidTrialError",
                status_code=404,
            )
        return params_response(data, f"trial-{trial.pk}.rafiki")
