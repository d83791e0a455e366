from django.contrib import admin

from apps.datasets.models import Dataset


@admin.register(Dataset)
class DatasetAdmin(admin.ModelAdmin):
    list_display = ["name", "task", "owner", "size_bytes", "datetime_created"]
    list_filter = ["task"]
    search_fields = ["name"]
    readonly_fields = ["checksum", "size_bytes", "summary", "datetime_created"]
