from django.apps import AppConfig


class TrialsConfig(AppConfig):
    name = "apps.trials"
    label = "trials"
    verbose_name = "Train jobs and trials"
