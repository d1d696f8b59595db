"""The public self-service form 客户资料表 (ARC-12): /s/<token>/, no login.

The customer fills in their own master-file data and contacts; nothing reaches the archive until
staff review it (``workflows.self_service_review``). The fields carry the model's own validators
(credit code with its check character, phones, postal code), so errors read exactly as elsewhere.
An unknown, used or expired link answers a polite page with 410, never an error page.
"""

from typing import Any

from django import forms
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from kestrel.customers.models import Contact, Customer
from kestrel.customers.workflows import (
    SELF_SERVICE_CONTACT_FIELDS,
    SELF_SERVICE_CUSTOMER_FIELDS,
    SelfServiceGone,
    self_service_open,
    self_service_submit,
)

MAX_BODY_BYTES = 64 * 1024
CONTACT_BLOCKS = 3
TEMPLATE_DIR = "customers/self_service"


def _model_field(model: type, name: str, *, required: bool) -> forms.Field:
    model_field = model._meta.get_field(name)
    field = model_field.formfield()
    # formfield() leaves out the validators given to the model field (credit code, phone, postal
    # code); the form must refuse exactly what the archive refuses.
    field.validators = [*field.validators, *model_field._validators]
    field.required = required
    if isinstance(field, forms.DateField):
        field.widget = forms.DateInput(attrs={"type": "date"})
    if isinstance(field, forms.CharField) and isinstance(field.widget, forms.Textarea):
        field.widget = forms.TextInput()
    field.widget.attrs.setdefault("class", "form-control")
    return field


class CustomerDataForm(forms.Form):
    """The master-file part, built from ``Customer``'s fields (labels, lengths and validators)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in SELF_SERVICE_CUSTOMER_FIELDS:
            self.fields[name] = _model_field(Customer, name, required=name == "name")


class ContactDataForm(forms.Form):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in SELF_SERVICE_CONTACT_FIELDS:
            self.fields[name] = _model_field(Contact, name, required=False)
        self.fields["title"].label = _("Job title")  # the model's "title" reads as a heading's title

    def is_blank(self) -> bool:
        return not any((self.data.get(self.add_prefix(name)) or "").strip() for name in self.fields)

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if not self.is_blank() and not (data.get("name") or "").strip():
            self.add_error("name", forms.ValidationError(_("Give the contact's name."), code="required"))
        return data


def _mark_invalid(form: forms.Form) -> None:
    for name in form.errors:
        if name in form.fields:
            form.fields[name].widget.attrs["class"] = "form-control is-invalid"


def _initial(customer: Customer | None) -> dict[str, Any]:
    if customer is None:
        return {}
    return {name: getattr(customer, name) for name in SELF_SERVICE_CUSTOMER_FIELDS}


def _private(response: HttpResponse) -> HttpResponse:
    # The token is in the URL: keep it out of caches, referrers and search engines.
    response["Cache-Control"] = "no-store"
    response["Referrer-Policy"] = "no-referrer"
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


def _gone(request: HttpRequest, reason: str) -> HttpResponse:
    return _private(render(request, f"{TEMPLATE_DIR}/gone.html", {"reason": reason}, status=410))


@require_http_methods(["GET", "POST"])
def self_service_form(request: HttpRequest, token: str) -> HttpResponse:
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = MAX_BODY_BYTES + 1
    if length > MAX_BODY_BYTES:
        return _private(render(request, f"{TEMPLATE_DIR}/gone.html", {"reason": "too_large"}, status=413))
    try:
        invitation = self_service_open(token=token)
    except SelfServiceGone as gone:
        return _gone(request, gone.details.get("reason", "unknown"))

    if request.method == "POST":
        form = CustomerDataForm(request.POST)
        contacts = [ContactDataForm(request.POST, prefix=f"contact{i}") for i in range(CONTACT_BLOCKS)]
        filled = [c for c in contacts if not c.is_blank()]
        if form.is_valid() and all(c.is_valid() for c in filled):
            try:
                self_service_submit(
                    token=token,
                    customer_data=form.cleaned_data,
                    contacts=[c.cleaned_data for c in filled],
                )
            except SelfServiceGone as gone:
                return _gone(request, gone.details.get("reason", "unknown"))
            return _private(render(request, f"{TEMPLATE_DIR}/done.html", {}))
        _mark_invalid(form)
        for contact in filled:
            _mark_invalid(contact)
        status = 422
    else:
        form = CustomerDataForm(initial=_initial(invitation.customer))
        contacts = [ContactDataForm(prefix=f"contact{i}") for i in range(CONTACT_BLOCKS)]
        status = 200
    context = {
        "form": form,
        "contacts": contacts,
        "invitation": invitation,
        "customer_name": invitation.customer.name if invitation.customer else "",
    }
    return _private(render(request, f"{TEMPLATE_DIR}/form.html", context, status=status))
