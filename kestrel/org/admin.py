from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin

from kestrel.org.models import Department, Employee, Position, Role


@admin.register(Position)
class PositionAdmin(admin.ModelAdmin):
    list_display = ["name", "code", "rank", "description"]
    search_fields = ["name", "code"]
    ordering = ["rank", "code"]


@admin.register(Role)
class RoleAdmin(admin.ModelAdmin):
    list_display = ["name", "data_scope", "description"]
    list_filter = ["data_scope"]
    search_fields = ["name"]
    filter_horizontal = ["departments", "permissions"]


@admin.register(Department)
class DepartmentAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "parent", "manager", "path", "depth"]
    list_filter = ["kind", "depth"]
    search_fields = ["name", "code"]
    readonly_fields = ["path", "depth"]
    autocomplete_fields = ["parent", "manager"]

    def save_model(self, request, obj, form, change):
        # The tree's materialised paths are kept by the services, never by a bare save().
        from kestrel.org import services

        if change:
            services.department_update(
                actor=request.user,
                department=obj,
                name=form.cleaned_data["name"],
                parent=form.cleaned_data["parent"],
                kind=form.cleaned_data["kind"],
                code=form.cleaned_data["code"],
                manager=form.cleaned_data["manager"],
                sort_order=form.cleaned_data["sort_order"],
            )
            obj.refresh_from_db()
        else:
            created = services.department_create(
                actor=request.user,
                name=form.cleaned_data["name"],
                parent=form.cleaned_data["parent"],
                kind=form.cleaned_data["kind"],
                code=form.cleaned_data["code"],
                manager=form.cleaned_data["manager"],
                sort_order=form.cleaned_data["sort_order"],
            )
            obj.pk = created.pk
            obj.refresh_from_db()


@admin.register(Employee)
class EmployeeAdmin(admin.ModelAdmin):
    list_display = ["name", "employee_no", "department", "position", "manager", "status"]
    list_filter = ["status", "position", "department__kind"]
    search_fields = ["name", "employee_no", "user__username", "mobile"]
    autocomplete_fields = ["department", "manager", "user"]
    filter_horizontal = ["roles", "extra_positions"]


class LoginAdmin(UserAdmin):
    """Logins are deactivated, never deleted: audit rows (append-only, PLT-5) name them as actors."""

    def has_delete_permission(self, request, obj=None):
        return False


admin.site.unregister(get_user_model())
admin.site.register(get_user_model(), LoginAdmin)
