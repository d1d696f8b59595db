from django.contrib import admin

from kestrel.jobs.models import JobRun, JobState


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(JobState)
class JobStateAdmin(ReadOnlyAdmin):
    list_display = [
        "name",
        "periodic",
        "schedule",
        "last_started_at",
        "last_status",
        "next_run_at",
        "failure_count",
        "last_error_at",
    ]
    list_filter = ["periodic", "last_status"]
    search_fields = ["name", "last_error"]


@admin.register(JobRun)
class JobRunAdmin(ReadOnlyAdmin):
    list_display = ["name", "task_id", "status", "started_at", "finished_at", "retries_left"]
    list_filter = ["status", "name"]
    search_fields = ["name", "task_id", "error"]
    date_hierarchy = "started_at"
