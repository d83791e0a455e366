from django.contrib import admin

from apps.models.models import ModelTemplate


@admin.register(ModelTemplate)
class ModelTemplateAdmin(admin.ModelAdmin):
    list_display = ["name", "task", "model_class", "owner", "access_right", "datetime_created"]
    list_filter = ["task", "access_right"]
    search_fields = ["name", "model_class"]
    readonly_fields = ["checksum", "knob_config", "datetime_created"]
