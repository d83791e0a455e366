"""Root URLconf of the process serving the Rafiki-compatible admin API on ADMIN_PORT.

`scripts/run.py` starts a second web server with `ROOT_URLCONF=apps.compat.urls`: Rafiki's
client puts its routes at the root of their own port, so they cannot share the dashboard's
URL space. A trailing slash is optional on every route.
"""

from django.http import HttpRequest, JsonResponse
from django.urls import re_path

from apps.compat import api
from apps.inference.views import predict

handler400 = "apps.api.errors.json_400"
handler403 = "apps.api.errors.json_403"
handler404 = "apps.api.errors.json_404"
handler500 = "apps.api.errors.json_500"

_APP = r"(?P<app>[^/]+)"
_VERSION = r"(?P<version>[^/]+)"


def index(request: HttpRequest) -> JsonResponse:
    return JsonResponse(
        {
            "service": "Rafiki Web admin API",
            "docs": "COMPAT.md section 5; /api/docs/ on the web port",
        }
    )


urlpatterns = [
    re_path(r"^$", index),
    re_path(r"^tokens/?$", api.TokensApi.as_view()),
    re_path(r"^users/?$", api.UsersApi.as_view()),
    re_path(r"^datasets/?$", api.DatasetsApi.as_view()),
    re_path(r"^models/?$", api.ModelsApi.as_view()),
    re_path(r"^models/available/?$", api.AvailableModelsApi.as_view()),
    re_path(r"^models/(?P<model_id>[^/]+)/?$", api.ModelApi.as_view()),
    re_path(r"^models/(?P<model_id>[^/]+)/model_file/?$", api.ModelFileApi.as_view()),
    re_path(r"^train_jobs/?$", api.TrainJobsApi.as_view()),
    re_path(rf"^train_jobs/{_APP}/?$", api.TrainJobsOfAppApi.as_view()),
    re_path(rf"^train_jobs/{_APP}/{_VERSION}/?$", api.TrainJobApi.as_view()),
    re_path(rf"^train_jobs/{_APP}/{_VERSION}/stop/?$", api.TrainJobStopApi.as_view()),
    re_path(rf"^train_jobs/{_APP}/{_VERSION}/trials/?$", api.TrialsOfTrainJobApi.as_view()),
    re_path(r"^trials/(?P<trial_id>[^/]+)/?$", api.TrialApi.as_view()),
    re_path(r"^trials/(?P<trial_id>[^/]+)/logs/?$", api.TrialLogsApi.as_view()),
    re_path(r"^trials/(?P<trial_id>[^/]+)/parameters/?$", api.TrialParametersApi.as_view()),
    re_path(r"^inference_jobs/?$", api.InferenceJobsApi.as_view()),
    re_path(rf"^inference_jobs/{_APP}/?$", api.InferenceJobsOfAppApi.as_view()),
    re_path(rf"^inference_jobs/{_APP}/{_VERSION}/?$", api.InferenceJobApi.as_view()),
    re_path(rf"^inference_jobs/{_APP}/{_VERSION}/stop/?$", api.InferenceJobStopApi.as_view()),
    re_path(r"^actions/stop_all_jobs/?$", api.StopAllJobsApi.as_view()),
    # http://{predictor_host}/predict, predictor_host = "<host>:<port>/predictors/<key>".
    re_path(r"^predictors/(?P<key>[A-Za-z0-9_-]+)/predict/?$", predict),
]
