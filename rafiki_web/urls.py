from django.contrib import admin
from django.http import HttpRequest, JsonResponse
from django.urls import include, path, re_path

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
