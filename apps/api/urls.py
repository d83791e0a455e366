"""`/api/`: the documented REST API (mounted by rafiki_web/urls.py)."""

from django.urls import path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from apps.accounts import api as accounts
from apps.api import converters  # noqa: F401  (registers <id:> and <version:>)
from apps.api.errors import json_404
from apps.datasets import api as datasets
from apps.inference import api as inference
from apps.models import api as models
from apps.trials import api as trials

app_name = "api"

urlpatterns = [
    path("tokens/", accounts.TokenCreateApi.as_view(), name="token-create"),
    path("tokens/current/", accounts.TokenCurrentApi.as_view(), name="token-current"),
    path("me/", accounts.MeApi.as_view(), name="me"),
    path("users/", accounts.UserListCreateApi.as_view(), name="users"),
    path("users/<id:user_id>/", accounts.UserDetailApi.as_view(), name="user-detail"),
    path("users/<id:user_id>/ban/", accounts.UserBanApi.as_view(), name="user-ban"),
    path("models/", models.ModelListCreateApi.as_view(), name="models"),
    path("models/<id:model_id>/", models.ModelDetailApi.as_view(), name="model-detail"),
    path("models/<id:model_id>/file/", models.ModelFileApi.as_view(), name="model-file"),
    path("datasets/", datasets.DatasetListCreateApi.as_view(), name="datasets"),
    path("datasets/<id:dataset_id>/", datasets.DatasetDetailApi.as_view(), name="dataset-detail"),
    path("train-jobs/", trials.TrainJobListCreateApi.as_view(), name="train-jobs"),
    path("train-jobs/<id:job_id>/", trials.TrainJobDetailApi.as_view(), name="train-job-detail"),
    path("train-jobs/<id:job_id>/stop/", trials.TrainJobStopApi.as_view(), name="train-job-stop"),
    path("train-jobs/<id:job_id>/trials/", trials.TrialListApi.as_view(), name="train-job-trials"),
    path(
        "train-jobs/<id:job_id>/best-trials/",
        trials.BestTrialListApi.as_view(),
        name="train-job-best-trials",
    ),
    path(
        "apps/<str:app>/versions/<version:app_version>/",
        trials.TrainJobByAppApi.as_view(),
        name="train-job-by-app",
    ),
    path("trials/<id:trial_id>/", trials.TrialDetailApi.as_view(), name="trial-detail"),
    path("trials/<id:trial_id>/logs/", trials.TrialLogsApi.as_view(), name="trial-logs"),
    path(
        "trials/<id:trial_id>/parameters/",
        trials.TrialParametersApi.as_view(),
        name="trial-parameters",
    ),
    path("inference-jobs/", inference.InferenceJobListCreateApi.as_view(), name="inference-jobs"),
    path(
        "inference-jobs/<id:job_id>/",
        inference.InferenceJobDetailApi.as_view(),
        name="inference-job-detail",
    ),
    path(
        "inference-jobs/<id:job_id>/stop/",
        inference.InferenceJobStopApi.as_view(),
        name="inference-job-stop",
    ),
    path(
        "inference-jobs/<id:job_id>/predict/",
        inference.InferenceJobPredictApi.as_view(),
        name="inference-job-predict",
    ),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api:schema"), name="docs"),
    path("redoc/", SpectacularRedocView.as_view(url_name="api:schema"), name="redoc"),
    re_path(r"^.*$", json_404),
]
