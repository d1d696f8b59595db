"""Forms of the workflow pages: handover (ARC-8), duplicates and merge (ARC-9), self-service forms
(ARC-12). They parse and check input; the writes go through ``workflows`` (the services the API
calls), whose refusals become field or form errors.

Filter bars ignore a nonsense value (an unknown status shows everything) rather than answer an error
page, like the customer list's.
"""

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from kestrel.customers.forms import MAX_ID, TablerFormMixin
from kestrel.customers.models import DuplicateCandidate, Handover, SelfServiceInvitation
from kestrel.customers.workflows import SELF_SERVICE_CUSTOMER_FIELDS
from kestrel.org.models import Employee

DUPLICATE_REASONS = {
    "same_phone": _("Same phone"),
    "same_name": _("Same name"),
    "similar_name": _("Similar name"),
}


def employee_label(employee: Employee) -> str:
    label = f"{employee.name} · {employee.department.name}"
    if employee.status == Employee.Status.DEPARTED:
        label += str(_("(departed)"))
    return label


def _id(value: Any) -> int | None:
    """A database id from a form value, or None (never an overflow on the database)."""
    text = str(value).strip() if value is not None else ""
    if not text.isdigit() or not 0 < int(text) <= MAX_ID:
        return None
    return int(text)


class FilterForm(TablerFormMixin, forms.Form):
    """A filter bar: a field with a value it does not know is left out of ``filters()``."""

    def filters(self) -> dict[str, Any]:
        self.is_valid()
        return {name: value for name, value in self.cleaned_data.items() if value not in (None, "")}


# --- ARC-8: handover ------------------------------------------------------------------------------


class HandoverFilterForm(FilterForm):
    q = forms.CharField(
        label=_("Departing employee"),
        required=False,
        max_length=50,
        widget=forms.TextInput(attrs={"type": "search", "placeholder": _("Name or employee number")}),
    )
    status = forms.ChoiceField(
        label=_("Status"), required=False, choices=[("", _("All")), *Handover.Status.choices]
    )


class HandoverPickForm(TablerFormMixin, forms.Form):
    """Step 1: who leaves. Only employees within the user's data scope are offered, departed first."""

    employee = forms.TypedChoiceField(label=_("Departing employee"), coerce=int, empty_value=None)

    def __init__(self, *args: Any, employees: list[Employee], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        departed = [(e.pk, employee_label(e)) for e in employees if e.status == Employee.Status.DEPARTED]
        active = [(e.pk, employee_label(e)) for e in employees if e.status != Employee.Status.DEPARTED]
        choices: list[Any] = [("", _("- Choose the departing employee -"))]
        if departed:
            choices.append((_("Departed"), departed))
        if active:
            choices.append((_("Still employed"), active))
        self.fields["employee"].choices = choices


class HandoverPlanForm(TablerFormMixin, forms.Form):
    """Step 2: the default successor, per-customer overrides and a note.

    Overrides travel as ``override=<customer id>:<successor id>`` fields. "Assign" gives the ticked
    customers (``pick``) to ``assign_to`` — or back to the default successor when it is empty.
    """

    successor = forms.TypedChoiceField(label=_("Default successor"), coerce=int, empty_value=None)
    note = forms.CharField(
        label=_("Note"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(
            attrs={"rows": 2, "placeholder": _("Why, and anything the reviewer should know")}
        ),
    )
    assign_to = forms.TypedChoiceField(
        label=_("Give the ticked customers to"), coerce=int, empty_value=None, required=False
    )
    pick = forms.TypedMultipleChoiceField(coerce=int, required=False, widget=forms.CheckboxSelectMultiple)

    def __init__(
        self, *args: Any, successors: list[Employee], customer_ids: list[int], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        choices = [(e.pk, employee_label(e)) for e in successors]
        self.successor_ids = {e.pk for e in successors}
        self.customer_ids = set(customer_ids)
        self.fields["successor"].choices = [("", _("- Choose the successor -")), *choices]
        self.fields["assign_to"].choices = [("", _("The default successor")), *choices]
        self.fields["pick"].choices = [(pk, pk) for pk in customer_ids]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        overrides: dict[int, int] = {}
        for raw in self.data.getlist("override") if hasattr(self.data, "getlist") else []:
            customer_id, _sep, successor_id = str(raw).partition(":")
            customer, successor = _id(customer_id), _id(successor_id)
            if customer not in self.customer_ids or successor not in self.successor_ids:
                raise forms.ValidationError(
                    _("The plan names a customer or successor that is not part of this handover."),
                    code="bad_override",
                )
            overrides[customer] = successor
        for customer in cleaned.get("pick") or []:
            if cleaned.get("assign_to") is None:
                overrides.pop(customer, None)
            else:
                overrides[customer] = cleaned["assign_to"]
        cleaned["overrides"] = overrides
        return cleaned


# --- ARC-9: duplicates -----------------------------------------------------------------------------


class DuplicateFilterForm(FilterForm):
    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[*DuplicateCandidate.Status.choices, ("all", _("All"))],
    )
    reason = forms.ChoiceField(
        label=_("Why flagged"), required=False, choices=[("", _("All")), *DUPLICATE_REASONS.items()]
    )


class MergeForm(forms.Form):
    """Which of the pair's two archives is kept; the other one is merged into it and archived."""

    kept = forms.TypedChoiceField(coerce=int, empty_value=None)

    def __init__(self, *args: Any, pair: tuple[int, int], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.pair = pair
        self.fields["kept"].choices = [(pk, pk) for pk in pair]
        self.fields["kept"].error_messages = {
            "required": _("Choose the archive to keep."),
            "invalid_choice": _("Choose one of the two archives to keep."),
        }

    @property
    def merged_id(self) -> int:
        kept = self.cleaned_data["kept"]
        return self.pair[1] if kept == self.pair[0] else self.pair[0]


# --- ARC-12: self-service forms ---------------------------------------------------------------------


class SelfServiceFilterForm(FilterForm):
    status = forms.ChoiceField(
        label=_("Status"), required=False, choices=[("", _("All")), *SelfServiceInvitation.Status.choices]
    )


class InviteForm(TablerFormMixin, forms.Form):
    days = forms.IntegerField(
        label=_("Link valid for (days)"),
        min_value=1,
        max_value=90,
        required=False,
        help_text=_("From 1 to 90 days; empty for the usual period."),
    )


class ReviewForm(forms.Form):
    """The fields and contacts the reviewer accepts, or ``decision=reject``."""

    decision = forms.ChoiceField(choices=[("accept", "accept"), ("reject", "reject")])
    accept_fields = forms.MultipleChoiceField(required=False)
    accept_contacts = forms.TypedMultipleChoiceField(coerce=int, required=False)

    def __init__(self, *args: Any, submitted_fields: list[str], contact_count: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["accept_fields"].choices = [
            (name, name) for name in SELF_SERVICE_CUSTOMER_FIELDS if name in submitted_fields
        ]
        self.fields["accept_contacts"].choices = [(index, index) for index in range(contact_count)]
        self.fields["decision"].error_messages["invalid_choice"] = _("Accept or reject the submission.")
        self.fields["decision"].error_messages["required"] = _("Accept or reject the submission.")
        message = _("The choice does not match the submission.")
        self.fields["accept_fields"].error_messages["invalid_choice"] = message
        self.fields["accept_contacts"].error_messages["invalid_choice"] = message
