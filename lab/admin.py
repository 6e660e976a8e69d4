from django.contrib import admin

from lab.models import ResearchRun


@admin.register(ResearchRun)
class ResearchRunAdmin(admin.ModelAdmin):
    list_display = ("id", "kind", "status", "progress", "origin", "created_at", "elapsed_s")
    list_filter = ("kind", "status", "origin")
    readonly_fields = ("figures", "report", "error", "celery_task_id", "started_at", "finished_at")
