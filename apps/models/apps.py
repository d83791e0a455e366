from django.apps import AppConfig


class ModelsConfig(AppConfig):
    name = "apps.models"
    # "ml_models" so that nobody has to read `models.models.Model`.
    label = "ml_models"
    verbose_name = "Model templates"
