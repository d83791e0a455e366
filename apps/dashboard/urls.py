from django.contrib.auth import views as auth_views
from django.urls import include, path

from apps.accounts.views import LoginView
from apps.dashboard import views

urlpatterns = [
    path("", views.home, name="home"),
    path("examples/", views.examples, name="examples"),
    path(
        "examples/models/<str:task>/<str:file_name>",
        views.example_model_file,
        name="example_model",
    ),
    path(
        "examples/datasets/<str:key>/<str:split>",
        views.example_dataset_file,
        name="example_dataset",
    ),
    path("login/", LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("models/", include("apps.models.urls")),
    path("datasets/", include("apps.datasets.urls")),
    path("users/", include("apps.accounts.urls")),
    path("inference/", include("apps.inference.urls")),
    path("", include("apps.trials.urls")),
]
