"""The Rafiki-compatible admin API (COMPAT.md section 5): routes at the root of ADMIN_PORT.

Every success is 200 with `application/json` (or `application/octet-stream` for files);
errors are `{"error": "<Name>", "detail": "..."}` with Rafiki's names (a role that may not
call a route gets UnauthorizedError, as Rafiki's clients expect). Parameters come from the
JSON body, or else the form body, merged over the query string. Only Bearer tokens from
`POST /tokens` authenticate here: no sessions, so no CSRF.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpResponse
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.accounts.selectors import user_get_by_email, user_list
from apps.accounts.services import user_ban, user_create
from apps.api.authentication import BearerTokenAuthentication
from apps.api.errors import ApiError, not_found
from apps.api.permissions import CanManageModels, HasRole, IsAdmin, IsSuperAdmin
from apps.api.services import InvalidCredentialsError, token_create, user_authenticate
from apps.api.throttles import LoginThrottle
from apps.compat import inference
from apps.compat import serializers as s
from apps.datasets.selectors import dataset_list
from apps.datasets.services import (
    InvalidDatasetUploadError,
    dataset_create,
    dataset_create_from_url,
)
from apps.models.api import get_model_for_user, model_file_response
from apps.models.selectors import model_template_list_available
from apps.models.services import model_template_create, model_template_delete
from apps.trials.api import params_response
from apps.trials.models import TrainJob, Trial
from apps.trials.selectors import (
    train_job_get,
    train_job_list,
    trial_get_visible,
    trial_list,
    trial_list_best,
    trial_logs_split,
    trial_params_bytes,
    trial_params_pickled,
)
from apps.trials.services import train_job_create, train_job_stop, train_job_stop_all
from rafiki.constants import ModelAccessRight


class CompatApi(APIView):
    authentication_classes = [BearerTokenAuthentication]
    permission_classes = [HasRole]
    parser_classes = [JSONParser, FormParser, MultiPartParser]
    error_names = {401: "UnauthorizedError", 403: "UnauthorizedError"}
    schema = None  # documented in COMPAT.md; `/api/schema/` documents `/api/`

    def params(self, request: Request) -> dict[str, Any]:
        """Query string, overridden by the JSON or form body."""
        merged: dict[str, Any] = {k: v[-1] for k, v in request.query_params.lists()}
        body = request.data
        if hasattr(body, "lists"):
            merged.update({k: (v[0] if len(v) == 1 else v) for k, v in body.lists()})
        elif isinstance(body, dict):
            merged.update(body)
        else:
            raise ApiError("the JSON body must be an object", error="MalformedRequestError")
        return merged

    def valid(self, serializer_class: type, request: Request) -> dict[str, Any]:
        data = serializer_class(data=self.params(request))
        data.is_valid(raise_exception=True)
        return data.validated_data


def _int_id(value: str, what: str, error: str) -> int:
    if not value.isdigit() or len(value) > 18:
        raise not_found(f"{what} {value!r}", error)
    return int(value)


def _version(value: str) -> int:
    try:
        version = int(value)
    except ValueError:
        raise ApiError(
            f"app version {value!r} is not an integer (-1 = latest)", error="InvalidTrainJobError"
        ) from None
    if version < -1 or version > 2**31:
        raise ApiError(f"app version {value!r} is out of range", error="InvalidTrainJobError")
    return version


def _job_of_app(request: Request, app: str, version: str) -> TrainJob:
    app_version = _version(version)
    job = train_job_get(user=request.user, app=app, app_version=app_version)
    if job is None:
        raise not_found(f"train job of app {app!r} version {app_version}", "InvalidTrainJobError")
    return job


def _trial(request: Request, trial_id: str) -> Trial:
    trial = trial_get_visible(
        user=request.user, trial_id=_int_id(trial_id, "trial", "InvalidTrialError")
    )
    if trial is None:
        raise not_found(f"trial {trial_id}", "InvalidTrialError")
    return trial


# --- tokens and users -----------------------------------------------------------------------


class TokensApi(CompatApi):
    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes = [LoginThrottle]
    throttle_scope = "login"

    def post(self, request: Request) -> Response:
        values = self.valid(s.LoginInput, request)
        try:
            user = user_authenticate(**values)
        except InvalidCredentialsError as exc:
            LoginThrottle.note_failure(request, self)
            raise ApiError(str(exc), error="UnauthorizedError", status_code=401) from None
        _, raw = token_create(user=user)
        return Response(
            s.TokenOut({"user_id": user.pk, "user_type": user.user_type, "token": raw}).data
        )


class UsersApi(CompatApi):
    permission_classes = [IsAdmin]

    def post(self, request: Request) -> Response:
        user = user_create(creator=request.user, **self.valid(s.UserCreateInput, request))
        return Response(s.UserOut(user).data)

    def get(self, request: Request) -> Response:
        return Response(s.UserOut(user_list(), many=True).data)

    def delete(self, request: Request) -> Response:
        email = self.valid(s.UserBanInput, request)["email"]
        user = user_get_by_email(email=email)
        if user is None:
            raise not_found(f"user {email!r}", "InvalidUserError")
        return Response(s.UserOut(user_ban(banner=request.user, user=user)).data)


# --- datasets -------------------------------------------------------------------------------


class DatasetsApi(CompatApi):
    def post(self, request: Request) -> Response:
        values = self.valid(s.DatasetCreateInput, request)
        if values.get("dataset") is not None:
            dataset = dataset_create(
                owner=request.user, name=values["name"], task=values["task"], file=values["dataset"]
            )
        elif values.get("dataset_url"):
            dataset = dataset_create_from_url(
                owner=request.user,
                name=values["name"],
                task=values["task"],
                url=values["dataset_url"],
            )
        else:
            raise InvalidDatasetUploadError(
                "no dataset: upload the file as multipart field `dataset` or give `dataset_url`"
            )
        return Response(s.DatasetOut(dataset).data)

    def get(self, request: Request) -> Response:
        task = self.valid(s.TaskFilterInput, request).get("task") or None
        return Response(s.DatasetOut(dataset_list(user=request.user, task=task), many=True).data)


# --- models ---------------------------------------------------------------------------------


class ModelsApi(CompatApi):
    permission_classes = [CanManageModels]

    def post(self, request: Request) -> Response:
        values = self.valid(s.ModelCreateInput, request)
        model = model_template_create(
            owner=request.user,
            name=values["name"],
            task=values["task"],
            file=values["model_file_bytes"],
            class_name=values["model_class"],
            dependencies=values["dependencies"] or {},
            access_right=values["access_right"] or ModelAccessRight.PRIVATE,
            docker_image=values.get("docker_image") or "",
        )
        return Response(s.ModelBriefOut(model).data)


class AvailableModelsApi(CompatApi):
    def get(self, request: Request) -> Response:
        task = self.valid(s.TaskFilterInput, request).get("task") or None
        return Response(
            s.AvailableModelOut(
                model_template_list_available(user=request.user, task=task), many=True
            ).data
        )


class ModelApi(CompatApi):
    def get(self, request: Request, model_id: str) -> Response:
        model = get_model_for_user(request, _int_id(model_id, "model", "InvalidModelError"))
        return Response(s.ModelOut(model).data)

    def delete(self, request: Request, model_id: str) -> Response:
        model = get_model_for_user(
            request, _int_id(model_id, "model", "InvalidModelError"), owner_only=True
        )
        out = s.ModelBriefOut(model).data
        model_template_delete(template=model)
        return Response(out)


class ModelFileApi(CompatApi):
    def get(self, request: Request, model_id: str) -> HttpResponse:
        model = get_model_for_user(
            request, _int_id(model_id, "model", "InvalidModelError"), owner_only=True
        )
        return model_file_response(model)


# --- train jobs and trials ------------------------------------------------------------------


class TrainJobsApi(CompatApi):
    def post(self, request: Request) -> Response:
        params = self.params(request)
        if "model_ids" not in params and "models" in params:  # older clients say `models`
            params["model_ids"] = params["models"]
        data = s.TrainJobCreateInput(data=params)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        job = train_job_create(
            owner=request.user,
            app=values["app"],
            task=values["task"],
            train_dataset=values["train_dataset_id"],
            val_dataset=values["val_dataset_id"],
            models=values["model_ids"],
            budget=values["budget"] or {},
            train_args=values["train_args"] or {},
        )
        return Response(s.TrainJobBriefOut(job).data)

    def get(self, request: Request) -> Response:
        user_id = self.valid(s.UserIdFilterInput, request).get("user_id")
        owner = request.user
        if user_id is not None and user_id != request.user.pk:
            if not request.user.is_admin:
                raise ApiError(
                    "only admins may list other users' train jobs",
                    error="UnauthorizedError",
                    status_code=403,
                )
            from apps.accounts.selectors import user_get

            owner = user_get(user_id=user_id)
            if owner is None:
                return Response([])
        return Response(s.TrainJobOut(train_job_list(user=owner), many=True).data)


class TrainJobsOfAppApi(CompatApi):
    def get(self, request: Request, app: str) -> Response:
        return Response(s.TrainJobOut(train_job_list(user=request.user, app=app), many=True).data)


class TrainJobApi(CompatApi):
    def get(self, request: Request, app: str, version: str) -> Response:
        return Response(s.TrainJobOut(_job_of_app(request, app, version)).data)


class TrainJobStopApi(CompatApi):
    def post(self, request: Request, app: str, version: str) -> Response:
        job = train_job_stop(job=_job_of_app(request, app, version))
        return Response(s.TrainJobBriefOut(job).data)


class TrialsOfTrainJobApi(CompatApi):
    def get(self, request: Request, app: str, version: str) -> Response:
        job = _job_of_app(request, app, version)
        values = self.valid(s.BestTrialsInput, request)
        if values.get("type") == "best":
            trials = trial_list_best(job=job, max_count=values["max_count"])
        else:
            trials = trial_list(job=job)
        return Response(s.TrialOut(trials, many=True).data)


class TrialApi(CompatApi):
    def get(self, request: Request, trial_id: str) -> Response:
        return Response(s.TrialOut(_trial(request, trial_id)).data)


class TrialLogsApi(CompatApi):
    def get(self, request: Request, trial_id: str) -> Response:
        logs = trial_logs_split(trial=_trial(request, trial_id), limit=100_000)
        return Response(
            {"plots": logs["plots"], "metrics": logs["metrics"], "messages": logs["messages"]}
        )


class TrialParametersApi(CompatApi):
    """Pickled params dict as Rafiki sends it (made here, on the way out: the store holds the
    pickle-free format), or that stored file itself with ``?format=rafiki-params``."""

    def get(self, request: Request, trial_id: str) -> HttpResponse:
        trial = _trial(request, trial_id)
        wanted = self.valid(s.ParametersInput, request)["format"]
        if wanted == "rafiki-params":
            data = trial_params_bytes(trial=trial)
        else:
            data = (
                trial_params_pickled(trial=trial)
                if trial_params_bytes(trial=trial) is not None
                else None
            )
        if data is None:
            raise ApiError(f"trial {trial.pk} has no saved parameters", error="InvalidTrialError")
        return params_response(
            data, f"trial-{trial.pk}.{'rafiki' if wanted == 'rafiki-params' else 'pickle'}"
        )


# --- inference jobs (see apps.compat.inference) ---------------------------------------------


class InferenceJobsApi(CompatApi):
    def post(self, request: Request) -> Response:
        values = self.valid(s.InferenceJobCreateInput, request)
        values["budget"] = values["budget"] or {}
        return Response(inference.inference_job_create(user=request.user, **values))

    def get(self, request: Request) -> Response:
        user_id = self.valid(s.UserIdFilterInput, request).get("user_id")
        if user_id is not None and user_id != request.user.pk and not request.user.is_admin:
            raise ApiError(
                "only admins may list other users' inference jobs",
                error="UnauthorizedError",
                status_code=403,
            )
        return Response(inference.inference_job_list(user=request.user))


class InferenceJobsOfAppApi(CompatApi):
    def get(self, request: Request, app: str) -> Response:
        return Response(inference.inference_job_list(user=request.user, app=app))


class InferenceJobApi(CompatApi):
    def get(self, request: Request, app: str, version: str) -> Response:
        return Response(
            inference.inference_job_get_running(
                user=request.user, app=app, app_version=_version(version)
            )
        )


class InferenceJobStopApi(CompatApi):
    def post(self, request: Request, app: str, version: str) -> Response:
        return Response(
            inference.inference_job_stop(user=request.user, app=app, app_version=_version(version))
        )


# --- admin actions --------------------------------------------------------------------------


class StopAllJobsApi(CompatApi):
    permission_classes = [IsSuperAdmin]

    def post(self, request: Request) -> Response:
        jobs = train_job_stop_all()
        return Response(
            {
                "stopped_train_job_ids": [job.pk for job in jobs],
                "stopped_inference_job_ids": inference.inference_job_stop_all(),
            }
        )
