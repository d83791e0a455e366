from django.contrib import admin
from django.http import HttpRequest, JsonResponse
from django.urls import include, path


def health(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


urlpatterns = [
    path("admin/", admin.site.urls),
    path("health/", health, name="health"),
    path("api/", include("apps.api.urls")),
    # The dashboard pages (apps/*/urls.py) live at the root.
    path("", include("apps.dashboard.urls")),
]
