from django.urls import path

from apps.trials import views

app_name = "trials"
urlpatterns = [
    path("jobs/", views.job_list, name="job_list"),
    path("jobs/new", views.job_create, name="job_create"),
    path("jobs/<int:job_id>/", views.job_detail, name="job_detail"),
    path("jobs/<int:job_id>/status", views.job_status, name="job_status"),
    path("jobs/<int:job_id>/stop", views.job_stop, name="job_stop"),
    path("jobs/<int:job_id>/best-params", views.job_best_params, name="job_best_params"),
    path("trials/<int:trial_id>/", views.trial_detail, name="trial_detail"),
    path("trials/<int:trial_id>/live", views.trial_live, name="trial_live"),
    path("trials/<int:trial_id>/log", views.trial_log_older, name="trial_log"),
    path("trials/<int:trial_id>/params", views.trial_params, name="trial_params"),
    path(
        "trials/<int:trial_id>/params.pickle", views.trial_params_pickle, name="trial_params_pickle"
    ),
]
