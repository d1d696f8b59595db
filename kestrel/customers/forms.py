"""Forms of the customer pages (ARC-1 … ARC-3, ARC-10). They parse and check input; the writes go
through ``services`` (the same functions the API calls), whose refusals become field errors."""

import contextlib
import re
from collections.abc import Callable
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.db.models.fields import BLANK_CHOICE_LABEL
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from kestrel.core.errors import KestrelError
from kestrel.customers import masking
from kestrel.customers.custom_fields import NUMBER_DIGITS, TEXT_MAX_LENGTH, validation_limit
from kestrel.customers.models import (
    Contact,
    Customer,
    CustomerCharacteristics,
    CustomField,
    Grade,
    ImportJob,
    Industry,
    Region,
)
from kestrel.org.models import Employee
from kestrel.web.forms import TablerFormMixin

MAX_ID = 2**63 - 1


def provinces() -> QuerySet[Region]:
    return Region.objects.filter(level=Region.Level.PROVINCE).order_by("code")


def regions_under(parent_id: Any, level: int) -> QuerySet[Region]:
    """Cities of a province or districts of a city; nothing without a (valid) parent."""
    try:
        parent = int(parent_id)
    except (TypeError, ValueError):
        return Region.objects.none()
    if not 0 < parent <= MAX_ID:
        return Region.objects.none()
    return Region.objects.filter(parent_id=parent, level=level).order_by("code")


def primary_grades() -> QuerySet[Grade]:
    return Grade.objects.filter(scheme__is_primary=True).order_by("rank")


class IdChoiceField(forms.ModelChoiceField):
    """A ModelChoiceField whose oversized ids are an invalid choice, not a database overflow."""

    def to_python(self, value: Any) -> Any:
        if isinstance(value, str) and value.strip().isdigit() and int(value) > MAX_ID:
            raise forms.ValidationError(self.error_messages["invalid_choice"], code="invalid_choice")
        return super().to_python(value)


class IdMultipleChoiceField(forms.ModelMultipleChoiceField):
    def clean(self, value: Any) -> Any:
        for item in value or []:
            if isinstance(item, str) and item.strip().isdigit() and int(item) > MAX_ID:
                raise forms.ValidationError(
                    self.error_messages["invalid_choice"], code="invalid_choice", params={"value": item}
                )
        return super().clean(value)


class RegionSelect(forms.Select):
    """A region select that asks for its children when it changes (the htmx cascade)."""

    def __init__(self, *, url: str = "", target: str = "", attrs: dict | None = None) -> None:
        attrs = dict(attrs or {})
        if url:
            attrs.update({"hx-get": url, "hx-trigger": "change", "hx-target": target, "hx-swap": "outerHTML"})
        super().__init__(attrs=attrs)


def map_service_error(form: forms.BaseForm, error: KestrelError) -> None:
    """Put a service's refusal ({code, message, details}) on the fields it names, else on the form.

    Errors of custom fields may come nested (``{"custom_fields": {"level": [...]}}``) and land on
    their inputs (``cf_level``). Messages for fields the form does not have are not dropped: they
    join the form's own errors."""
    details = error.details if isinstance(error.details, dict) else {}
    pairs: list[tuple[str, Any]] = []
    for field, messages in details.items():
        if field == "custom_fields" and isinstance(messages, dict):
            pairs += [(f"{CUSTOM_FIELD_PREFIX}{key}", value) for key, value in messages.items()]
        else:
            pairs.append((str(field), messages))
    placed, unplaced = False, []
    for field, messages in pairs:
        if isinstance(messages, int | bool):
            continue
        name = {
            "co_owner_ids": "co_owners",
            "owner_id": "owner",
            "relationship_manager_id": "relationship_manager",
            "customer_id": "to_customer",
        }.get(field, field)
        texts = [str(message) for message in (messages if isinstance(messages, list | tuple) else [messages])]
        if name in form.fields:
            for text in texts:
                form.add_error(name, text)
            widget = form.fields[name].widget
            widget.attrs["class"] = f"{widget.attrs.get('class', '')} is-invalid".strip()
            placed = True
        elif name != "fields":  # "fields": the names in an "unknown fields" refusal, not messages
            unplaced += texts
    if not placed:
        form.add_error(None, error.message)
    else:
        for text in unplaced:
            form.add_error(None, text)


# --- The list's filter bar (ARC-10) -------------------------------------------------------------


class CustomerFilterForm(TablerFormMixin, forms.Form):
    q = forms.CharField(
        label=_("Keyword"),
        required=False,
        max_length=100,
        widget=forms.TextInput(
            attrs={"type": "search", "placeholder": _("Name, pinyin, code, credit code, phone, contact…")}
        ),
    )
    kind = forms.ChoiceField(
        label=_("Customer type"), required=False, choices=[("", _("All")), *Customer.Kind.choices]
    )
    grade = IdChoiceField(
        label=_("Grade"), required=False, queryset=Grade.objects.none(), empty_label=_("All")
    )
    status = forms.ChoiceField(
        label=_("Status"), required=False, choices=[("", _("All")), *Customer.Status.choices]
    )
    province = IdChoiceField(
        label=_("Province"), required=False, queryset=Region.objects.none(), empty_label=_("All")
    )
    city = IdChoiceField(
        label=_("City"), required=False, queryset=Region.objects.none(), empty_label=_("All")
    )
    owner = IdChoiceField(
        label=_("Owner"), required=False, queryset=Employee.objects.none(), empty_label=_("All")
    )
    confidentiality = forms.ChoiceField(
        label=_("Confidentiality"),
        required=False,
        choices=[("", _("All")), *Customer.Confidentiality.choices],
    )
    lifecycle_stage = forms.ChoiceField(
        label=_("Lifecycle stage"), required=False, choices=[("", _("All")), *Customer.Lifecycle.choices]
    )

    def __init__(self, *args: Any, owners: QuerySet[Employee], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["grade"].queryset = primary_grades()
        self.fields["province"].queryset = provinces()
        self.fields["city"].queryset = regions_under(self.data.get("province"), Region.Level.CITY)
        self.fields["owner"].queryset = owners
        self.fields["owner"].label_from_instance = lambda employee: employee.name
        if not self.data.get("province"):
            self.fields["city"].widget.attrs["disabled"] = True  # a city is picked within a province

    def filters(self) -> dict[str, Any]:
        """Keyword arguments for ``selectors.CustomerFilter``; invalid values are ignored, not fatal."""
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        pick = {name: data.get(name) for name in self.fields if name not in self.errors}
        return {
            "q": (pick.get("q") or "").strip(),
            "kind": pick.get("kind") or None,
            "status": pick.get("status") or None,
            "grade_id": pick["grade"].pk if pick.get("grade") else None,
            "province_id": pick["province"].pk if pick.get("province") else None,
            "city_id": pick["city"].pk if pick.get("city") else None,
            "owner_id": pick["owner"].pk if pick.get("owner") else None,
            "confidentiality": pick.get("confidentiality") or None,
            "lifecycle_stage": pick.get("lifecycle_stage") or None,
        }

    @property
    def active_count(self) -> int:
        """Filters set besides the keyword: shown on the "more filters" toggle."""
        return sum(1 for name in self.fields if name != "q" and self.data.get(name))


# --- The master file (ARC-1, ARC-2, ARC-5) ------------------------------------------------------

CHARACTERISTIC_FIELDS = [
    "service_area",
    "sales_capability",
    "development_potential",
    "business_philosophy",
    "management_traits",
    "attitude_to_us",
    "contract_fulfilment",
    "frictions",
    "competitor_dealings",
    "demand_traits",
]

# The groups of ARC-1, in the order of the paper 客户资料卡; the detail page shows the same groups.
FIELD_GROUPS: list[tuple[str, Any, list[str]]] = [
    (
        "basic",
        _("Basic information"),
        [
            "name",
            "short_name",
            "code",
            "credit_code",
            "kind",
            "industry",
            "tags",
            "lifecycle_stage",
            "status",
        ],
    ),
    (
        "contact",
        _("Contact details"),
        ["province", "city", "district", "address", "postal_code", "phone", "fax", "email", "website"],
    ),
    (
        "company",
        _("Company information"),
        [
            "legal_representative",
            "founded_on",
            "registered_capital",
            "organisation_form",
            "staff_count",
            "annual_sales",
            "assets",
            "currency",
        ],
    ),
    (
        "finance",
        _("Tax and settlement"),
        [
            "taxpayer_type",
            "tax_rate",
            "invoice_title",
            "invoice_address",
            "payment_terms",
            "discount_terms",
            "credit_limit",
            "sales_limit",
            "payment_credit_record",
        ],
    ),
    (
        "ownership",
        _("Ownership and classification"),
        [
            "owner",
            "co_owners",
            "relationship_manager",
            "confidentiality",
            "commission_code",
            "source",
            "referrer",
        ],
    ),
]
WIDE_FIELDS = {"address", "invoice_address", "payment_credit_record", "name", "tags"}
MEDIUM_FIELDS = {"credit_code", "industry", "email", "website", "invoice_title", "co_owners"}
AMOUNT_FIELDS = {"registered_capital", "annual_sales", "assets", "credit_limit", "sales_limit"}


# --- Admin-defined custom fields (ARC-1) ----------------------------------------------------------
# Each active ``CustomField`` becomes an input ``cf_<key>`` of its type; the cleaned value is what
# ``Customer.custom_fields`` stores (the shapes the import stores too): number → int (or float when a
# fraction was typed), amount → decimal string, date → ISO date, yes/no → bool, choice → the choice,
# multiple choice → a list. An empty input removes the key.

CUSTOM_FIELD_PREFIX = "cf_"
CUSTOM_TEXT_MAX_LENGTH = TEXT_MAX_LENGTH  # the services' limits (custom_fields.py)
CUSTOM_NUMBER_DIGITS = NUMBER_DIGITS


def _full_match(pattern: re.Pattern[str]) -> Callable[[str], None]:
    def check(value: str) -> None:
        if value and not pattern.fullmatch(value):
            raise ValidationError(_("The value is not in the required format."), code="pattern")

    return check


def _options(custom: CustomField, current: Any) -> list[tuple[str, str]]:
    """The field's choices; a stored value that is no longer one of them stays selectable, so that
    editing something else does not force the user to change it."""
    options: list[tuple[str, str]] = []
    for choice in custom.choices if isinstance(custom.choices, list) else []:
        if isinstance(choice, list | tuple) and len(choice) == 2:
            options.append((str(choice[0]), str(choice[1])))
        elif not isinstance(choice, dict | list | tuple):
            options.append((str(choice), str(choice)))
    offered = {value for value, _label in options}
    stored = current if isinstance(current, list) else [] if current in (None, "") else [current]
    for value in map(str, stored):
        if value not in offered:
            options.append((value, _("%(value)s (no longer offered)") % {"value": value}))
            offered.add(value)
    return options


class CustomNumberField(forms.DecimalField):
    """A "number" custom field: an int, or a float where a fraction was typed."""

    def clean(self, value: Any) -> int | float | None:
        number = super().clean(value)
        if number is None:
            return None
        return int(number) if number == number.to_integral_value() else float(number)


class CustomAmountField(forms.DecimalField):
    """An "amount" custom field, stored as a decimal string (no binary rounding)."""

    def clean(self, value: Any) -> str | None:
        number = super().clean(value)
        return None if number is None else str(number)


class CustomDateField(forms.DateField):
    def clean(self, value: Any) -> str | None:
        day = super().clean(value)
        return day.isoformat() if day else None


class CustomYesNoField(forms.TypedChoiceField):
    """A "yes / no" custom field as a select: "required" asks for an answer, not for a yes."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(
            choices=[("", BLANK_CHOICE_LABEL), ("true", _("Yes")), ("false", _("No"))],
            coerce=lambda value: value == "true",
            empty_value=None,
            **kwargs,
        )

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, bool):
            return "true" if value else "false"
        return value


def custom_form_field(custom: CustomField, *, current: Any = None) -> forms.Field:
    """The input of one custom field, with its required flag, choices and validation."""
    validation = custom.validation if isinstance(custom.validation, dict) else {}
    common: dict[str, Any] = {"label": custom.label, "required": custom.required}
    Type = CustomField.Type
    field: forms.Field
    if custom.type in (Type.NUMBER, Type.DECIMAL):
        numeric = CustomNumberField if custom.type == Type.NUMBER else CustomAmountField
        field = numeric(
            max_digits=CUSTOM_NUMBER_DIGITS,
            decimal_places=None if custom.type == Type.NUMBER else 2,
            min_value=validation_limit(validation, "min"),
            max_value=validation_limit(validation, "max"),
            **common,
        )
        field.widget.attrs.update({"step": "any", "inputmode": "decimal"})
    elif custom.type == Type.DATE:
        field = CustomDateField(widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"), **common)
    elif custom.type == Type.BOOLEAN:
        field = CustomYesNoField(**common)
    elif custom.type == Type.CHOICE:
        field = forms.ChoiceField(choices=[("", BLANK_CHOICE_LABEL), *_options(custom, current)], **common)
    elif custom.type == Type.MULTI_CHOICE:
        field = forms.MultipleChoiceField(
            choices=_options(custom, current), widget=forms.CheckboxSelectMultiple, **common
        )
    else:
        max_length = validation_limit(validation, "max_length")
        field = forms.CharField(
            max_length=int(max_length) if max_length and max_length >= 1 else CUSTOM_TEXT_MAX_LENGTH, **common
        )
        pattern = validation.get("pattern")
        if isinstance(pattern, str) and pattern:
            # A broken pattern checks nothing rather than refusing every value.
            with contextlib.suppress(re.error):
                field.validators.append(_full_match(re.compile(pattern)))
    if isinstance(field.widget, forms.CheckboxSelectMultiple):
        css = "form-check-input"
    elif isinstance(field.widget, forms.Select):
        css = "form-select"
    else:
        css = "form-control"
    field.widget.attrs["class"] = css
    return field


def custom_initial(custom: CustomField, value: Any) -> Any:
    """A stored value as its input shows it."""
    if custom.type == CustomField.Type.MULTI_CHOICE:
        return [str(item) for item in value] if isinstance(value, list) else [str(value)]
    if custom.type == CustomField.Type.CHOICE:
        return str(value)
    return value


class CustomerForm(TablerFormMixin, forms.ModelForm):
    """Create or edit a customer. Amount fields masked for this user (ARC-14) are left out: nobody
    edits what they may not see."""

    tags = forms.CharField(
        label=_("Tags"),
        required=False,
        max_length=500,
        help_text=_("Separate tags with commas."),
    )
    owner = IdChoiceField(label=_("Owner"), queryset=Employee.objects.none())
    co_owners = IdMultipleChoiceField(
        label=_("Co-owners"), required=False, queryset=Employee.objects.none(), widget=forms.SelectMultiple
    )
    relationship_manager = IdChoiceField(
        label=_("Relationship manager"), required=False, queryset=Employee.objects.none()
    )

    class Meta:
        model = Customer
        fields = [name for _key, _label, names in FIELD_GROUPS for name in names if name not in {"tags"}]
        field_classes = {name: IdChoiceField for name in ("industry", "province", "city", "district")}
        widgets = {
            "founded_on": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "payment_credit_record": forms.Textarea(attrs={"rows": 3}),
            "code": forms.TextInput(attrs={"placeholder": _("Assigned automatically when empty")}),
        }

    def __init__(
        self,
        *args: Any,
        user: Any,
        employees: QuerySet[Employee],
        region_url: str,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        for name in AMOUNT_FIELDS & masking.masked_amount_fields():
            if not masking.sees_sensitive(user):
                self.fields.pop(name, None)
        self.fields["code"].required = False
        if "credit_limit" in self.fields:
            self.fields["credit_limit"].required = False
        self.fields["industry"].queryset = Industry.objects.order_by("code")
        for name in ("owner", "co_owners", "relationship_manager"):
            self.fields[name].queryset = employees
            self.fields[name].label_from_instance = lambda employee: (
                f"{employee.name}（{employee.department.name}）"
            )
        self.fields["co_owners"].widget.attrs["size"] = 4
        for name in ("registered_capital", "annual_sales", "assets", "credit_limit", "sales_limit"):
            if name in self.fields:
                self.fields[name].widget.attrs.update({"inputmode": "decimal", "step": "0.01", "min": "0"})
        # Region cascade (htmx): a province lists its cities, a city its districts.
        province = self._bound_or_initial("province")
        city = self._bound_or_initial("city")
        self.fields["province"].queryset = provinces()
        self.fields["city"].queryset = regions_under(province, Region.Level.CITY)
        self.fields["district"].queryset = regions_under(city, Region.Level.DISTRICT)
        self.fields["province"].widget = RegionSelect(url=region_url, target="#id_city")
        self.fields["city"].widget = RegionSelect(url=region_url, target="#id_district")
        self.fields["district"].widget = RegionSelect()
        for name in ("province", "city", "district"):
            self.fields[name].widget.choices = self.fields[name].choices
            self.fields[name].widget.attrs["class"] = "form-select"
        if self.instance.pk:
            self.initial["tags"] = ", ".join(tag.name for tag in self.instance.tags.all())
        # Characteristics (ARC-2): long texts kept beside the master file, edited here too.
        characteristics = self._characteristics()
        for name in CHARACTERISTIC_FIELDS:
            model_field = CustomerCharacteristics._meta.get_field(name)
            self.fields[f"ch_{name}"] = forms.CharField(
                label=capfirst(model_field.verbose_name),
                required=False,
                max_length=5000,
                widget=forms.Textarea(attrs={"rows": 2, "class": "form-control"}),
                initial=getattr(characteristics, name, ""),
            )
        # Admin-defined fields (ARC-1): the active ones, in their order.
        self.custom_fields = list(CustomField.objects.filter(active=True).order_by("sort_order", "key"))
        stored = self._stored_custom_values()
        for custom in self.custom_fields:
            name = f"{CUSTOM_FIELD_PREFIX}{custom.key}"
            self.fields[name] = custom_form_field(custom, current=stored.get(custom.key))
            if stored.get(custom.key) not in (None, "", []):
                self.initial[name] = custom_initial(custom, stored[custom.key])
        self._mark_invalid()

    def _stored_custom_values(self) -> dict[str, Any]:
        values = self.instance.custom_fields if self.instance.pk else None
        return values if isinstance(values, dict) else {}

    def _bound_or_initial(self, name: str) -> Any:
        if self.is_bound:
            return self.data.get(name)
        value = self.initial.get(name)
        if value is None and self.instance.pk:
            value = getattr(self.instance, f"{name}_id")
        return value

    def _characteristics(self) -> CustomerCharacteristics | None:
        if not self.instance.pk:
            return None
        try:
            return self.instance.characteristics
        except CustomerCharacteristics.DoesNotExist:
            return None

    def _mark_invalid(self) -> None:
        for name, field in self.fields.items():
            if name.startswith(("ch_", CUSTOM_FIELD_PREFIX)):
                continue
            if isinstance(field.widget, forms.SelectMultiple):
                field.widget.attrs["class"] = "form-select"

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        province, city, district = data.get("province"), data.get("city"), data.get("district")
        if city and province and city.parent_id != province.pk:
            self.add_error("city", _("This city is not in the chosen province."))
        if district and city and district.parent_id != city.pk:
            self.add_error("district", _("This district is not in the chosen city."))
        if (city or district) and not province:
            self.add_error("province", _("Choose the province first."))
        return data

    def _post_clean(self) -> None:
        # The service validates the master file (and says which field is wrong); the ModelForm's own
        # instance validation would check it twice and on an instance without an owner.
        pass

    def service_fields(self) -> dict[str, Any]:
        """cleaned_data in the shape ``services.customer_create`` / ``customer_update`` take."""
        data = dict(self.cleaned_data)
        fields = {name: data[name] for name in self.Meta.fields if name in self.fields and name in data}
        fields["tags"] = [
            tag.strip() for tag in (data.get("tags") or "").replace("，", ",").split(",") if tag.strip()
        ]
        fields["co_owners"] = list(data.get("co_owners") or [])
        fields["characteristics"] = {name: data.get(f"ch_{name}", "") for name in CHARACTERISTIC_FIELDS}
        for name in ("staff_count", "founded_on", "tax_rate", "registered_capital", "annual_sales", "assets"):
            if name in fields and fields[name] == "":
                fields[name] = None
        if fields.get("credit_limit") is None and "credit_limit" in fields:
            fields.pop("credit_limit")
        if self.custom_fields:
            # Keys of inactive fields (and others, e.g. "merged_into") are kept as they are.
            values = dict(self._stored_custom_values())
            for custom in self.custom_fields:
                value = data.get(f"{CUSTOM_FIELD_PREFIX}{custom.key}")
                if value is None or value == "" or value == []:
                    values[custom.key] = None  # removed by the service
                else:
                    values[custom.key] = value
            fields["custom_fields"] = values
        return fields

    @property
    def groups(self) -> list[dict[str, Any]]:
        """The fields grouped as on the paper card, for the template."""
        return [
            {
                "key": key,
                "label": label,
                "fields": [
                    {"field": self[name], "wide": name in WIDE_FIELDS, "medium": name in MEDIUM_FIELDS}
                    for name in names
                    if name in self.fields
                ],
            }
            for key, label, names in FIELD_GROUPS
        ]

    @property
    def characteristic_fields(self) -> list[Any]:
        return [self[f"ch_{name}"] for name in CHARACTERISTIC_FIELDS]

    @property
    def custom_field_items(self) -> list[dict[str, Any]]:
        """The custom fields for the template: multiple choices are rendered as checkboxes."""
        wide = {CustomField.Type.TEXT, CustomField.Type.MULTI_CHOICE}
        return [
            {
                "field": self[f"{CUSTOM_FIELD_PREFIX}{custom.key}"],
                "multiple": custom.type == CustomField.Type.MULTI_CHOICE,
                "wide": custom.type in wide,
            }
            for custom in self.custom_fields
        ]


# --- Contacts and major events (ARC-3, ARC-2) -----------------------------------------------------


class ContactForm(TablerFormMixin, forms.ModelForm):
    class Meta:
        model = Contact
        fields = [
            "name",
            "title",
            "department",
            "mobile",
            "phone",
            "email",
            "wechat",
            "birthday",
            "gender",
            "education",
            "decision_role",
            "hobbies",
            "family_notes",
            "is_primary",
            "consent_contact",
            "consent_marketing",
        ]
        widgets = {
            "birthday": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "hobbies": forms.Textarea(attrs={"rows": 2}),
            "family_notes": forms.Textarea(attrs={"rows": 2}),
        }

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # ARC-14: who may not see a personal phone or WeChat does not get it in an input either; left
        # empty, it stays as it is.
        self.masked = not masking.sees_sensitive(user)
        if self.masked and self.instance.pk:
            for name in ("mobile", "wechat"):
                self.initial[name] = ""
                self.fields[name].widget.attrs["placeholder"] = (
                    masking.contact_value(user, name, getattr(self.instance, name)) or ""
                )
                self.fields[name].help_text = _("Hidden from you; leave empty to keep it.")

    def _post_clean(self) -> None:
        pass  # the service validates (and normalises phones) before it saves

    def service_fields(self) -> dict[str, Any]:
        fields = dict(self.cleaned_data)
        if self.masked and self.instance.pk:
            for name in ("mobile", "wechat"):
                if not fields.get(name):
                    fields.pop(name, None)
        return fields


class ContactMoveForm(TablerFormMixin, forms.Form):
    """调至其他客户 (ARC-3): the contact changed employer. The new customer is found by code, name or
    pinyin among the archives the user reads, and picked from the matches."""

    q = forms.CharField(
        label=_("Customer moved to"),
        required=False,
        max_length=100,
        widget=forms.TextInput(
            attrs={
                "type": "search",
                "autocomplete": "off",
                "placeholder": _("Customer code, name or pinyin initials"),
            }
        ),
    )
    to_customer = forms.IntegerField(
        label=_("Customer moved to"),
        min_value=1,
        max_value=MAX_ID,
        error_messages={
            "required": _("Pick the customer the contact has moved to."),
            "invalid": _("No such customer, or you may not read its archive."),
            "min_value": _("No such customer, or you may not read its archive."),
            "max_value": _("No such customer, or you may not read its archive."),
        },
    )
    title = forms.CharField(
        label=_("Title at the new customer"),
        required=False,
        max_length=50,
        help_text=_("Leave empty to keep the current title."),
    )

    def __init__(self, *args: Any, search_url: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Matches while typing (htmx); without JavaScript the "Find" button does the same.
        self.fields["q"].widget.attrs.update(
            {
                "hx-get": search_url,
                "hx-trigger": "input changed delay:300ms, search",
                "hx-target": "#contact-move-candidates",
                "hx-sync": "this:replace",
            }
        )


class ContactActiveForm(forms.Form):
    """停用 / 启用 a contact: the state asked for, so that a repeated request does not flip it back."""

    active = forms.TypedChoiceField(choices=[("0", "0"), ("1", "1")], coerce=lambda value: value == "1")


class MajorEventForm(TablerFormMixin, forms.Form):
    occurred_on = forms.DateField(
        label=_("Date"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    title = forms.CharField(label=_("Event"), max_length=200)
    description = forms.CharField(
        label=_("Description"), required=False, max_length=5000, widget=forms.Textarea(attrs={"rows": 3})
    )


# --- Access requests (ARC-6) -------------------------------------------------------------------------


class AccessRequestForm(TablerFormMixin, forms.Form):
    """查阅档案审批: the archive by its code or exact full name, and why."""

    code = forms.CharField(label=_("Customer code"), required=False, max_length=40)
    name = forms.CharField(
        label=_("Or the customer's exact full name"),
        required=False,
        max_length=200,
        widget=forms.TextInput(attrs={"placeholder": _("e.g. 上海申江精密机械有限公司")}),
    )
    reason = forms.CharField(
        label=_("Reason"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 4, "placeholder": _("What you need the archive for.")}),
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if bool((data.get("code") or "").strip()) == bool((data.get("name") or "").strip()):
            self.add_error("code", _("Give either the customer code or the exact full name."))
        return data


class AccessDecisionForm(TablerFormMixin, forms.Form):
    days = forms.IntegerField(
        label=_("Access for (days)"), min_value=1, max_value=3650, required=False, initial=7
    )
    note = forms.CharField(
        label=_("Note"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Required when rejecting; the requester reads it."),
    )


# --- Import wizard (ARC-11) ----------------------------------------------------------------------------


class ImportUploadForm(TablerFormMixin, forms.Form):
    file = forms.FileField(
        label=_("File"),
        help_text=_("An .xlsx or .csv file, the first row holding the column names of the template."),
        widget=forms.ClearableFileInput(attrs={"accept": ".xlsx,.csv"}),
    )
    kind = forms.ChoiceField(
        label=_("What the file holds"), choices=ImportJob.Kind.choices, initial="customers"
    )
    mode = forms.ChoiceField(label=_("Mode"), choices=ImportJob.Mode.choices, initial="create")
    match_key = forms.ChoiceField(
        label=_("Match existing customers on"),
        required=False,
        choices=[
            ("code", _("Customer code")),
            ("credit_code", _("Unified social credit code")),
            ("name_phone", _("Name and phone")),
        ],
        help_text=_("For updates. Contacts always match on name and mobile."),
    )
    skip_invalid = forms.BooleanField(
        label=_("Skip bad rows"),
        required=False,
        help_text=_("Otherwise one bad row and nothing is imported (all or nothing)."),
    )
