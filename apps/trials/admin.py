from django.contrib import admin

from apps.trials.models import SubTrainJob, TrainJob, Trial, TrialLog


class SubTrainJobInline(admin.TabularInline):
    model = SubTrainJob
    extra = 0
    readonly_fields = ["model", "status", "error", "datetime_stopped"]


@admin.register(TrainJob)
class TrainJobAdmin(admin.ModelAdmin):
    list_display = [
        "app",
        "app_version",
        "task",
        "owner",
        "status",
        "datetime_started",
        "datetime_stopped",
    ]
    list_filter = ["status", "task"]
    search_fields = ["app"]
    inlines = [SubTrainJobInline]
    readonly_fields = ["status", "datetime_started", "datetime_stopped", "error", "note", "queue"]


@admin.register(Trial)
class TrialAdmin(admin.ModelAdmin):
    list_display = [
        "job",
        "number",
        "status",
        "score",
        "end_reason",
        "attempt",
        "worker",
        "datetime_started",
        "datetime_stopped",
    ]
    list_filter = ["status", "end_reason"]
    readonly_fields = [f.name for f in Trial._meta.fields]


@admin.register(TrialLog)
class TrialLogAdmin(admin.ModelAdmin):
    list_display = ["trial", "id", "time", "type"]
    list_filter = ["type"]
    readonly_fields = ["trial", "time", "type", "payload"]
