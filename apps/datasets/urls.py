from django.urls import path

from apps.datasets import views

app_name = "datasets"
urlpatterns = [
    path("", views.dataset_list_view, name="list"),
    path("upload", views.dataset_upload, name="upload"),
    path("<int:dataset_id>/", views.dataset_detail, name="detail"),
    path("<int:dataset_id>/download", views.dataset_download, name="download"),
    path("<int:dataset_id>/thumbs/<int:row>.png", views.dataset_thumbnail, name="thumbnail"),
]
