"""Admin: grade schemes and grades are configuration (ARC-4); the grade history and the archive
view log are records, shown read-only."""

from django import forms
from django.contrib import admin

from kestrel.core.errors import ValidationFailed
from kestrel.customers.grading import rules_parse
from kestrel.customers.models import ArchiveView, Grade, GradeChange, GradeScheme


class GradeForm(forms.ModelForm):
    class Meta:
        model = Grade
        fields = ["code", "name", "rank", "rules", "requires_relationship_manager", "min_holders"]

    def clean_rules(self):
        rules = self.cleaned_data["rules"]
        try:
            rules_parse(rules)
        except ValidationFailed as error:
            problems = "; ".join(map(str, error.details.get("rules", [])))
            raise forms.ValidationError(f"{error.message} {problems}".strip()) from error
        return rules


class GradeInline(admin.TabularInline):
    model = Grade
    form = GradeForm
    extra = 0
    ordering = ["rank"]


@admin.register(GradeScheme)
class GradeSchemeAdmin(admin.ModelAdmin):
    list_display = ["name", "code", "is_primary", "updated_at"]
    search_fields = ["name", "code"]
    inlines = [GradeInline]


@admin.register(Grade)
class GradeAdmin(admin.ModelAdmin):
    form = GradeForm
    list_display = ["name", "scheme", "code", "rank", "requires_relationship_manager", "min_holders"]
    list_filter = ["scheme"]
    ordering = ["scheme", "rank"]

    def get_fields(self, request, obj=None):
        return ["scheme", *GradeForm.Meta.fields]


class ReadOnlyAdmin(admin.ModelAdmin):
    """Append-only records: visible, never added, edited or deleted here."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(GradeChange)
class GradeChangeAdmin(ReadOnlyAdmin):
    list_display = ["customer", "scheme", "from_grade", "to_grade", "source", "changed_by", "changed_at"]
    list_filter = ["scheme", "source"]
    search_fields = ["customer__name", "customer__code", "reason"]
    list_select_related = ["customer", "scheme", "from_grade", "to_grade", "changed_by"]
    raw_id_fields = ["customer"]


@admin.register(ArchiveView)
class ArchiveViewAdmin(ReadOnlyAdmin):
    list_display = ["customer", "viewer", "channel", "outcome", "viewed_at"]
    list_filter = ["outcome", "channel"]
    search_fields = ["customer__name", "customer__code", "viewer__username"]
    list_select_related = ["customer", "viewer"]
    raw_id_fields = ["customer"]
