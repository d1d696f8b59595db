"""Admin: grade schemes and grades are configuration (ARC-4); the grade history and the archive
view log are records, shown read-only."""

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.utils.translation import gettext as _

from kestrel.core.errors import ValidationFailed
from kestrel.customers.grading import customers_regrade, rules_parse
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


def _rules_preview(request, scheme: GradeScheme, override: dict[str, Any]) -> None:
    """PLT-11: the effect of changed rules on today's data, computed before they are saved, shown to
    the administrator and kept in the admin log entry of the change."""
    if not override:
        return
    result = customers_regrade(
        actor=request.user, schemes=[scheme], dry_run=True, rules_override=override, preview_limit=20
    ).schemes[0]
    preview = {
        "scheme": scheme.code,
        "rules": override,
        "changed": result.changed,
        "downgraded": result.downgraded,
        "skipped": result.skipped,
        "examples": [
            f"#{c.customer_id} {c.customer_name}: {c.from_grade or '-'} → {c.to_grade or '-'}"
            for c in result.changes
        ],
    }
    request.grading_preview = preview
    messages.info(
        request,
        _("The new rules regrade %(changed)d customers of today's data, %(downgraded)d of them down.")
        % {"changed": result.changed, "downgraded": result.downgraded},
    )


class PreviewInChangeMessage:
    def construct_change_message(self, request, form, formsets, add=False):
        message = super().construct_change_message(request, form, formsets, add)
        preview = getattr(request, "grading_preview", None)
        return [*message, {"preview": preview}] if preview else message


class GradeInline(admin.TabularInline):
    model = Grade
    form = GradeForm
    extra = 0
    ordering = ["rank"]


@admin.register(GradeScheme)
class GradeSchemeAdmin(PreviewInChangeMessage, admin.ModelAdmin):
    list_display = ["name", "code", "is_primary", "updated_at"]
    search_fields = ["name", "code"]
    inlines = [GradeInline]

    def save_formset(self, request, form, formset, change):
        if formset.model is Grade and change:
            override = {
                f.instance.code: f.cleaned_data["rules"]
                for f in formset.forms
                if f.instance.pk and "rules" in f.changed_data and not f.cleaned_data.get("DELETE")
            }
            _rules_preview(request, form.instance, override)
        super().save_formset(request, form, formset, change)


@admin.register(Grade)
class GradeAdmin(PreviewInChangeMessage, admin.ModelAdmin):
    form = GradeForm
    list_display = ["name", "scheme", "code", "rank", "requires_relationship_manager", "min_holders"]
    list_filter = ["scheme"]
    ordering = ["scheme", "rank"]

    def get_fields(self, request, obj=None):
        return ["scheme", *GradeForm.Meta.fields]

    def save_model(self, request, obj, form, change):
        if change and "rules" in form.changed_data:
            saved_code = Grade.objects.filter(pk=obj.pk).values_list("code", flat=True).first()
            _rules_preview(request, obj.scheme, {saved_code: form.cleaned_data["rules"]})
        super().save_model(request, obj, form, change)


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
