from django.contrib import admin
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import include, path, re_path
from django.views import defaults

from apps.api.errors import json_404, json_500
from apps.inference.views import predict


def health(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


urlpatterns = [
    path("admin/", admin.site.urls),
    path("health/", health, name="health"),
    path("api/", include("apps.api.urls")),
    # The predictor answers on this port too (predictor_host names the compat port).
    re_path(r"^predictors/(?P<key>[A-Za-z0-9_-]+)/predict/?$", predict, name="predictor"),
    # The dashboard pages (apps/*/urls.py) live at the root.
    path("", include("apps.dashboard.urls")),
]


def _wants_json(request: HttpRequest) -> bool:
    return request.path.startswith(("/api/", "/predictors/"))


def handler404(request: HttpRequest, exception: Exception) -> HttpResponse:
    """API clients get the API's error shape; people get the dashboard's 404 page."""
    if _wants_json(request):
        return json_404(request, exception)
    return defaults.page_not_found(request, exception)


def handler500(request: HttpRequest) -> HttpResponse:
    if _wants_json(request):
        return json_500(request)
    return defaults.server_error(request)
