from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from kestrel.workdays.models import CalendarDay, MissingYearWarning, WorkingHours


@admin.register(CalendarDay)
class CalendarDayAdmin(admin.ModelAdmin):
    list_display = ["date", "kind", "name"]
    list_filter = ["kind", "date"]
    search_fields = ["name"]
    date_hierarchy = "date"


@admin.register(WorkingHours)
class WorkingHoursAdmin(admin.ModelAdmin):
    list_display = ["__str__", "start", "end", "break_start", "break_end"]

    def has_add_permission(self, request):
        # One row: the company's working hours.
        return not WorkingHours.objects.exists() and super().has_add_permission(request)


@admin.register(MissingYearWarning)
class MissingYearWarningAdmin(admin.ModelAdmin):
    list_display = ["year", "first_needed_at", "acknowledged_by", "acknowledged_at"]
    readonly_fields = ["year", "first_needed_at", "acknowledged_by", "acknowledged_at"]
    actions = ["acknowledge"]

    def has_add_permission(self, request):
        return False

    @admin.action(description=_("Acknowledge"))
    def acknowledge(self, request, queryset):
        from kestrel.workdays.services import missing_year_acknowledge

        for warning in queryset.filter(acknowledged_at__isnull=True):
            missing_year_acknowledge(actor=request.user, warning=warning)
