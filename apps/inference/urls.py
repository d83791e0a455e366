from django.urls import path

from apps.inference import views

app_name = "inference"
urlpatterns = [
    path("", views.job_list, name="job_list"),
    path("new", views.job_create, name="job_create"),
    path("<int:job_id>/", views.job_detail, name="job_detail"),
    path("<int:job_id>/status", views.job_status, name="job_status"),
    path("<int:job_id>/predict", views.job_predict, name="job_predict"),
    path("<int:job_id>/stop", views.job_stop, name="job_stop"),
]
