from django.apps import AppConfig


class DashboardConfig(AppConfig):
    """The web pages' shared pieces: home page, page access decorators, template filters."""

    name = "apps.dashboard"
    label = "dashboard"
    verbose_name = "Dashboard"
