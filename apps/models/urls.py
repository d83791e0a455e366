from django.urls import path

from apps.models import views

app_name = "models"
urlpatterns = [
    path("", views.model_list, name="list"),
    path("upload", views.model_upload, name="upload"),
    path("<int:model_id>/", views.model_detail, name="detail"),
    path("<int:model_id>/download", views.model_download, name="download"),
]
