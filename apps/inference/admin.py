from django.contrib import admin

from apps.inference.models import InferenceJob, InferenceWorker


class InferenceWorkerInline(admin.TabularInline):
    model = InferenceWorker
    extra = 0
    fields = ("trial", "rank", "status", "host", "pid", "heartbeat_at", "crashes", "error")
    readonly_fields = fields


@admin.register(InferenceJob)
class InferenceJobAdmin(admin.ModelAdmin):
    list_display = ("id", "train_job", "owner", "status", "max_trials", "datetime_started")
    list_filter = ("status",)
    readonly_fields = ("predictor_key", "datetime_started", "datetime_stopped", "error")
    inlines = (InferenceWorkerInline,)
